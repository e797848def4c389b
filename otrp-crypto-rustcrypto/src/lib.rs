//! Pure-Rust crypto provider for otrp (RustCrypto crates).
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod webpki;
