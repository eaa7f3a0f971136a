//! What CRLs and OCSP answers are built from.

/// One revoked serial, as CRLs list it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationEntry {
    /// Serial (lower-case hex, as reserved).
    pub serial: String,
    /// The CA's revocation sequence number of this entry (commit order).
    pub seq: i64,
    /// Revocation time, epoch ms.
    pub revoked_at: i64,
    /// Revocation reason.
    pub reason: crate::RevocationReason,
    /// The certificate's notAfter, epoch ms.
    pub not_after: i64,
}

/// What the store knows of a serial under an issuing CA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SerialStatus {
    /// The CA never signed a certificate with this serial (or its issuance
    /// failed before anything left the service).
    Unknown,
    /// Issued (or being issued) and not revoked.
    Good,
    /// Revoked.
    Revoked {
        /// Revocation time, epoch ms.
        revoked_at: i64,
        /// Revocation reason.
        reason: crate::RevocationReason,
    },
}

/// A CA's CRL counters at one moment: both only grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CrlCounters {
    /// The CRL number handed out (0: none yet).
    pub crl_number: i64,
    /// The seq of the CA's latest revocation (0: none).
    pub revocation_seq: i64,
}

/// A full CRL as stored for every server.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredCrl {
    /// Its CRL number.
    pub crl_number: i64,
    /// It lists every revocation up to this seq (unexpired at `this_update`).
    pub revocation_seq: i64,
    /// thisUpdate, epoch ms.
    pub this_update: i64,
    /// nextUpdate, epoch ms.
    pub next_update: i64,
    /// The signed CRL (DER); empty when only the metadata was read.
    pub der: Vec<u8>,
    /// The delta CRL URL it names in freshestCRL, if any.
    pub freshest_url: Option<String>,
}

impl std::fmt::Debug for StoredCrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredCrl")
            .field("crl_number", &self.crl_number)
            .field("revocation_seq", &self.revocation_seq)
            .field("this_update", &self.this_update)
            .field("next_update", &self.next_update)
            .field("der_len", &self.der.len())
            .field("freshest_url", &self.freshest_url)
            .finish()
    }
}
