// SPDX-License-Identifier: Apache-2.0
use std::collections::HashMap;

use dsc_domain::ManualClock;

use super::*;
use crate::testkit::{Party, documents, party};

pub(crate) const NOW: i64 = 1_767_225_600;
const YEAR: i64 = 365 * 24 * 3600;

pub(crate) fn membership_draft(holder: &str) -> CredentialDraft {
    let mut subject = Map::new();
    subject.insert("holderIdentifier".into(), json!("BPNL000000000001"));
    subject.insert("memberOf".into(), json!("Catena-X"));
    CredentialDraft {
        id: "urn:uuid:membership-1".into(),
        types: vec!["MembershipCredential".into()],
        holder: holder.into(),
        subject,
        valid_from: NOW - 10,
        valid_until: NOW + YEAR,
        status: Some(json!({"id": "https://issuer.example/status/1#42", "type": "StatusList2021Entry",
            "statusPurpose": "revocation", "statusListIndex": "42", "statusListCredential": "https://issuer.example/status/1"})),
        contexts: vec!["https://w3id.org/catenax/credentials/v1.0.0".into()],
    }
}

struct Fixture {
    issuer: Party,
    holder: Party,
    verifier: CredentialVerifier,
}

fn fixture() -> Fixture {
    let issuer = party("issuer");
    let holder = party("consumer");
    let trusted = TrustedIssuers::default().trust(&issuer.did, ["MembershipCredential"]);
    let verifier = CredentialVerifier::new(trusted, ManualClock::starting_at(NOW * 1000));
    Fixture { issuer, holder, verifier }
}

impl Fixture {
    fn issue(&self, profile: Profile, draft: &CredentialDraft) -> String {
        CredentialIssuer::new(self.issuer.key.clone()).issue(profile, draft).unwrap_or_else(|e| panic!("{e}"))
    }

    fn verify(&self, jwt: &str) -> Result<Credential, DcpError> {
        self.verifier.verify(jwt, "#0", &self.holder.did, &documents(&[&self.issuer, &self.holder]))
    }

    fn refused(&self, jwt: &str) -> String {
        match self.verify(jwt) {
            Ok(c) => panic!("accepted {}", c.label()),
            Err(e) => e.to_string(),
        }
    }

    fn signed(&self, claims: Value) -> String {
        self.issuer.key.sign("JWT", &claims).unwrap_or_else(|e| panic!("{e}"))
    }
}

const LABEL: &str = "credential urn:uuid:membership-1 (MembershipCredential)";

#[test]
fn credentials_of_both_profiles_verify_and_read_back() {
    let f = fixture();
    for profile in [Profile::Vc11Sl2021Jwt, Profile::Vc20BsslJwt] {
        let jwt = f.issue(profile, &membership_draft(&f.holder.did));
        let credential = f.verify(&jwt).unwrap_or_else(|e| panic!("{profile:?}: {e}"));
        assert_eq!(credential.profile, profile);
        assert_eq!(credential.label(), "urn:uuid:membership-1 (MembershipCredential)");
        assert_eq!(credential.issuer, f.issuer.did);
        assert!(credential.has_type("MembershipCredential"));
        assert_eq!((credential.valid_from, credential.valid_until), (Some(NOW - 10), Some(NOW + YEAR)));
        assert_eq!(credential.subjects[0].get("holderIdentifier"), Some(&json!("BPNL000000000001")));
        assert_eq!(credential.status.first().map(|s| s.index), Some(42));
        let header = jsonwebtoken::decode_header(&jwt).unwrap_or_else(|e| panic!("{e}"));
        let typ = if profile == Profile::Vc20BsslJwt { "vc+jwt" } else { "JWT" };
        assert_eq!(header.typ.as_deref(), Some(typ));
    }
    assert_eq!(Profile::parse("vc10-sl2021/jwt"), Some(Profile::Vc11Sl2021Jwt));
    assert_eq!(Profile::parse(Profile::Vc20BsslJwt.as_str()), Some(Profile::Vc20BsslJwt));
    assert_eq!(Profile::parse("vc20-sl2021/jwt"), None);
}

