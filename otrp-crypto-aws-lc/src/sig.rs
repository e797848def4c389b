//! The tables and signing calls of `aws_lc_rs::signature`, which has
//! ring's API and shares them with otrp-crypto-ring
//! ([`otrp_core::signature_api!`]).

otrp_core::signature_api!(aws_lc_rs);
