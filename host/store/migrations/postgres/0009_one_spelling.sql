-- One spelling per case, the same as the API's and the WIT's (kebab case):
-- deal sources were stored as Rust names (PartnerSourced), partner kinds,
-- tiers, line kinds and tier changes capitalized (Referral, Gold, Fee,
-- Promote), and an offboarded partner as 'terminated'.
ALTER TABLE deals DROP CONSTRAINT IF EXISTS deals_source_check;
UPDATE deals SET source = CASE source WHEN 'PartnerSourced' THEN 'partner-sourced'
                                      WHEN 'PartnerInfluenced' THEN 'partner-influenced'
                                      WHEN 'Direct' THEN 'direct'
                                      ELSE source END
WHERE source IN ('PartnerSourced', 'PartnerInfluenced', 'Direct');
ALTER TABLE deals ADD CONSTRAINT deals_source_check
    CHECK (source IN ('partner-sourced', 'partner-influenced', 'direct'));

ALTER TABLE partners DROP CONSTRAINT IF EXISTS partners_status_check;
UPDATE partners SET status = 'offboarded' WHERE status = 'terminated';
ALTER TABLE partners ADD CONSTRAINT partners_status_check CHECK (status IN ('active', 'suspended', 'offboarded'));
UPDATE partners SET kind = lower(kind), tier = lower(tier) WHERE kind <> lower(kind) OR tier <> lower(tier);

UPDATE commission_lines SET kind = lower(kind) WHERE kind <> lower(kind);
UPDATE scorecards SET tier_before = lower(tier_before), tier_after = lower(tier_after), change = lower(change)
WHERE change <> lower(change) OR tier_after <> lower(tier_after) OR tier_before <> lower(tier_before);
