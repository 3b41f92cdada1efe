//! Who is calling: bearer tokens (HS256 JWTs) carrying a role and a scope.
//!
//! Three kinds of users share one API. Consortium `staff` see and change everything; a `member`
//! enterprise sees and reports on its own places only; a `buyer` (a municipality) reads its own
//! agreements, aggregated. The scope travels in the signed token, so a member cannot widen it by
//! asking for another member's id: every use case compares the id it acts on with the scope.

use hmac::{Hmac, Mac};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use konsortium_domain::org_number::OrgNumber;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::time::Duration;

/// The token issuer; a token from anywhere else is refused.
const ISSUER: &str = "konsortium";
/// Shortest secret accepted from configuration: HS256 needs 256 bits.
const MIN_SECRET_BYTES: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Consortium staff: everything.
    Staff,
    /// A member enterprise: its own record, allocations, places and reports.
    Member,
    /// A public buyer: its own agreements, aggregated, never a participant.
    Buyer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Staff => "staff",
            Role::Member => "member",
            Role::Buyer => "buyer",
        }
    }
}

/// What a caller may see and touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Staff.
    Everything,
    /// One member enterprise, by member id.
    Member(String),
    /// One buyer, by organisation number.
    Buyer(OrgNumber),
}

/// The signed claims.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Claims {
    sub: String,
    role: Role,
    iss: String,
    iat: i64,
    exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    member: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    buyer: Option<String>,
}

/// A verified caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub subject: String,
    pub role: Role,
    pub scope: Scope,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("no bearer token: send `Authorization: Bearer <token>` (mint one with `konsortium token`)")]
    Missing,
    #[error("the token has expired; mint a new one")]
    Expired,
    #[error("the token is not valid: {0}")]
    Invalid(String),
    #[error("a {role} token needs its scope: {needs}")]
    ScopeMissing { role: &'static str, needs: &'static str },
    #[error("the signing key is too short: at least {MIN_SECRET_BYTES} bytes are needed")]
    WeakSecret,
    #[error("could not read or create the signing key at {path}: {source}")]
    KeyFile { path: String, source: std::io::Error },
    #[error("could not sign the token: {0}")]
    Sign(String),
}

/// The key tokens are signed and checked with.
#[derive(Clone)]
pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    /// Derived from the token secret, so the web pages' cookies need no key of their own to
    /// configure, and a MAC made for a cookie can never pass as a token signature.
    mac_key: [u8; 32],
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(..)")
    }
}

impl Keys {
    pub fn from_secret(secret: &[u8]) -> Result<Keys, AuthError> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(AuthError::WeakSecret);
        }
        // Only HS256, from this issuer, with an expiry: a token signed with another algorithm (or
        // `none`) is refused before its claims are read.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.leeway = 5;
        let mac_key = Sha256::new().chain_update(b"konsortium web pages\0").chain_update(secret).finalize().into();
        Ok(Keys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            mac_key,
        })
    }

    /// An HMAC-SHA256 of `data` for one `purpose` (a session cookie, a form's CSRF token): a tag for
    /// one purpose is never valid for another.
    pub fn mac(&self, purpose: &str, data: &[u8]) -> [u8; 32] {
        self.mac_of(purpose, data).finalize().into_bytes().into()
    }

    /// Whether `tag` is the MAC of `data` for `purpose`, compared in constant time.
    pub fn verify_mac(&self, purpose: &str, data: &[u8], tag: &[u8]) -> bool {
        self.mac_of(purpose, data).verify_slice(tag).is_ok()
    }

    fn mac_of(&self, purpose: &str, data: &[u8]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.mac_key)
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(data);
        mac
    }

    /// A fresh random key, for a process that only checks the tokens it mints itself (tests).
    pub fn random() -> Keys {
        let secret = random_secret();
        Keys::from_secret(secret.as_bytes()).unwrap_or_else(|_| unreachable!("a random secret is 64 characters"))
    }

    /// The key in `path`, created with a random secret on first use: the embedded default works with
    /// nothing configured, and tokens survive a restart.
    pub fn from_file(path: &Path) -> Result<Keys, AuthError> {
        let key_error = |source| AuthError::KeyFile { path: path.display().to_string(), source };
        if !path.exists() {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(key_error)?;
            }
            write_private(path, &random_secret()).map_err(key_error)?;
            tracing::info!(path = %path.display(), "created a new token signing key");
        }
        let secret = std::fs::read_to_string(path).map_err(key_error)?;
        Keys::from_secret(secret.trim().as_bytes())
    }

    /// Signs a token for a caller, valid for `ttl`.
    pub fn mint(&self, principal: &Principal, ttl: Duration) -> Result<String, AuthError> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let ttl = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX);
        self.mint_until(principal, now.saturating_add(ttl))
    }

    /// Signs a token that expires at `expires` (Unix seconds), in the past too: how a test shows
    /// what an expired sign-in link does.
    pub fn mint_until(&self, principal: &Principal, expires: i64) -> Result<String, AuthError> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let (member, buyer) = match &principal.scope {
            Scope::Everything => (None, None),
            Scope::Member(id) => (Some(id.clone()), None),
            Scope::Buyer(org) => (None, Some(org.digits().to_string())),
        };
        let claims = Claims {
            sub: principal.subject.clone(),
            role: principal.role,
            iss: ISSUER.into(),
            iat: now.min(expires),
            exp: expires,
            member,
            buyer,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(|e| AuthError::Sign(e.to_string()))
    }

    /// Checks a token's signature, algorithm, issuer and expiry, and that its role has its scope.
    pub fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let claims = decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => AuthError::Expired,
                _ => AuthError::Invalid(e.to_string()),
            })?
            .claims;
        principal(claims.sub, claims.role, claims.member, claims.buyer.as_deref())
    }
}

