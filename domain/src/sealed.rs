//! Personal data as the event log holds it: ciphertext the domain never reads. Only the application
//! layer, with the owner's key, can open it; once that key is destroyed nobody can.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    /// The AEAD nonce, hex.
    pub nonce: String,
    /// The ciphertext with its tag, hex.
    pub ciphertext: String,
}
