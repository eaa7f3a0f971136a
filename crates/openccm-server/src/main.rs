//! `openccm`: a self-hosted Cloud Certificate Manager that speaks Huawei
//! Cloud's CCM API (private CA and SSL certificate manager).
//!
//! This is the composition root: it reads configuration, opens the store and
//! the keyring, wires the services and serves HTTP. Logic worth testing lives
//! in the library crates.

mod admin;
mod admin_acme;
mod admin_audit;
mod admin_backup;
mod admin_notify;
mod admin_rotation;
mod config;
mod config_acme;
mod courier;
mod key_watch;
mod limits;
mod notify_job;
mod publish;
mod serve;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc instead of glibc's malloc: the service allocates and frees on
/// several threads at once (executor, signing pool, SQLite writer), where
/// glibc's arenas cost about a tenth of the CPU time of a ShowCertificate.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// OpenCCM: a self-hosted Cloud Certificate Manager compatible with Huawei
/// Cloud's CCM API (PCA and SCM), usable with the official Huawei Cloud SDKs.
#[derive(Debug, Parser)]
#[command(name = "openccm", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the HTTP API. The first start creates the data directory: the
    /// SQLite database, the master key that seals every secret, and a bootstrap
    /// administrator whose credentials are printed once and kept in
    /// `<data-dir>/credentials.toml`.
    Serve(Box<config::ServeArgs>),
    /// Administer accounts, IAM users, access keys, groups and identity
    /// policies directly on the store (the same data directory, database and
    /// master key as `serve`; it may run while servers do).
    Admin(Box<admin::AdminArgs>),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve::run(*args),
        Command::Admin(args) => admin::run(*args),
    }
}
