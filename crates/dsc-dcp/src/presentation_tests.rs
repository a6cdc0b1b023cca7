// SPDX-License-Identifier: Apache-2.0
use std::collections::HashMap;

use dsc_domain::ManualClock;

use super::*;
use crate::credential::TrustedIssuers;
use crate::credential::tests::{NOW, membership_draft};
use crate::issue::CredentialIssuer;
use crate::testkit::{Party, documents, party};

struct Fixture {
    issuer: Party,
    consumer: Party,
    provider: Party,
    clock: Arc<ManualClock>,
    verifier: PresentationVerifier,
}

fn fixture() -> Fixture {
    let (issuer, consumer, provider) = (party("issuer"), party("consumer"), party("provider"));
    let clock = ManualClock::starting_at(NOW * 1000);
    let trusted = TrustedIssuers::default().trust(&issuer.did, ["MembershipCredential", "BpnCredential"]);
    let credentials = CredentialVerifier::new(trusted, clock.clone());
    let verifier = PresentationVerifier::new(&provider.did, credentials, clock.clone());
    Fixture { issuer, consumer, provider, clock, verifier }
}

impl Fixture {
    fn credential(&self, profile: Profile, holder: &str) -> String {
        CredentialIssuer::new(self.issuer.key.clone())
            .issue(profile, &membership_draft(holder))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn present(&self, by: &Party, profile: Profile, credentials: &[String]) -> String {
        PresentationBuilder::new(by.key.clone(), self.clock.clone())
            .build(profile, &self.provider.did, credentials)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn docs(&self) -> HashMap<String, Value> {
        documents(&[&self.issuer, &self.consumer, &self.provider])
    }

    fn refused(&self, jwt: &str) -> String {
        match self.verifier.verify(jwt, &self.consumer.did, &self.docs()) {
            Ok(p) => panic!("accepted a presentation of {}", p.holder),
            Err(e) => e.to_string(),
        }
    }

    fn signed(&self, claims: Value) -> String {
        self.consumer.key.sign("JWT", &claims).unwrap_or_else(|e| panic!("{e}"))
    }

    fn vp_claims(&self, vp: Value) -> Value {
        json!({"iss": self.consumer.did, "aud": self.provider.did, "jti": "vp-1", "iat": NOW, "exp": NOW + 60, "vp": vp})
    }
}

#[test]
fn presentations_of_both_profiles_verify_with_their_credentials() {
    let f = fixture();
    for profile in [Profile::Vc11Sl2021Jwt, Profile::Vc20BsslJwt] {
        let credentials = vec![f.credential(profile, &f.consumer.did), f.credential(profile, &f.consumer.did)];
        let vp = f.present(&f.consumer, profile, &credentials);
        let dids = dids_to_resolve(&vp).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(dids, [f.consumer.did.clone(), f.issuer.did.clone()]);
        let verified =
            f.verifier.verify(&vp, &f.consumer.did, &f.docs()).unwrap_or_else(|e| panic!("{profile:?}: {e}"));
        assert_eq!((verified.holder.as_str(), verified.profile), (f.consumer.did.as_str(), profile));
        assert_eq!(verified.credentials.len(), 2);
        assert!(verified.credentials.iter().all(|c| c.has_type("MembershipCredential")));
        let typ = jsonwebtoken::decode_header(&vp).ok().and_then(|h| h.typ);
        assert_eq!(typ.as_deref(), Some(if profile == Profile::Vc20BsslJwt { "vp+jwt" } else { "JWT" }));
    }
}

#[test]
fn a_presentation_signed_by_another_did_than_the_tokens_is_refused() {
    let f = fixture();
    let mallory = party("mallory");
    let credential = f.credential(Profile::Vc11Sl2021Jwt, &mallory.did);
    let vp = f.present(&mallory, Profile::Vc11Sl2021Jwt, &[credential]);
    assert_eq!(
        f.refused(&vp),
        "the presentation is signed by did:web:mallory.example, not by did:web:consumer.example"
    );

    // Mallory claims to be the consumer but can only sign with her own key.
    let credential = f.credential(Profile::Vc11Sl2021Jwt, &f.consumer.did);
    let claims = f.vp_claims(json!({"type": "VerifiablePresentation", "verifiableCredential": [credential]}));
    let forged = mallory.key.sign("JWT", &claims).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(f.refused(&forged), "kid 'did:web:mallory.example#key-1' does not belong to did:web:consumer.example");
}

#[test]
fn a_credential_of_someone_else_is_refused() {
    let f = fixture();
    let credential = f.credential(Profile::Vc20BsslJwt, "did:web:someone-else.example");
    let vp = f.present(&f.consumer, Profile::Vc20BsslJwt, &[credential]);
    assert_eq!(
        f.refused(&vp),
        "credential urn:uuid:membership-1 (MembershipCredential): the subject did:web:someone-else.example is not \
         the holder did:web:consumer.example"
    );
}

#[test]
fn audience_and_lifetime_of_the_presentation_are_checked() {
    let f = fixture();
    let credential = f.credential(Profile::Vc11Sl2021Jwt, &f.consumer.did);
    let vp = PresentationBuilder::new(f.consumer.key.clone(), f.clock.clone())
        .build(Profile::Vc11Sl2021Jwt, "did:web:other-verifier.example", std::slice::from_ref(&credential))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(f.refused(&vp), "the presentation's audience does not contain did:web:provider.example");

    let vp = f.present(&f.consumer, Profile::Vc11Sl2021Jwt, &[credential]);
    f.clock.advance(66_000);
    assert_eq!(f.refused(&vp), "the presentation expired");
    f.clock.advance(-200_000);
    assert_eq!(f.refused(&vp), "the presentation is not valid yet");
}

#[test]
fn a_presentation_mixing_profiles_is_refused() {
    let f = fixture();
    let credential = f.credential(Profile::Vc20BsslJwt, &f.consumer.did);
    let vp = f.present(&f.consumer, Profile::Vc11Sl2021Jwt, &[credential]);
    assert_eq!(
        f.refused(&vp),
        "credential urn:uuid:membership-1 (MembershipCredential): its profile vc20-bssl/jwt differs from the \
         presentation's vc11-sl2021/jwt"
    );
}

#[test]
fn malformed_presentations_are_refused_at_every_level() {
    let f = fixture();
    let credential = f.credential(Profile::Vc11Sl2021Jwt, &f.consumer.did);
    let m = |why: &str| format!("malformed presentation: {why}");
    assert_eq!(f.refused("x.y"), m("not a compact JWS (three non-empty dot-separated parts)"));
    assert_eq!(f.refused(&f.signed(json!({"iss": f.consumer.did, "vp": []}))), m("the 'vp' claim is not an object"));
    assert_eq!(
        f.refused(&f.signed(json!({"iss": f.consumer.did}))),
        m("neither a 'vp' claim nor a VCDM 2.0 presentation")
    );
    let mut claims = f.vp_claims(json!({"verifiableCredential": [credential]}));
    claims.as_object_mut().map(|c| c.remove("iss"));
    assert_eq!(f.refused(&f.signed(claims)), m("no holder"));
    let claims = f.vp_claims(json!({"holder": "did:web:x", "verifiableCredential": [credential]}));
    assert_eq!(f.refused(&f.signed(claims)), m("iss and holder differ"));
    assert_eq!(
        f.refused(&f.signed(f.vp_claims(json!({"type": "VerifiablePresentation"})))),
        m("no verifiableCredential")
    );
    let mut claims = f.vp_claims(json!({"verifiableCredential": [credential]}));
    claims["exp"] = json!("soon");
    assert_eq!(f.refused(&f.signed(claims)), m("'exp' is not a number of seconds"));

    let claims = f.vp_claims(json!({"verifiableCredential": [credential, {"id": "urn:x"}]}));
    assert_eq!(
        f.refused(&f.signed(claims)),
        "credential #1: malformed: not a JWT string (embedded JSON-LD credentials are not supported)"
    );
    let claims = f.vp_claims(json!({"verifiableCredential": "garbage"}));
    assert_eq!(
        f.refused(&f.signed(claims.clone())),
        "credential #0: malformed: not a compact JWS (three non-empty dot-separated parts)"
    );
    assert_eq!(
        dids_to_resolve(&f.signed(claims)).err().map(|e| e.to_string()).as_deref(),
        Some("credential #0: malformed: not a compact JWS (three non-empty dot-separated parts)")
    );

    let v2 = |entry: Value| {
        f.signed(json!({"@context": [VCDM_20_CONTEXT], "type": ["VerifiablePresentation"], "iss": f.consumer.did,
            "aud": f.provider.did, "verifiableCredential": [entry]}))
    };
    assert_eq!(f.refused(&v2(json!(credential))), "credential #0: malformed: not an EnvelopedVerifiableCredential");
    let envelope =
        json!({"type": "EnvelopedVerifiableCredential", "id": format!("data:application/vp+jwt,{credential}")});
    assert_eq!(f.refused(&v2(envelope)), "credential #0: malformed: its id is not a data:application/vc+jwt, URL");
    let envelope = json!({"type": "VerifiableCredential", "id": format!("data:application/vc+jwt,{credential}")});
    assert_eq!(f.refused(&v2(envelope)), "credential #0: malformed: not an EnvelopedVerifiableCredential");
}

#[test]
fn a_tampered_presentation_does_not_verify() {
    let f = fixture();
    let credential = f.credential(Profile::Vc11Sl2021Jwt, &f.consumer.did);
    let vp = f.present(&f.consumer, Profile::Vc11Sl2021Jwt, std::slice::from_ref(&credential));
    let other = f.present(&f.consumer, Profile::Vc11Sl2021Jwt, &[credential.clone(), credential]);
    let parts: Vec<&str> = vp.split('.').collect();
    let tampered = format!("{}.{}.{}", parts[0], other.split('.').nth(1).unwrap_or_default(), parts[2]);
    assert_eq!(f.refused(&tampered), "the signature of the presentation does not verify");
}

#[test]
fn relationships_of_holder_and_issuer_keys_are_checked_when_asked() {
    let f = fixture();
    let credential = f.credential(Profile::Vc11Sl2021Jwt, &f.consumer.did);
    let vp = f.present(&f.consumer, Profile::Vc11Sl2021Jwt, &[credential]);
    let trusted = TrustedIssuers::default().trust(&f.issuer.did, ["MembershipCredential"]);
    let credentials = CredentialVerifier::new(trusted, f.clock.clone()).with_relationship_check(true);
    let strict = PresentationVerifier::new(&f.provider.did, credentials, f.clock.clone()).with_relationship_check(true);
    assert!(strict.verify(&vp, &f.consumer.did, &f.docs()).is_ok());

    let mut docs = f.docs();
    docs.entry(f.consumer.did.clone()).and_modify(|d| d["authentication"] = json!([]));
    let refused = strict.verify(&vp, &f.consumer.did, &docs).err().map(|e| e.to_string());
    let text = "did:web:consumer.example#key-1 is not listed under authentication in its DID document";
    assert_eq!(refused.as_deref(), Some(text));
    assert!(f.verifier.verify(&vp, &f.consumer.did, &docs).is_ok(), "lenient by default");

    let mut docs = f.docs();
    docs.entry(f.issuer.did.clone()).and_modify(|d| d["assertionMethod"] = json!([]));
    let refused = strict.verify(&vp, &f.consumer.did, &docs).err().map(|e| e.to_string());
    let text = "credential urn:uuid:membership-1 (MembershipCredential): did:web:issuer.example#key-1 is not listed \
                under assertionMethod in the issuer's DID document";
    assert_eq!(refused.as_deref(), Some(text));
}
