-- The data key of each owner of personal data (a participant, or a member that is a sole trader),
-- wrapped by the key-encryption key; kept outside the event log so that deleting a row erases the
-- person (crypto-shredding). Never holds personal data in clear.
CREATE TABLE personal_data_keys
(
    owner_id text PRIMARY KEY,
    wrapped_key    text NOT NULL,
    created_at     text NOT NULL
);

-- Every read of personal data: whose (Participant or Member, by id), who read it, when, through which request.
CREATE TABLE personal_data_reads
(
    id             bigserial PRIMARY KEY,
    owner_type     text NOT NULL,
    owner_id       text NOT NULL,
    subject        text NOT NULL,
    role           text NOT NULL,
    request_id     text NOT NULL,
    read_at        text NOT NULL
);
CREATE INDEX personal_data_reads_owner ON personal_data_reads (owner_id, read_at);
CREATE INDEX personal_data_reads_subject ON personal_data_reads (subject, read_at);
