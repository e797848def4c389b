//! The whole-image TA hooks (issue 17): a platform without
//! `TaPlatform::begin_ta` gets the TA decrypted whole. When it offers
//! `TaPlatform::decrypt_ta_blocks` the agent decrypts the ciphertext where it
//! lies and hands that buffer on as the image (one copy of the TA, not two);
//! otherwise it calls `TaPlatform::decrypt_ta_data`. Both install and update
//! the same images and refuse a TA that does not decrypt the same way,
//! committing nothing.

otrp_test_support::provider_under_test!(rustcrypto);

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use otrp_core::crypto::{Provider, SecretBytes};
use otrp_core::message::{Base64Bytes, ErrorCode, InstallEncryptedTa, TaEncAlg, TaIv};
use otrp_core::pki::UnixTime;
use otrp_core::tee::{TaError, TaPlatform, Tee, TeeHooks, VerifiedTa};
use otrp_soft_tee::{SoftSpAik, SoftStorage, SoftTaPlatform, StdFs};
use support::*;

/// Which decryption hooks ran.
#[derive(Default)]
struct Seen {
    /// `decrypt_ta_data` calls (the whole-image decryption).
    data: AtomicUsize,
    /// `decrypt_ta_blocks` calls (in place).
    blocks: AtomicUsize,
}

/// The soft TEE's whole-image platform, counting its decryptions; with
/// `blocks: false` it lacks `decrypt_ta_blocks` (the trait's default).
struct WholeImage {
    blocks: bool,
    seen: Arc<Seen>,
}

impl TaPlatform for WholeImage {
    fn decrypt_ta_data(
        &self,
        alg: TaEncAlg,
        key: &SecretBytes,
        iv: &[u8; 16],
        data: &[u8],
    ) -> Result<SecretBytes, TaError> {
        self.seen.data.fetch_add(1, Ordering::SeqCst);
        SoftTaPlatform::whole_image().decrypt_ta_data(alg, key, iv, data)
    }
    fn verify_ta(
        &self,
        provider: &Provider,
        taid: &str,
        image: &[u8],
        sp_certs: &[&[u8]],
        now: UnixTime,
    ) -> Result<VerifiedTa, TaError> {
        SoftTaPlatform::whole_image().verify_ta(provider, taid, image, sp_certs, now)
    }
    fn decrypt_ta_blocks(
        &self,
        alg: TaEncAlg,
        key: &SecretBytes,
        iv: &[u8; 16],
        blocks: &mut [u8],
    ) -> Result<(), TaError> {
        if !self.blocks {
            return Err(TaError::UnsupportedAlgorithm);
        }
        self.seen.blocks.fetch_add(1, Ordering::SeqCst);
        SoftTaPlatform::whole_image().decrypt_ta_blocks(alg, key, iv, blocks)
    }
}

const KIND: Kind = Kind::Ec;

fn open(dir: &std::path::Path, blocks: bool, seen: &Arc<Seen>) -> Tee {
    let provider = provider();
    let hooks = TeeHooks {
        identity: Box::new(identity(KIND)),
        sp_aik: Box::new(SoftSpAik::new(provider)),
        storage: Box::new(SoftStorage::open(dir, Arc::new(StdFs), provider).unwrap()),
        ta: Box::new(WholeImage {
            blocks,
            seen: seen.clone(),
        }),
        firmware: None,
        clock: None,
    };
    Tee::open(config(KIND), provider, hooks).unwrap()
}

/// A TEE in a new directory (`blocks`: whether its platform decrypts in
/// place) whose TAM created SD "sd1".
fn with_sd1(tag: &str, blocks: bool) -> (TempDir, Arc<Seen>, Tee, Tam) {
    let dir = TempDir::new(tag);
    let seen = Arc::new(Seen::default());
    let mut tee = open(dir.path(), blocks, &seen);
    let mut tam = Tam::new(KIND);
    tam.query(&mut tee);
    let req = tam.create_sd("sp1", "sd1");
    tam.send(&mut tee, &req).pass();
    (dir, seen, tee, tam)
}

/// The image of TA `taid` in SD "sd1", as stored.
fn stored(tee: &Tee, taid: &str) -> Vec<u8> {
    let sd = tee.state().sd(TAMID, "sd1").unwrap();
    let ta = sd.tas.iter().find(|t| t.taid == taid).unwrap();
    let image = tee.hooks().storage.read_blob(&ta.current.image).unwrap();
    image.as_bytes().to_vec()
}

#[test]
fn whole_images_install_in_place_or_through_decrypt_ta_data() {
    for blocks in [true, false] {
        let (_dir, seen, mut tee, mut tam) = with_sd1("whole-image", blocks);

        let code: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let image = ta_image(KIND, "ta1", 1, &code, "t");
        let req = tam.install_ta("sp1", "sd1", "ta1", &image, Some(b"pdata v1"));
        tam.send(&mut tee, &req).pass();
        assert_eq!(stored(&tee, "ta1"), image, "blocks offered: {blocks}");
        let image2 = ta_image(KIND, "ta1", 2, &code[..99_999], "t");
        let req = tam.update_ta("sp1", "sd1", "ta1", Some(&image2), None);
        tam.send(&mut tee, &req).pass();
        assert_eq!(stored(&tee, "ta1"), image2, "blocks offered: {blocks}");

        // The TA data in place (one call each, the whole buffer); the
        // personalization data through decrypt_ta_data either way.
        let (data, in_place) = (
            seen.data.load(Ordering::SeqCst),
            seen.blocks.load(Ordering::SeqCst),
        );
        if blocks {
            assert_eq!((data, in_place), (1, 2));
        } else {
            assert_eq!((data, in_place), (3, 0));
        }
    }
}

#[test]
fn a_ta_whose_padding_is_wrong_is_refused_the_same_either_way() {
    for blocks in [true, false] {
        let (_dir, _seen, mut tee, mut tam) = with_sd1("whole-image-padding", blocks);
        let state = tee.state().clone();

        // 32 zero bytes encrypted, their padding block cut off: the last
        // block decrypts to zeros, whose pad length 0 is no PKCS#7 padding.
        let (key, iv) = ([7u8; 32], [9u8; 16]);
        let mut data = otrp_soft_tee::encrypt_ta_data(&key, &iv, &[0u8; 32]);
        data.truncate(32);
        // And a length that is no whole number of blocks.
        let mut ragged = otrp_soft_tee::encrypt_ta_data(&key, &iv, &[0u8; 40]);
        ragged.pop();
        for data in [data, ragged] {
            let eta =
                InstallEncryptedTa::new(tam.wrap_ta_key("sp1", &key), TaIv(iv), Base64Bytes(data));
            let c = tam.ta_content("sp1", "sd1", "ta1", None);
            let req = tam.install_ta_with(&c, eta);
            tam.send(&mut tee, &req).fails_with(ErrorCode::TaInvalid);
        }
        assert_eq!(tee.state().sds, state.sds, "blocks offered: {blocks}");
        assert_eq!(tee.state().blobs(), state.blobs());
    }
}
