//! HTTP integration tests: the router in process, on SQLite and on PostgreSQL.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::pedantic
)]

mod auth;
mod common;
mod console;
mod credentials;
mod edge;
mod fuzz;
mod isolation;
mod issuance_limits;
mod lockout;
mod pca;
mod policies;
mod revocation;
mod scm;
mod signatures;
