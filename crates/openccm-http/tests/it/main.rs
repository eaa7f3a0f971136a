//! HTTP integration tests: the router in process, on SQLite and on PostgreSQL.

mod auth;
mod edge;
