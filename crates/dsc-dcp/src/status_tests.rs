// SPDX-License-Identifier: Apache-2.0
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use dsc_domain::ManualClock;
use serde_json::json;

use super::*;
use crate::credential::Profile;

/// The reference's test vector: 131,072 bits with only bit 94567 set.
const REFERENCE_LIST: &str = "uH4sIAAAAAAAC_-3QAQ0AAAwCIO1f2hz_IAIJAAAAAAAAAAAAAADfVAEAAADAOQNQdb5gAEAAAA";

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap_or_else(|e| panic!("{e}"));
    encoder.finish().unwrap_or_else(|e| panic!("{e}"))
}

/// A 16 KiB list (the spec minimum) with the given bits set, multibase base64url.
fn encoded_list(set: &[u64]) -> String {
    let mut bits = vec![0u8; 16 * 1024];
    for index in set {
        bits[(index / 8) as usize] |= 0x80 >> (index % 8);
    }
    format!("u{}", URL_SAFE_NO_PAD.encode(gzip(&bits)))
}

#[test]
fn the_reference_vector_has_exactly_bit_94567_set_msb_first() {
    let list = decode_bitstring(REFERENCE_LIST).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(list.len() * 8, 131_072);
    assert_eq!(bit_at(&list, 94_567), Ok(true));
    assert_eq!(list[94_567 / 8], 0x01, "bit 7 of the byte is its least significant bit");
    assert_eq!(bit_at(&list, 94_566), Ok(false));
    assert_eq!(bit_at(&list, 0), Ok(false));
    assert_eq!(bit_at(&list, 131_072), Err("index 131072 is beyond the list's 131072 bits".to_string()));
}

#[test]
fn both_base64_alphabets_decode_with_or_without_padding() {
    let compressed = gzip(&[0x80, 0x00]);
    for encoded in [STANDARD.encode(&compressed), URL_SAFE_NO_PAD.encode(&compressed)] {
        let list = decode_bitstring(&encoded).unwrap_or_else(|e| panic!("{encoded}: {e}"));
        assert_eq!((bit_at(&list, 0), bit_at(&list, 1)), (Ok(true), Ok(false)));
    }
    assert_eq!(
        decode_bitstring("u!!").err().as_deref(),
        Some("encodedList is not base64url: Invalid symbol 33, offset 0.")
    );
    let not_gzip = URL_SAFE_NO_PAD.encode(b"plain bytes");
    assert!(decode_bitstring(&not_gzip).is_err_and(|e| e.starts_with("encodedList is not GZIP")));
}

#[test]
fn a_decompression_bomb_is_refused() {
    let bomb = format!("u{}", URL_SAFE_NO_PAD.encode(gzip(&vec![0u8; MAX_LIST_BYTES as usize + 1])));
    assert_eq!(decode_bitstring(&bomb).err(), Some(format!("the list exceeds {MAX_LIST_BYTES} bytes")));
}

#[test]
fn status_entries_of_both_kinds_parse_and_unknown_kinds_are_skipped() {
    let entry = json!({"id": "https://issuer.example/status/1#42", "type": "StatusList2021Entry",
        "statusPurpose": "revocation", "statusListIndex": "42", "statusListCredential": "https://issuer.example/status/1"});
    let parsed = StatusEntry::parse(&entry).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(parsed.map(|e| (e.index, e.purpose)), Some((42, "revocation".to_string())));
    let numeric = json!({"type": "BitstringStatusListEntry", "statusPurpose": "suspension", "statusListIndex": 7,
        "statusListCredential": "https://x"});
    assert_eq!(StatusEntry::parse(&numeric).map(|e| e.map(|e| e.index)), Ok(Some(7)));
    assert_eq!(StatusEntry::parse(&json!({"type": "RevocationList2020Status"})), Ok(None));
    for (entry, why) in [
        (json!({}), "an entry has no type"),
        (
            json!({"type": "StatusList2021Entry", "statusListIndex": "-1"}),
            "StatusList2021Entry has no non-negative statusListIndex",
        ),
        (json!({"type": "StatusList2021Entry", "statusListIndex": "1"}), "StatusList2021Entry has no statusPurpose"),
        (
            json!({"type": "BitstringStatusListEntry", "statusListIndex": "1", "statusSize": 2}),
            "a statusSize other than 1 is not supported",
        ),
    ] {
        assert_eq!(StatusEntry::parse(&entry), Err(why.to_string()));
    }
}

struct Fetcher {
    body: Mutex<String>,
    calls: AtomicUsize,
}

#[async_trait]
impl StatusListFetcher for Fetcher {
    async fn fetch(&self, _url: &str) -> Result<String, String> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let body = self.body.lock().map(|b| b.clone()).unwrap_or_default();
        if body.is_empty() { Err("HTTP 404".into()) } else { Ok(body) }
    }
}

fn list_credential(purpose: &str, set: &[u64]) -> String {
    json!({"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": "did:web:issuer.example", "validUntil": "2030-01-01T00:00:00Z",
        "credentialSubject": {"type": "BitstringStatusList", "statusPurpose": purpose, "encodedList": encoded_list(set)}})
    .to_string()
}

