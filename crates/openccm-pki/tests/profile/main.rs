//! The issuance profile from outside: golden DER for every kind of
//! certificate OpenCCM issues (`golden.rs`), and each lint rule broken on
//! its own (`lint.rs`). The cases are built from fixed public keys
//! (`tests/fixtures/keys`, made once with `openssl genpkey`), fixed serials
//! and fixed times, so the DER they build is the same on every run.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::pedantic
)]

mod cases;
mod golden;
mod lint;
