// SPDX-License-Identifier: Apache-2.0
//! What the issuer remembers: the credentials it issued (metadata, not the credentials) and which status-list bits
//! are set. One JSON file, replaced atomically (written aside, then renamed), so a crash leaves the old or the new
//! state, never half of one.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::IssuerError;

/// The number of bits in the status list: 16 KiB, the minimum the status list specifications ask for, so that
/// one credential's bit does not stand out.
pub const LIST_BITS: u64 = 131_072;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssuedCredential {
    pub id: String,
    pub holder: String,
    pub types: Vec<String>,
    pub profile: String,
    pub status_list_index: u64,
    pub valid_from: i64,
    pub valid_until: i64,
    pub revoked: bool,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssuerState {
    pub next_index: u64,
    pub credentials: Vec<IssuedCredential>,
}

impl IssuerState {
    pub fn load(path: &Path) -> Result<Self, IssuerError> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| IssuerError::State(format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(IssuerState::default()),
            Err(e) => Err(IssuerError::State(format!("{}: {e}", path.display()))),
        }
    }

    pub fn save(&self, path: &Path) -> Result<(), IssuerError> {
        let fail = |e: std::io::Error| IssuerError::State(format!("{}: {e}", path.display()));
        let aside = PathBuf::from(format!("{}.tmp", path.display()));
        let text = serde_json::to_vec_pretty(self).map_err(|e| IssuerError::State(e.to_string()))?;
        std::fs::write(&aside, text).map_err(fail)?;
        std::fs::rename(&aside, path).map_err(fail)
    }

    /// A fresh status-list index; indexes are never reused, so reinstating one credential cannot revive another.
    pub fn allocate_index(&mut self) -> Result<u64, IssuerError> {
        if self.next_index >= LIST_BITS {
            return Err(IssuerError::ListFull(LIST_BITS));
        }
        let index = self.next_index;
        self.next_index += 1;
        Ok(index)
    }

    /// The status list: bit `i` (most significant bit first) set when the credential at index `i` is revoked.
    pub fn bits(&self) -> Vec<u8> {
        let mut bits = vec![0u8; (LIST_BITS / 8) as usize];
        for credential in self.credentials.iter().filter(|c| c.revoked) {
            if let Some(byte) = bits.get_mut((credential.status_list_index / 8) as usize) {
                *byte |= 0x80 >> (credential.status_list_index % 8);
            }
        }
        bits
    }
}
