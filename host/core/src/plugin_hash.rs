//! A plugin's identity: the sha256 of its component bytes. What the store
//! keys plugins by, what the runtime loads by, and what every decision
//! records.

use sha2::{Digest, Sha256};
use std::fmt;

/// A plugin's identity: the sha256 of its component bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PluginHash(pub [u8; 32]);

impl PluginHash {
    /// The hash of `bytes`.
    pub fn of(bytes: &[u8]) -> PluginHash {
        PluginHash(Sha256::digest(bytes).into())
    }

    /// Lower-case hex, 64 characters.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 64 hex characters.
    pub fn from_hex(s: &str) -> Option<PluginHash> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).ok()?;
        Some(PluginHash(out))
    }
}

impl fmt::Display for PluginHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for PluginHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PluginHash({})", &self.to_hex()[..12])
    }
}

impl serde::Serialize for PluginHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}