#[test]
fn an_expired_or_not_yet_valid_credential_is_refused() {
    let f = fixture();
    let mut draft = membership_draft(&f.holder.did);
    draft.valid_until = NOW - 1;
    assert_eq!(f.refused(&f.issue(Profile::Vc11Sl2021Jwt, &draft)), format!("{LABEL}: expired"));
    let mut draft = membership_draft(&f.holder.did);
    draft.valid_from = NOW + 60;
    assert_eq!(f.refused(&f.issue(Profile::Vc20BsslJwt, &draft)), format!("{LABEL}: not valid yet"));
    // The JWT `exp` counts even when the credential's own date says otherwise.
    let jwt = f.issue(Profile::Vc11Sl2021Jwt, &membership_draft(&f.holder.did));
    let mut claims = Value::Object(jws::decode_unverified(&jwt).map(|u| u.payload).unwrap_or_default());
    claims["exp"] = json!(NOW - 5);
    assert_eq!(f.refused(&f.signed(claims)), format!("{LABEL}: expired"));
}

#[test]
fn an_issuer_is_trusted_only_for_its_types() {
    let f = fixture();
    let mut draft = membership_draft(&f.holder.did);
    draft.types = vec!["BpnCredential".into()];
    let text = "credential urn:uuid:membership-1 (BpnCredential): issuer did:web:issuer.example is not trusted for \
                this credential type";
    assert_eq!(f.refused(&f.issue(Profile::Vc11Sl2021Jwt, &draft)), text);

    let stranger = party("stranger");
    let jwt = CredentialIssuer::new(stranger.key.clone())
        .issue(Profile::Vc11Sl2021Jwt, &membership_draft(&f.holder.did))
        .unwrap_or_else(|e| panic!("{e}"));
    let docs = documents(&[&stranger]);
    let refused = f.verifier.verify(&jwt, "#0", &f.holder.did, &docs).err().map(|e| e.to_string());
    assert_eq!(
        refused,
        Some(format!("{LABEL}: issuer did:web:stranger.example is not trusted for this credential type"))
    );
    let everything = TrustedIssuers::default().trust_all_types(&stranger.did);
    let verifier = CredentialVerifier::new(everything, ManualClock::starting_at(NOW * 1000));
    assert!(verifier.verify(&jwt, "#0", &f.holder.did, &docs).is_ok());
}

#[test]
fn the_issuer_key_must_be_in_the_issuer_did_document() {
    let f = fixture();
    let jwt = f.issue(Profile::Vc11Sl2021Jwt, &membership_draft(&f.holder.did));
    let mut rotated = f.issuer.document.clone();
    rotated["verificationMethod"][0]["id"] = json!("did:web:issuer.example#key-2");
    let docs: HashMap<String, Value> = [(f.issuer.did.clone(), rotated)].into();
    let refused = f.verifier.verify(&jwt, "#0", &f.holder.did, &docs).err().map(|e| e.to_string());
    let text = "did:web:issuer.example#key-1 is not a verification method of the issuer did:web:issuer.example";
    assert_eq!(refused, Some(format!("{LABEL}: {text}")));
    let refused = f.verifier.verify(&jwt, "#0", &f.holder.did, &HashMap::new()).err().map(|e| e.to_string());
    assert_eq!(
        refused,
        Some(format!("{LABEL}: the DID document of the issuer did:web:issuer.example is not available"))
    );

    // The holder signs a credential naming the trusted issuer: its kid is not the issuer's.
    let claims = Value::Object(jws::decode_unverified(&jwt).map(|u| u.payload).unwrap_or_default());
    let jwt = f.holder.key.sign("JWT", &claims).unwrap_or_else(|e| panic!("{e}"));
    let text =
        "signed with kid 'did:web:consumer.example#key-1', which is not a key of the issuer did:web:issuer.example";
    assert_eq!(f.refused(&jwt), format!("{LABEL}: {text}"));
}

#[test]
fn the_subject_must_be_the_holder() {
    let f = fixture();
    let draft = membership_draft("did:web:someone-else.example");
    let text = "the subject did:web:someone-else.example is not the holder did:web:consumer.example";
    assert_eq!(f.refused(&f.issue(Profile::Vc20BsslJwt, &draft)), format!("{LABEL}: {text}"));
    // Without a subject id and without `sub`, nothing binds the credential to anyone.
    let jwt = f.issue(Profile::Vc11Sl2021Jwt, &membership_draft(&f.holder.did));
    let mut claims = Value::Object(jws::decode_unverified(&jwt).map(|u| u.payload).unwrap_or_default());
    claims["vc"]["credentialSubject"].as_object_mut().map(|s| s.remove("id"));
    assert!(f.verify(&f.signed(claims.clone())).is_ok(), "the JWT sub stands in for the subject id");
    claims.as_object_mut().map(|c| c.remove("sub"));
    assert_eq!(f.refused(&f.signed(claims)), format!("{LABEL}: the subject has no id"));
}