fn credential_with(entries: Vec<StatusEntry>) -> Credential {
    Credential {
        id: Some("urn:uuid:1".into()),
        types: vec!["VerifiableCredential".into(), "MembershipCredential".into()],
        issuer: "did:web:issuer.example".into(),
        subjects: Vec::new(),
        valid_from: None,
        valid_until: None,
        status: entries,
        schemas: Vec::new(),
        profile: Profile::Vc20BsslJwt,
    }
}

fn entry(purpose: &str, index: u64) -> StatusEntry {
    StatusEntry {
        kind: "BitstringStatusListEntry".into(),
        purpose: purpose.into(),
        index,
        list_url: "https://issuer.example/bsl/3".into(),
    }
}

fn error_text(result: Result<(), DcpError>) -> String {
    result.err().map(|e| e.to_string()).unwrap_or_else(|| "accepted".into())
}

#[tokio::test]
async fn revoked_and_suspended_bits_refuse_the_credential_and_lists_are_cached_for_the_ttl() {
    let fetcher =
        Arc::new(Fetcher { body: Mutex::new(list_credential("revocation", &[5])), calls: AtomicUsize::new(0) });
    let clock = ManualClock::starting_at(1_767_225_600_000);
    let cache = StatusListCache::new(fetcher.clone(), clock.clone(), Duration::from_secs(900));

    assert_eq!(error_text(cache.check(&credential_with(vec![entry("revocation", 4)])).await), "accepted");
    assert_eq!(
        error_text(cache.check(&credential_with(vec![entry("revocation", 5)])).await),
        "credential urn:uuid:1 (MembershipCredential): revoked"
    );
    assert_eq!(fetcher.calls.load(Ordering::SeqCst), 1, "the second check used the cached list");
    assert_eq!(
        error_text(cache.check(&credential_with(vec![entry("suspension", 5)])).await),
        "credential urn:uuid:1 (MembershipCredential): status 'https://issuer.example/bsl/3' could not be checked: \
         the list is for revocation, not suspension"
    );
    assert_eq!(error_text(cache.check(&credential_with(vec![entry("refresh", 5)])).await), "accepted");

    // The issuer now suspends bit 4 on a suspension list; the cached list is used until the TTL runs out.
    *fetcher.body.lock().unwrap_or_else(|e| e.into_inner()) = list_credential("suspension", &[4]);
    clock.advance(899_000);
    assert!(cache.list("https://issuer.example/bsl/3").await.is_ok_and(|l| l.purpose == "revocation"));
    clock.advance(1_000);
    assert_eq!(
        error_text(cache.check(&credential_with(vec![entry("suspension", 4)])).await),
        "credential urn:uuid:1 (MembershipCredential): suspended"
    );
    assert_eq!(fetcher.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn an_unreachable_or_broken_list_refuses_the_credential() {
    let fetcher = Arc::new(Fetcher { body: Mutex::new(String::new()), calls: AtomicUsize::new(0) });
    let clock = ManualClock::starting_at(0);
    let cache = StatusListCache::new(fetcher.clone(), clock, Duration::from_secs(900));
    let prefix =
        "credential urn:uuid:1 (MembershipCredential): status 'https://issuer.example/bsl/3' could not be checked";
    let result = cache.check(&credential_with(vec![entry("revocation", 1)])).await;
    assert_eq!(error_text(result), format!("{prefix}: HTTP 404"));
    *fetcher.body.lock().unwrap_or_else(|e| e.into_inner()) = "{\"credentialSubject\": {}}".into();
    let result = cache.check(&credential_with(vec![entry("revocation", 1)])).await;
    assert_eq!(error_text(result), format!("{prefix}: no statusPurpose"));
    *fetcher.body.lock().unwrap_or_else(|e| e.into_inner()) = list_credential("revocation", &[]);
    let result = cache.check(&credential_with(vec![entry("revocation", 200_000)])).await;
    assert_eq!(error_text(result), format!("{prefix}: index 200000 is beyond the list's 131072 bits"));
}

#[tokio::test]
async fn an_expired_list_credential_is_fetched_again_and_jwt_lists_are_read() {
    let mut list: Value = serde_json::from_str(&list_credential("revocation", &[3])).unwrap_or_else(|e| panic!("{e}"));
    list["validUntil"] = json!("1970-01-01T00:00:10Z");
    let fetcher = Arc::new(Fetcher { body: Mutex::new(list.to_string()), calls: AtomicUsize::new(0) });
    let cache = StatusListCache::new(fetcher.clone(), ManualClock::starting_at(20_000), Duration::from_secs(900));
    for _ in 0..2 {
        assert!(cache.list("https://issuer.example/bsl/3").await.is_ok_and(|l| l.valid_until == Some(10)));
    }
    assert_eq!(fetcher.calls.load(Ordering::SeqCst), 2, "an expired list is never served from the cache");

    // The same list as a VC-JWT (`vc` claim), as IdentityHub serves it.
    let issuer = crate::testkit::party("issuer");
    let jwt =
        issuer.key.sign("JWT", &json!({"iss": issuer.did, "exp": 5, "vc": list})).unwrap_or_else(|e| panic!("{e}"));
    let parsed = StatusList::parse(&jwt).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((parsed.valid_until, bit_at(&parsed.bits, 3)), (Some(5), Ok(true)));
    assert_eq!(
        StatusList::parse("not json").err().as_deref(),
        Some("not a compact JWS (three non-empty dot-separated parts)")
    );
}
