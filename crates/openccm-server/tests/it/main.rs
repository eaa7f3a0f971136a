//! End-to-end tests of the `openccm` binary: real processes, real files,
//! real SQLite and PostgreSQL, the official Python SDK.

mod harness;
mod lifecycle;
