-- A client's retry of a mutation with the same key returns the first answer and writes nothing.
-- Written in the same transaction as the mutation's events, so a key is stored if and only if its
-- events are; per subject, so one caller's key never answers another's request.
CREATE TABLE idempotency_keys
(
    subject     TEXT NOT NULL,
    key         TEXT NOT NULL,
    -- The use case and its input, hashed: the same key with other input is a conflict.
    fingerprint TEXT NOT NULL,
    -- The first answer, as JSON.
    answer      TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (subject, key)
);
