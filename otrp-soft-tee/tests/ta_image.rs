//! The soft TEE's TA image (issue 18 item 3): the TA's name, taid and
//! version come only from what the SP's verified signature covers; an image
//! with several signatures, or naming the TA outside its protected header,
//! is refused. The streamed check (issue 17, the streaming TA hook) gives
//! the same verdict as the whole-image one on every image here, fed in
//! pieces of any size.

// The RustCrypto target (see docs/testing.md).
otrp_test_support::provider_under_test!(rustcrypto);

mod support;

use otrp_core::jose::{Header, Jws};
use otrp_core::tee::{TaError, TaPlatform, VerifiedTa};
use otrp_soft_tee::{SoftTaPlatform, TaImageInfo, sign_ta_image, verify_ta_image};
use support::*;

const KIND: Kind = Kind::Ec;

fn info(taid: &str, version: u64, taname: Option<&str>) -> TaImageInfo {
    TaImageInfo {
        taid: taid.into(),
        version,
        taname: taname.map(str::to_string),
    }
}

fn sp_cert() -> Vec<u8> {
    fixture(KIND, "sp.der")
}

/// A JWS over `code` signed by the SP key with `protected` (plus `alg`) and
/// optionally an unprotected header, as flattened JSON.
fn raw_image(code: &[u8], protected: Header, unprotected: Option<Header>) -> Vec<u8> {
    let sp = private_key(KIND, "sp");
    Jws::sign(
        code,
        sp.as_ref(),
        KIND.alg(),
        protected,
        unprotected,
        &provider(),
    )
    .unwrap()
    .to_flattened_json()
    .unwrap()
    .into_bytes()
}

fn header(members: &[(&str, serde_json::Value)]) -> Header {
    let mut h = Header::new();
    for (name, value) in members {
        h.set(name, value.clone());
    }
    h
}

/// The streamed check of `image` fed in pieces of `piece` bytes.
fn streamed(image: &[u8], piece: usize) -> Result<VerifiedTa, TaError> {
    let provider = provider();
    let cert = sp_cert();
    let certs = [cert.as_slice()];
    let platform = SoftTaPlatform::default();
    let mut stream = platform
        .begin_ta(&provider, "ta1", &certs, now())
        .expect("the soft TEE streams");
    for chunk in image.chunks(piece) {
        stream.update(chunk)?;
    }
    stream.finish()
}

/// The verdict of the whole-image JWS check ([`verify_ta_image`]: the
/// image parsed whole, its payload decoded), and the same from the streamed
/// one in pieces of 1, 7, 4096 bytes and whole, and from the platform's
/// whole-image hook (`verify_ta`, which runs the streamed check over the
/// image in one piece).
fn verdict(image: &[u8]) -> Result<VerifiedTa, TaError> {
    let whole = verify_ta_image(&provider(), image, &sp_cert()).map(|info| VerifiedTa {
        signer: 0,
        taid: info.taid,
        version: info.version,
        taname: info.taname,
    });
    let hook =
        SoftTaPlatform::whole_image().verify_ta(&provider(), "ta1", image, &[&sp_cert()], now());
    let pieces = [1, 7, 4096, image.len().max(1)];
    for (piece, s) in pieces
        .into_iter()
        .map(|piece| (piece, streamed(image, piece)))
        .chain([(0, hook)])
    {
        let same = match (&whole, &s) {
            (Ok(a), Ok(b)) => a == b,
            (Err(TaError::Malformed(_)), Err(TaError::Malformed(_))) => true,
            (Err(a), Err(b)) => a == b,
            _ => false,
        };
        assert!(
            same,
            "piece {piece} (0: the verify_ta hook): whole {whole:?}, streamed {s:?}: {}",
            String::from_utf8_lossy(image)
        );
    }
    whole
}

fn malformed(image: &[u8]) {
    assert!(
        matches!(
            verify_ta_image(&provider(), image, &sp_cert()),
            Err(TaError::Malformed(_))
        ),
        "{}",
        String::from_utf8_lossy(image)
    );
    assert!(matches!(verdict(image), Err(TaError::Malformed(_))));
}

