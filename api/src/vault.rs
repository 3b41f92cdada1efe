//! Personal data under lock: each owner's personal data (a participant's identity, a sole trader's
//! organisation number) is encrypted with a key of its own (XChaCha20-Poly1305), and that key is
//! kept, wrapped by the key-encryption key (KEK) from configuration, in `personal_data_keys`, outside
//! the event log. Erasure deletes the wrapped key: the ciphertext in the log stays, and nobody can
//! open it again (crypto-shredding, GDPR art. 17).
//!
//! Both encryptions bind the owner's id as associated data, so a sealed value or a wrapped key copied
//! onto another owner does not open. Nothing here logs or echoes personal data:
//! errors say what failed, never with what.

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use konsortium_domain::participant::Sealed;
use konsortium_projections::{on_db, on_tx, Db, DbError, Tx};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;

/// Bytes of a key (256 bits) and of an XChaCha20 nonce.
const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 24;

/// Who a participant is: everything here is personal data and is only ever stored sealed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonalData {
    pub name: String,
    /// Twelve digits.
    pub personnummer: String,
    pub year_of_birth: i32,
    /// The authority that referred the person (Arbetsförmedlingen, socialtjänsten, …).
    pub referring_authority: String,
}

/// Never prints the data: a `{:?}` in a log line or an idempotency fingerprint must not leak it.
impl std::fmt::Debug for PersonalData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PersonalData(..)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("the key-encryption key must be {KEY_BYTES} bytes written as {} hex digits", KEY_BYTES * 2)]
    BadKek,
    #[error("could not read or create the key-encryption key file at {path}: {source}")]
    KeyFile { path: String, source: std::io::Error },
    #[error("sealed personal data or its key is damaged or belongs to another participant")]
    Damaged,
    #[error("personal data could not be encoded: {0}")]
    Encode(#[from] serde_json::Error),
}

/// The key-encryption key, and sealing and opening with it.
#[derive(Clone)]
pub struct Vault {
    kek: XChaCha20Poly1305,
    /// Keys fingerprints of requests that carry personal data (see [`Vault::fingerprint`]).
    pepper: [u8; KEY_BYTES],
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault(..)")
    }
}

impl Vault {
    /// A KEK of 64 hex digits (from `KONSORTIUM_KEK` or a key file).
    pub fn from_hex(text: &str) -> Result<Vault, VaultError> {
        let bytes = hex::decode(text.trim()).map_err(|_| VaultError::BadKek)?;
        let key: [u8; KEY_BYTES] = bytes.try_into().map_err(|_| VaultError::BadKek)?;
        Ok(Vault::from_key(key))
    }

    fn from_key(key: [u8; KEY_BYTES]) -> Vault {
        let pepper: [u8; KEY_BYTES] = Sha256::digest([b"konsortium-fingerprint:".as_slice(), &key].concat()).into();
        Vault { kek: XChaCha20Poly1305::new(&key.into()), pepper }
    }

    /// A fresh random KEK, for tests and processes that never open what they seal afterwards.
    pub fn random() -> Vault {
        Vault::from_key(XChaCha20Poly1305::generate_key(&mut OsRng).into())
    }

    /// The KEK in `path`, created at random on first use (like the token key beside the SQLite
    /// file), so `cargo run` works with nothing configured. Losing this file loses every identity.
    pub fn from_file(path: &Path) -> Result<Vault, VaultError> {
        let key_error = |source| VaultError::KeyFile { path: path.display().to_string(), source };
        if !path.exists() {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(key_error)?;
            }
            let key = XChaCha20Poly1305::generate_key(&mut OsRng);
            crate::auth::write_private(path, &hex::encode(key)).map_err(key_error)?;
            tracing::info!(path = %path.display(), "created a new key-encryption key for personal data");
        }
        Vault::from_hex(&std::fs::read_to_string(path).map_err(key_error)?)
    }

    /// Encrypts an owner's personal data under a new key of its own; returns the sealed data (for the
    /// event) and the key wrapped by the KEK (for `personal_data_keys`).
    pub fn seal(&self, owner_id: &str, data: &impl Serialize) -> Result<(Sealed, String), VaultError> {
        let participant_id = owner_id;
        let key = XChaCha20Poly1305::generate_key(&mut OsRng);
        let plain = serde_json::to_vec(data)?;
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ciphertext = XChaCha20Poly1305::new(&key)
            .encrypt(&nonce, Payload { msg: &plain, aad: participant_id.as_bytes() })
            .map_err(|_| VaultError::Damaged)?;
        let wrap_nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let wrapped = self
            .kek
            .encrypt(&wrap_nonce, Payload { msg: key.as_slice(), aad: participant_id.as_bytes() })
            .map_err(|_| VaultError::Damaged)?;
        let sealed = Sealed { nonce: hex::encode(nonce), ciphertext: hex::encode(ciphertext) };
        Ok((sealed, hex::encode([wrap_nonce.as_slice(), &wrapped].concat())))
    }

    /// Opens sealed personal data with its wrapped key.
    pub fn open<T: DeserializeOwned>(&self, owner_id: &str, sealed: &Sealed, wrapped: &str) -> Result<T, VaultError> {
        let aad = owner_id.as_bytes();
        let wrapped = hex::decode(wrapped).map_err(|_| VaultError::Damaged)?;
        if wrapped.len() <= NONCE_BYTES {
            return Err(VaultError::Damaged);
        }
        let (wrap_nonce, wrapped) = wrapped.split_at(NONCE_BYTES);
        let key = self
            .kek
            .decrypt(XNonce::from_slice(wrap_nonce), Payload { msg: wrapped, aad })
            .map_err(|_| VaultError::Damaged)?;
        let key: [u8; KEY_BYTES] = key.try_into().map_err(|_| VaultError::Damaged)?;
        let nonce = hex::decode(&sealed.nonce).ok().filter(|n| n.len() == NONCE_BYTES).ok_or(VaultError::Damaged)?;
        let ciphertext = hex::decode(&sealed.ciphertext).map_err(|_| VaultError::Damaged)?;
        let plain = XChaCha20Poly1305::new(&key.into())
            .decrypt(XNonce::from_slice(&nonce), Payload { msg: &ciphertext, aad })
            .map_err(|_| VaultError::Damaged)?;
        serde_json::from_slice(&plain).map_err(|_| VaultError::Damaged)
    }

    /// A keyed digest of text that holds personal data, for an idempotency fingerprint: a plain hash
    /// of a personnummer could be reversed by trying every number, this one only with the KEK.
    pub fn fingerprint(&self, text: &str) -> String {
        hex::encode(Sha256::digest([self.pepper.as_slice(), text.as_bytes()].concat()))
    }
}