#[test]
fn malformed_credentials_are_refused_naming_the_credential() {
    let f = fixture();
    let jwt = f.issue(Profile::Vc11Sl2021Jwt, &membership_draft(&f.holder.did));
    let claims = Value::Object(jws::decode_unverified(&jwt).map(|u| u.payload).unwrap_or_default());
    let edit = |change: &dyn Fn(&mut Value)| {
        let mut claims = claims.clone();
        change(&mut claims);
        f.refused(&f.signed(claims))
    };
    let m = |why: &str| format!("{LABEL}: malformed: {why}");
    assert_eq!(
        f.refused("garbage"),
        "credential #0: malformed: not a compact JWS (three non-empty dot-separated parts)"
    );
    assert_eq!(
        f.refused(&f.signed(json!({"iss": f.issuer.did}))),
        "credential #0: malformed: neither a 'vc' claim nor a VCDM 2.0 credential"
    );
    assert_eq!(edit(&|c| c["vc"] = json!("text")), "credential #0: malformed: the 'vc' claim is not an object");
    assert_eq!(edit(&|c| c["vc"]["type"] = json!([])), "credential urn:uuid:membership-1: malformed: it has no type");
    let mut without_base_type = claims.clone();
    without_base_type["vc"]["type"] = json!(["MembershipCredential"]);
    assert!(f.verify(&f.signed(without_base_type)).is_ok(), "the base type is not required");
    assert_eq!(edit(&|c| c["iss"] = json!("did:web:other.example")), m("iss and issuer differ"));
    assert_eq!(
        edit(&|c| {
            c.as_object_mut().map(|o| o.remove("iss"));
            c["vc"].as_object_mut().map(|o| o.remove("issuer"));
        }),
        m("no issuer")
    );
    assert_eq!(edit(&|c| c["vc"]["credentialSubject"] = json!([])), m("no credentialSubject"));
    assert_eq!(edit(&|c| c["vc"]["credentialSubject"] = json!(["x"])), m("a credentialSubject is not an object"));
    assert_eq!(
        edit(&|c| c["vc"]["expirationDate"] = json!("next year")),
        m("'expirationDate/validUntil' is not an RFC 3339 date")
    );
    assert_eq!(edit(&|c| c["vc"]["issuanceDate"] = json!(5)), m("'issuanceDate/validFrom' is not a date string"));
    assert_eq!(edit(&|c| c["nbf"] = json!("now")), m("'nbf' is not a number of seconds"));
    assert_eq!(edit(&|c| c["vc"]["credentialStatus"] = json!({"x": 1})), m("credentialStatus: an entry has no type"));
    // A valid credential whose payload was altered after signing.
    let parts: Vec<&str> = jwt.split('.').collect();
    let mut draft = membership_draft(&f.holder.did);
    draft.subject.insert("holderIdentifier".into(), json!("BPNL000000000002"));
    let other = f.issue(Profile::Vc11Sl2021Jwt, &draft);
    let tampered = format!("{}.{}.{}", parts[0], other.split('.').nth(1).unwrap_or_default(), parts[2]);
    assert_eq!(f.refused(&tampered), format!("{LABEL}: the issuer's signature does not verify"));
}

#[test]
fn a_credential_without_id_or_specific_type_is_named_by_its_position() {
    let f = fixture();
    let jwt = f.issue(Profile::Vc11Sl2021Jwt, &membership_draft(&f.holder.did));
    let mut claims = Value::Object(jws::decode_unverified(&jwt).map(|u| u.payload).unwrap_or_default());
    claims["vc"]["type"] = json!(["VerifiableCredential"]);
    claims["vc"].as_object_mut().map(|vc| vc.remove("id"));
    claims.as_object_mut().map(|c| c.remove("jti"));
    let text = "credential #0: issuer did:web:issuer.example is not trusted for this credential type";
    assert_eq!(f.refused(&f.signed(claims.clone())), text);
    let credential = Credential::from_jwt(&f.signed(claims), "#0").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(credential.label(), "without id or type");
}
