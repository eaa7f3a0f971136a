//! Integration tests of the application layer.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::pedantic
)]

mod fuzz;
mod sdk_vectors;
