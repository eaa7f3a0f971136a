//! OpenCCM's application layer.
//!
//! Owns the use cases: `iam` (who is calling, and what they may do), and, as
//! they land, `pca` and `scm`. It speaks in domain types and [`Error`]; it
//! knows nothing of HTTP status codes or JSON shapes (`openccm-http`
//! translates) and nothing of SQL (`openccm-store` is behind traits).
//!
//! Time comes from an injected [`Clock`], randomness from the OS CSPRNG.
//!
//! Modules:
//! - [`audit`]: the hash-chained audit trail.
//! - [`clock`]: the `Clock` trait and the system clock.
//! - [`error`]: the error every use case returns.
//! - [`iam`]: AK/SK signatures, tokens, passwords, bootstrap, `Caller`.
//! - [`pca`]: the private CA.
//! - [`scm`]: the SSL certificate manager.
//! - [`pool`]: the thread pools that run cryptography off the executor.
//! - [`metrics`]: what the application counts, for Prometheus.
//! - [`rotation`]: master-key rotation, re-sealing every stored secret.
//! - [`notify`]: expiry notifications, queued and delivered.
//! - [`common`]: rules shared by the services.

pub mod audit;
pub mod clock;
pub mod common;
pub mod error;
pub mod iam;
pub mod metrics;
pub mod notify;
pub mod pca;
pub mod pool;
pub mod rotation;
pub mod scm;
pub mod tags;

pub use clock::{Clock, SystemClock};
pub use error::{Error, Invalid, Result};
