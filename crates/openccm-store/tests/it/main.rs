//! The store conformance suite: every test runs on SQLite and on PostgreSQL.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::pedantic
)]

mod iam;
mod intents;
mod migrations;
mod revocation;
mod scm;
mod tags;
