//! `tam_lifecycle.rs`, unchanged, against the composed provider (ring signatures, digests, GCM and chains over RustCrypto key management):
//! `tam_support::provider()` picks it for targets named `*_composed`.

#[path = "tam_lifecycle.rs"]
mod lifecycle;
