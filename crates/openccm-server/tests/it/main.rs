//! End-to-end tests of the `openccm` binary: real processes, real files,
//! real SQLite and PostgreSQL, the official Python SDK.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::pedantic
)]

mod acme;
mod acme_clients;
mod audit;
mod backup;
mod console;
mod harness;
mod lifecycle;
mod limits;
mod metrics;
mod notify;
mod openapi;
mod packaging;
mod pg_restart;
mod pg_tls;
mod revocation;
mod rotation;
mod sdk;
mod upgrade;
