-- Lead acceptance (issue 16): a lead routed to a partner is offered to it
-- until `respond_by`; accepted, it moves on as the partner reports it
-- (contacted, qualified, converted, disqualified); declined or unanswered,
-- it is routed again without the partners already tried (`tried`, a JSON
-- list). Leads routed before this had no offer: they read as accepted (or
-- direct).
ALTER TABLE leads ADD COLUMN status TEXT NOT NULL DEFAULT 'accepted'
    CHECK (status IN ('offered', 'accepted', 'direct', 'contacted', 'qualified', 'converted', 'disqualified'));
UPDATE leads SET status = 'direct' WHERE destination = 'direct';
ALTER TABLE leads ADD COLUMN respond_by INTEGER;
ALTER TABLE leads ADD COLUMN accepted_at INTEGER;
ALTER TABLE leads ADD COLUMN first_contact_at INTEGER;
ALTER TABLE leads ADD COLUMN tried TEXT NOT NULL DEFAULT '[]';
ALTER TABLE leads ADD COLUMN status_note TEXT;
-- The scheduler's question: which offers ran out.
CREATE INDEX leads_offer_due ON leads (respond_by) WHERE status = 'offered';
-- When the lead was offered to its current partner: time to accept and
-- time to first contact run from it.
ALTER TABLE leads ADD COLUMN offered_at INTEGER;
-- The scorecard's lead numbers: leads accepted in the month, and the
-- average time from offer to acceptance and to first contact (seconds).
ALTER TABLE scorecards ADD COLUMN leads_accepted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE scorecards ADD COLUMN accept_avg_s INTEGER;
ALTER TABLE scorecards ADD COLUMN first_contact_avg_s INTEGER;