#[test]
fn signed_info_round_trips() {
    let sp = private_key(KIND, "sp");
    for i in [info("ta1", 7, Some("Wallet")), info("ta2", u64::MAX, None)] {
        let image = sign_ta_image(b"code", &i, sp.as_ref(), KIND.alg(), &provider()).unwrap();
        assert_eq!(verify_ta_image(&provider(), &image, &sp_cert()).unwrap(), i);
        let v = verdict(&image).unwrap();
        assert_eq!(
            (v.signer, v.taid, v.version, v.taname),
            (0, i.taid.clone(), i.version, i.taname.clone())
        );
    }
}

#[test]
fn another_key_is_an_untrusted_signer() {
    let tam = private_key(KIND, "tam");
    let image = sign_ta_image(
        b"c",
        &info("ta1", 1, None),
        tam.as_ref(),
        KIND.alg(),
        &provider(),
    )
    .unwrap();
    assert_eq!(
        verify_ta_image(&provider(), &image, &sp_cert()),
        Err(TaError::UntrustedSigner)
    );
    assert_eq!(verdict(&image), Err(TaError::UntrustedSigner));
}

/// A packager relabels an SP-signed TA: it adds its own signature first,
/// naming the TA "Evil" at a huge version. Before, the soft TEE read
/// `taname` from the first signature and accepted the image because the
/// second (the SP's) verified.
#[test]
fn a_second_signature_is_refused() {
    let sp = private_key(KIND, "sp");
    let evil = private_key(KIND, "tam");
    let mut jws = Jws::sign(
        b"code",
        evil.as_ref(),
        KIND.alg(),
        header(&[
            ("taid", "ta1".into()),
            ("taversion", 1_000_000.into()),
            ("taname", "Evil".into()),
        ]),
        None,
        &provider(),
    )
    .unwrap();
    jws.add_signature(
        sp.as_ref(),
        KIND.alg(),
        header(&[("taid", "ta1".into()), ("taversion", 1.into())]),
        None,
        &provider(),
    )
    .unwrap();
    let image = jws.to_general_json().into_bytes();
    malformed(&image);
    assert!(matches!(
        SoftTaPlatform::default().verify_ta(&provider(), "ta1", &image, &[&sp_cert()], now()),
        Err(TaError::Malformed(_))
    ));
}

#[test]
fn the_ta_is_named_only_in_the_protected_header() {
    // Each member moved to the unprotected header (where the signature does
    // not cover it).
    let members: [(&str, serde_json::Value); 3] = [
        ("taid", "ta1".into()),
        ("taversion", 1.into()),
        ("taname", "Evil".into()),
    ];
    for (moved, value) in &members {
        let protected: Vec<_> = members
            .iter()
            .filter(|(m, _)| m != moved)
            .cloned()
            .collect();
        let image = raw_image(
            b"code",
            header(&protected),
            Some(header(&[(moved, value.clone())])),
        );
        malformed(&image);
    }
    // Without taid or taversion, or with a taversion that is no u64.
    malformed(&raw_image(
        b"code",
        header(&[("taversion", 1.into())]),
        None,
    ));
    malformed(&raw_image(b"code", header(&[("taid", "ta1".into())]), None));
    for bad in [
        serde_json::json!(1.5),
        serde_json::json!(-1),
        serde_json::json!("2"),
        serde_json::json!(null),
    ] {
        let h = header(&[("taid", "ta1".into()), ("taversion", bad)]);
        malformed(&raw_image(b"code", h, None));
    }
    let h = header(&[
        ("taid", "ta1".into()),
        ("taversion", 1.into()),
        ("taname", 3.into()),
    ]);
    malformed(&raw_image(b"code", h, None));
    let h = header(&[("taid", "".into()), ("taversion", 1.into())]);
    malformed(&raw_image(b"code", h, None));
    // Empty code.
    let h = header(&[("taid", "ta1".into()), ("taversion", 1.into())]);
    malformed(&raw_image(b"", h, None));
    // Not a JSON JWS at all.
    malformed(b"not an image");
}

