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
//! - [`keys`]: software key pairs (OpenSSL): generation, signing, sealing.
//! - [`export`]: the only ways a private key leaves: PEM/PKCS#8 (optionally
//!   encrypted), PKCS#12, and the SM2 enveloped key.
//! - [`custody`]: key handles, the cache of opened keys, the `Signer` they give.

pub mod custody;
pub mod export;
pub mod keyring;
pub mod keys;

pub use custody::{KeyCustody, KeyHandle};
pub use keys::SoftwareKey;

pub use keyring::{
    replace_private_file, write_new_private_file, Keyring, KeyringError, SealedSecret,
};
