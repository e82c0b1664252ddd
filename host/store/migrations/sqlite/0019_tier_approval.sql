-- Tier changes approved by a partner manager (issue 16): with the
-- program's `tier-approval = true`, a scorecard's promotion or demotion is
-- not applied by the run but waits (`pending`) for a manager to approve or
-- reject it, with a reason. NULL: applied by the run (or no change).
ALTER TABLE scorecards ADD COLUMN tier_status TEXT CHECK (tier_status IN ('pending', 'approved', 'rejected'));
ALTER TABLE scorecards ADD COLUMN tier_note TEXT;