/// The protected header is covered by the signature: raising the version of
/// a signed image breaks it.
#[test]
fn a_changed_protected_header_does_not_verify() {
    let sp = private_key(KIND, "sp");
    let image = sign_ta_image(
        b"code",
        &info("ta1", 1, None),
        sp.as_ref(),
        KIND.alg(),
        &provider(),
    )
    .unwrap();
    let mut doc: serde_json::Value = serde_json::from_slice(&image).unwrap();
    let forged = otrp_core::jose::b64::encode_url(
        format!(
            r#"{{"alg":"{}","taid":"ta1","taversion":2}}"#,
            KIND.alg().name()
        )
        .as_bytes(),
    );
    doc["protected"] = forged.into();
    let forged = serde_json::to_vec(&doc).unwrap();
    assert_eq!(
        verify_ta_image(&provider(), &forged, &sp_cert()),
        Err(TaError::UntrustedSigner)
    );
    assert_eq!(verdict(&forged), Err(TaError::UntrustedSigner));
}

/// The streamed check on the image forms the whole-image check accepts but
/// `sign_ta_image` does not write (payload before the protected header, the
/// general serialization, escapes in the payload, whitespace), and on
/// broken ones (cut short, trailing bytes, a second payload, a payload
/// that is no base64url): always the whole-image verdict.
#[test]
fn streamed_and_whole_checks_agree_on_every_form() {
    let h = || header(&[("taid", "ta1".into()), ("taversion", 3.into())]);
    let code: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
    // Payload first (the held path).
    let payload_first = raw_image(&code, h(), None);
    assert!(payload_first.starts_with(b"{\"payload\""));
    assert_eq!(verdict(&payload_first).unwrap().version, 3);
    // Protected first, with spaces and an escaped payload character.
    let doc: serde_json::Value = serde_json::from_slice(&payload_first).unwrap();
    let payload = doc["payload"].as_str().unwrap();
    let protected = doc["protected"].as_str().unwrap();
    let signature = doc["signature"].as_str().unwrap();
    let escaped = format!("\\u{:04x}{}", payload.as_bytes()[0], &payload[1..]);
    let spaced = format!(
        "  {{ \"protected\" : \"{protected}\" ,\n \"payload\":\"{escaped}\", \"signature\":\"{signature}\" }} \n"
    );
    assert_eq!(verdict(spaced.as_bytes()).unwrap().taid, "ta1");
    // General serialization with one signature, protected first.
    let general = format!(
        r#"{{"signatures":[{{"protected":"{protected}","signature":"{signature}"}}],"payload":"{payload}"}}"#
    );
    assert_eq!(verdict(general.as_bytes()).unwrap().version, 3);
    // Broken forms.
    let good =
        format!(r#"{{"protected":"{protected}","payload":"{payload}","signature":"{signature}"}}"#);
    assert!(verdict(good.as_bytes()).is_ok());
    malformed(&good.as_bytes()[..good.len() - 1]);
    malformed(format!("{good}x").as_bytes());
    malformed(
        good.replacen(r#""signature""#, r#""payload":"AA","signature""#, 1)
            .as_bytes(),
    );
    malformed(good.replacen(&payload[..8], "!!!!!!!!", 1).as_bytes());
    malformed(good.replacen(&payload[..8], "\\n", 1).as_bytes());
    // A payload of one character too many is not base64url.
    let odd = good.replacen(r#"","signature""#, r#"A","signature""#, 1);
    assert!(verdict(odd.as_bytes()).is_err());
    // A changed payload character does not verify.
    let flipped = good.replacen(
        &payload[..1],
        if &payload[..1] == "A" { "B" } else { "A" },
        1,
    );
    assert_eq!(verdict(flipped.as_bytes()), Err(TaError::UntrustedSigner));
}
