-- Conversion rates a company supplies per month for a program in several
-- currencies (issue 16): how many units of the program's currency one unit
-- of another is worth, in millionths (1.0842 is 1084200). Tiers and program
-- revenue convert the other currencies' deals with them; nothing is
-- fetched from a rate service.
CREATE TABLE fx_rates (
    tenant          TEXT NOT NULL REFERENCES tenants(slug),
    period          TEXT NOT NULL,
    currency        TEXT NOT NULL,
    micros          BIGINT NOT NULL CHECK (micros > 0),
    PRIMARY KEY (tenant, period, currency)
);
