-- A clawback is linked to the line it takes back (its `adjusts`), and that
-- line shows how much was taken back of it, kept with the clawback's write.
ALTER TABLE commission_lines ADD COLUMN clawed_back INTEGER NOT NULL DEFAULT 0;
