// SPDX-License-Identifier: Apache-2.0
//! Status-list credentials: StatusList2021 for `vc11-sl2021/jwt` credentials and Bitstring Status List for
//! `vc20-bssl/jwt` ones, both a GZIP-compressed bitstring in base64 (multibase `u` + base64url for the latter).

use std::io::Write;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use dsc_dcp::credential::{Profile, VCDM_11_CONTEXT, VCDM_20_CONTEXT};
use serde_json::{Value, json};

/// GZIP, then base64 (StatusList2021) or `u` + base64url (Bitstring Status List).
pub fn encode_list(bits: &[u8], profile: Profile) -> String {
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing into a Vec cannot fail.
    let _ = gzip.write_all(bits);
    let compressed = gzip.finish().unwrap_or_default();
    match profile {
        Profile::Vc11Sl2021Jwt => STANDARD.encode(compressed),
        Profile::Vc20BsslJwt => format!("u{}", URL_SAFE_NO_PAD.encode(compressed)),
    }
}

pub(crate) fn status_list_credential(profile: Profile, issuer: &str, url: &str, bits: &[u8], now: i64) -> Value {
    let date = chrono::DateTime::from_timestamp(now, 0)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default();
    let encoded = encode_list(bits, profile);
    match profile {
        Profile::Vc11Sl2021Jwt => json!({
            "@context": [VCDM_11_CONTEXT, "https://w3id.org/vc/status-list/2021/v1"],
            "id": url, "type": ["VerifiableCredential", "StatusList2021Credential"], "issuer": issuer,
            "issuanceDate": date,
            "credentialSubject": {"id": format!("{url}#list"), "type": "StatusList2021",
                "statusPurpose": "revocation", "encodedList": encoded},
        }),
        Profile::Vc20BsslJwt => json!({
            "@context": [VCDM_20_CONTEXT],
            "id": url, "type": ["VerifiableCredential", "BitstringStatusListCredential"], "issuer": issuer,
            "validFrom": date,
            "credentialSubject": {"id": format!("{url}#list"), "type": "BitstringStatusList",
                "statusPurpose": "revocation", "encodedList": encoded},
        }),
    }
}

#[cfg(test)]
mod tests {
    use dsc_dcp::status::{StatusList, bit_at};

    use super::*;

    #[test]
    fn lists_decode_as_verifiers_read_them() {
        let mut bits = vec![0u8; 16_384];
        bits[0] = 0b0010_0000;
        for profile in [Profile::Vc11Sl2021Jwt, Profile::Vc20BsslJwt] {
            let credential = status_list_credential(profile, "did:web:i", "http://i/status", &bits, 1_700_000_000);
            let list = StatusList::parse(&credential.to_string()).unwrap();
            assert_eq!(list.purpose, "revocation");
            assert!(bit_at(&list.bits, 2).unwrap(), "{profile:?}");
            assert!(!bit_at(&list.bits, 3).unwrap());
            assert_eq!(list.bits.len(), 16_384);
        }
    }
}
