-- Protection extensions (issue 16): a partner asks for more days on an
-- approved registration's protection; a manager grants (the period is
-- extended) or refuses it. The latest request is kept on the registration.
ALTER TABLE registrations ADD COLUMN extension_days BIGINT;
ALTER TABLE registrations ADD COLUMN extension_reason TEXT;
ALTER TABLE registrations ADD COLUMN extension_status TEXT
    CHECK (extension_status IN ('requested', 'granted', 'refused'));
-- The managers' queue of requests.
CREATE INDEX registrations_extension_requested ON registrations (tenant, created_at) WHERE extension_status = 'requested';
