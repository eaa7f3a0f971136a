//! Key custody.
//!
//! Owns the master keyring (the key-encryption keys that seal every secret at
//! rest) and every private key of the service. This is the only crate that
//! sees raw key bytes; the rest of the code asks a [`KeyStore`] by
//! [`KeyHandle`], and everything it hands out is either sealed, a signer, or
//! an export to the key's owner (zeroized on drop).
//!
//! It must never know about CAs, tenants, SQL or HTTP.
//!
//! Modules:
//! - [`keyring`]: the versioned master key file and AEAD sealing under it.
//! - [`keys`]: software key pairs (OpenSSL): generation, signing, sealing.
//! - [`export`]: the only ways a private key leaves: PEM/PKCS#8 (optionally
//!   encrypted), PKCS#12, and the SM2 enveloped key.
//! - [`store`]: the [`KeyStore`] interface, key handles, pending keys.
//! - [`software`]: the software key store (sealed under the keyring).
//! - [`pkcs11`]: the PKCS#11 key store (CA keys in a token).

pub mod export;
pub mod keyring;
pub mod keys;
pub mod pkcs11;
pub mod software;
pub mod store;

pub use keys::SoftwareKey;
pub use pkcs11::{Pkcs11Config, Pkcs11KeyStore};
pub use software::SoftwareKeyStore;
pub use store::{KeyExport, KeyHandle, KeyStore, KeyUse, PendingKey};

pub use keyring::{
    replace_private_file, write_new_private_file, Keyring, KeyringError, SealedSecret,
};
