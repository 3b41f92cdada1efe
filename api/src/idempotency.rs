//! Idempotency keys: what a client's first request with a key answered, so a retry gets the same
//! answer and writes nothing new (DESIGN decision 8).

use konsortium_projections::{on_db, on_tx, Db, DbError, Tx};

/// One key's first answer.
#[derive(Debug, Clone)]
pub struct Record {
    pub subject: String,
    pub key: String,
    pub fingerprint: String,
    pub answer: String,
}

pub struct Stored {
    pub fingerprint: String,
    pub answer: String,
}

/// The first answer given to `subject` for `key`, if any.
pub async fn find(db: &Db, subject: &str, key: &str) -> Result<Option<Stored>, DbError> {
    let row: Option<(String, String)> = on_db!(db, pool => sqlx::query_as(
        "SELECT fingerprint, answer FROM idempotency_keys WHERE subject = $1 AND key = $2",
    )
    .bind(subject)
    .bind(key)
    .fetch_optional(pool)
    .await)?;
    Ok(row.map(|(fingerprint, answer)| Stored { fingerprint, answer }))
}

/// Records a key inside the transaction that stores the mutation's events.
pub async fn insert(tx: &mut Tx, record: &Record) -> Result<(), sqlx::Error> {
    let now =
        time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO idempotency_keys (subject, key, fingerprint, answer, recorded_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&record.subject)
    .bind(&record.key)
    .bind(&record.fingerprint)
    .bind(&record.answer)
    .bind(now)
    .execute(conn)
    .await
    .map(|_| ()))
}