/// A caller from its parts, checking that a member has a member id and a buyer an org number.
pub fn principal(
    subject: String,
    role: Role,
    member: Option<String>,
    buyer: Option<&str>,
) -> Result<Principal, AuthError> {
    let scope = match role {
        Role::Staff => Scope::Everything,
        Role::Member => Scope::Member(
            member
                .filter(|m| !m.trim().is_empty())
                .ok_or(AuthError::ScopeMissing { role: "member", needs: "--member ID" })?,
        ),
        Role::Buyer => {
            let org = buyer.ok_or(AuthError::ScopeMissing { role: "buyer", needs: "--buyer ORGNR" })?;
            Scope::Buyer(OrgNumber::parse(org).map_err(|e| AuthError::Invalid(e.to_string()))?)
        }
    };
    Ok(Principal { subject, role, scope })
}

/// The bearer token of an `Authorization` header value.
pub fn bearer(header: Option<&str>) -> Result<&str, AuthError> {
    let value = header.ok_or(AuthError::Missing)?.trim();
    let (scheme, token) = value.split_once(' ').ok_or(AuthError::Missing)?;
    match scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() {
        true => Ok(token.trim()),
        false => Err(AuthError::Missing),
    }
}

/// Parses `8h`, `30m`, `90s` or `2d`.
pub fn parse_ttl(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| format!("a duration is written like 8h or 30m, got {text:?}"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" | "" => 3_600,
        "d" => 86_400,
        _ => return Err(format!("unknown unit {unit:?}: use s, m, h or d")),
    };
    number.checked_mul(seconds).map(Duration::from_secs).ok_or_else(|| format!("{text} is too long"))
}

fn random_secret() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

pub(crate) fn write_private(path: &Path, secret: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(secret.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staff() -> Principal {
        Principal { subject: "anna@konsortiet.se".into(), role: Role::Staff, scope: Scope::Everything }
    }

    #[test]
    fn a_minted_token_verifies_to_the_same_caller() {
        let keys = Keys::random();
        let token = keys.mint(&staff(), Duration::from_secs(3_600)).unwrap_or_default();
        assert_eq!(keys.verify(&token).ok(), Some(staff()));
    }

    #[test]
    fn a_token_signed_with_another_key_or_expired_is_refused() {
        let token = Keys::random().mint(&staff(), Duration::from_secs(3_600)).unwrap_or_default();
        assert!(matches!(Keys::random().verify(&token), Err(AuthError::Invalid(_))));
        let keys = Keys::random();
        let an_hour_ago = time::OffsetDateTime::now_utc().unix_timestamp() - 3_600;
        let claims = Claims {
            sub: "anna".into(),
            role: Role::Staff,
            iss: ISSUER.into(),
            iat: an_hour_ago - 60,
            exp: an_hour_ago,
            member: None,
            buyer: None,
        };
        let expired = encode(&Header::new(Algorithm::HS256), &claims, &keys.encoding).unwrap_or_default();
        assert!(matches!(keys.verify(&expired), Err(AuthError::Expired)), "{:?}", keys.verify(&expired));
    }

    #[test]
    fn an_unsigned_token_is_refused() {
        let keys = Keys::random();
        // {"alg":"none"} . {"sub":"x","role":"staff","iss":"konsortium","iat":0,"exp":9999999999} .
        let none = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4Iiwicm9sZSI6InN0YWZmIiwiaXNzIjoia29uc29ydGl1bSIsImlhdCI6MCwiZXhwIjo5OTk5OTk5OTk5fQ.";
        assert!(keys.verify(none).is_err());
    }

    #[test]
    fn a_member_token_needs_its_member_and_a_buyer_token_its_org_number() {
        assert!(matches!(principal("x".into(), Role::Member, None, None), Err(AuthError::ScopeMissing { .. })));
        assert!(matches!(principal("x".into(), Role::Buyer, None, Some("212000-2412")), Err(AuthError::Invalid(_))));
        let buyer = principal("x".into(), Role::Buyer, None, Some("212000-2411")).map(|p| p.scope);
        assert!(matches!(buyer, Ok(Scope::Buyer(_))));
    }

    #[test]
    fn a_mac_is_valid_for_its_purpose_and_key_only() {
        let keys = Keys::random();
        let tag = keys.mac("session", b"abc");
        assert!(keys.verify_mac("session", b"abc", &tag));
        assert!(!keys.verify_mac("csrf", b"abc", &tag));
        assert!(!keys.verify_mac("session", b"abd", &tag));
        assert!(!Keys::random().verify_mac("session", b"abc", &tag));
    }

    #[test]
    fn durations_are_written_with_a_unit() {
        assert_eq!(parse_ttl("8h"), Ok(Duration::from_secs(8 * 3_600)));
        assert_eq!(parse_ttl("30m"), Ok(Duration::from_secs(1_800)));
        assert!(parse_ttl("8 weeks").is_err());
        assert!(parse_ttl("99999999999999999999d").is_err());
    }

    #[test]
    fn only_a_bearer_header_carries_a_token() {
        assert_eq!(bearer(Some("Bearer abc")).ok(), Some("abc"));
        assert!(bearer(Some("Basic abc")).is_err());
        assert!(bearer(None).is_err());
    }
}
