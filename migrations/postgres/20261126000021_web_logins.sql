-- Sign-in links to the web pages that have been used: a link works once. The link's token is kept
-- only as its SHA-256, so this table cannot be used to sign in; the primary key makes a second use
-- (even at the same moment) fail.
CREATE TABLE web_logins
(
    token_hash text NOT NULL PRIMARY KEY,
    subject    text NOT NULL,
    used_at    text NOT NULL
);
