//! Key custody.
//!
//! Owns the master keyring (the key-encryption keys that seal every secret at
//! rest) and, later, the signing keys of the CAs. This is the only crate that
//! sees raw key bytes; everything it hands out is either sealed, or wrapped so
//! that it is zeroized on drop.
//!
//! It must never know about CAs, tenants, SQL or HTTP.
//!
//! Modules:
//! - [`keyring`]: the versioned master key file and AEAD sealing under it.

pub mod keyring;

pub use keyring::{
    replace_private_file, write_new_private_file, Keyring, KeyringError, SealedSecret,
};
