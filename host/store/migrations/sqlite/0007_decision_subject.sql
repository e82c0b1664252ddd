-- What each decision is about (the lead, registration, deal or partner id),
-- so a decision can be found from its subject and a batch of inserted
-- decisions matched back to theirs.
ALTER TABLE decisions ADD COLUMN subject TEXT;