/// Keeps an owner's wrapped key, in the transaction that stores their registration.
pub async fn store_key(tx: &mut Tx, owner_id: &str, wrapped: &str) -> Result<(), sqlx::Error> {
    let now =
        time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO personal_data_keys (owner_id, wrapped_key, created_at) VALUES ($1, $2, $3)",
    )
    .bind(owner_id)
    .bind(wrapped)
    .bind(now)
    .execute(conn)
    .await
    .map(|_| ()))
}

/// Destroys an owner's key, in the transaction that stores their erasure.
pub async fn destroy_key(tx: &mut Tx, owner_id: &str) -> Result<(), sqlx::Error> {
    on_tx!(tx, conn => sqlx::query("DELETE FROM personal_data_keys WHERE owner_id = $1")
        .bind(owner_id)
        .execute(conn)
        .await
        .map(|_| ()))
}

/// An owner's wrapped key; `None` once erased.
pub async fn find_key(db: &Db, owner_id: &str) -> Result<Option<String>, DbError> {
    let row: Option<(String,)> = on_db!(db, pool => sqlx::query_as(
        "SELECT wrapped_key FROM personal_data_keys WHERE owner_id = $1",
    )
    .bind(owner_id)
    .fetch_optional(pool)
    .await)?;
    Ok(row.map(|(wrapped,)| wrapped))
}

/// After a key is deleted: SQLite (with `secure_delete` on) has zeroed it in its page, but the page
/// as it was may still sit in the write-ahead log; a truncating checkpoint writes the log back and
/// empties it. PostgreSQL keeps a deleted row's bytes until vacuum reuses the space; no dump or query
/// shows it, and the wrapped key is useless without the KEK.
pub async fn scrub(db: &Db) -> Result<(), DbError> {
    if let Db::Sqlite(pool) = db {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(pool).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anna() -> PersonalData {
        PersonalData {
            name: "Anna Andersson".into(),
            personnummer: "198503121239".into(),
            year_of_birth: 1985,
            referring_authority: "Arbetsförmedlingen".into(),
        }
    }

    #[test]
    fn a_sealed_identity_opens_with_its_key_and_only_for_its_participant() {
        let vault = Vault::random();
        let (sealed, wrapped) = vault.seal("p-1", &anna()).unwrap_or_else(|e| panic!("{e}"));
        assert!(!sealed.ciphertext.contains(&hex::encode("Anna")));
        assert_eq!(vault.open::<PersonalData>("p-1", &sealed, &wrapped).ok(), Some(anna()));
        assert!(matches!(vault.open::<PersonalData>("p-2", &sealed, &wrapped), Err(VaultError::Damaged)));
        assert!(matches!(Vault::random().open::<PersonalData>("p-1", &sealed, &wrapped), Err(VaultError::Damaged)));
    }

    #[test]
    fn debug_output_shows_no_personal_data() {
        assert_eq!(format!("{:?}", anna()), "PersonalData(..)");
    }

    #[test]
    fn a_kek_must_be_32_bytes_of_hex() {
        assert!(Vault::from_hex(&"ab".repeat(32)).is_ok());
        assert!(matches!(Vault::from_hex("abc"), Err(VaultError::BadKek)));
        assert!(matches!(Vault::from_hex(&"zz".repeat(32)), Err(VaultError::BadKek)));
    }
}
