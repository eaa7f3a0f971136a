//! Huawei Cloud CCM wire types.
//!
//! Owns the JSON shapes that cross the HTTP edge exactly as the official SDKs
//! spell them (`error_code`/`error_msg`, IAM token bodies, ...) and the
//! catalogue of error codes. It must never depend on anything but serde: the
//! domain crates do not see these types, `openccm-http` converts.
//!
//! Modules:
//! - [`error`]: the Huawei error body and the code catalogue.
//! - [`iam`]: the IAM subset (tokens, domains, projects).
//! - [`pca`]: Private CA bodies.
//! - [`scm`]: SSL certificate manager bodies.

pub mod error;
pub mod iam;
pub mod pca;
pub mod scm;
pub mod tags;

pub use error::{ErrorBody, ErrorCode};
