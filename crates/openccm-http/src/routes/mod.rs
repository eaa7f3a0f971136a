//! Handlers, one module per API family.

pub mod admin;
pub mod health;
pub mod iam;
pub mod pca;
pub mod scm;
