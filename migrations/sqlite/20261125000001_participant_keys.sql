-- Each participant's data key, wrapped by the key-encryption key; kept outside the event log so that
-- deleting a row erases the person (crypto-shredding). Never holds personal data in clear.
CREATE TABLE participant_keys
(
    participant_id text NOT NULL PRIMARY KEY,
    wrapped_key    text NOT NULL,
    created_at     text NOT NULL
) STRICT;

-- Every read of a participant's personal data: who, when, through which request.
CREATE TABLE personal_data_reads
(
    id             integer PRIMARY KEY AUTOINCREMENT,
    participant_id text    NOT NULL,
    subject        text    NOT NULL,
    role           text    NOT NULL,
    request_id     text    NOT NULL,
    read_at        text    NOT NULL
) STRICT;
CREATE INDEX personal_data_reads_participant ON personal_data_reads (participant_id, read_at);
CREATE INDEX personal_data_reads_subject ON personal_data_reads (subject, read_at);
