//! The store's traits: everything the application may ask of storage,
//! one trait per concern, and [`Store`], all of them. SQL behind them is in
//! `queries/` (one text for both backends).

#![allow(clippy::wildcard_imports)]

use async_trait::async_trait;

use crate::domain::*;
use crate::ids::*;
use crate::records::*;
use crate::{BeforeCommit, BootstrapOutcome, StoreResult};

/// Schema metadata: master-key check values.
#[async_trait]
pub trait MetaStore: Send + Sync {
    /// Every stored (version, check value) pair.
    async fn key_checks(&self) -> StoreResult<Vec<(u32, Vec<u8>)>>;
    /// Records the check value of a key version; a value already stored for
    /// that version is left as is.
    async fn add_key_check(&self, version: u32, check_value: &[u8], now_ms: i64)
        -> StoreResult<()>;
    /// Closes the connections, waiting for in-flight queries (graceful shutdown).
    async fn close(&self);
    /// Whether a write, once its future has been polled, goes on to its
    /// commit without being polled again (SQLite's writer thread runs it);
    /// else (PostgreSQL) its future must be driven to the end on the runtime.
    fn writes_run_unpolled(&self) -> bool;
}

/// The audit trail: an append-only hash chain.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends `events` in order, each linked to the one before by `chain`,
    /// in one transaction that holds the chain's head: appends from several
    /// servers never fork the chain. Returns the seqs given.
    async fn append_audit(
        &self,
        events: std::sync::Arc<[AuditEvent]>,
        chain: AuditChainer,
    ) -> StoreResult<Vec<i64>>;
    /// Up to `limit` events after `after_seq`, in seq order.
    async fn audit_events(&self, after_seq: i64, limit: i64)
        -> StoreResult<Vec<ChainedAuditEvent>>;
    /// The seq of the last event before `at` (0 if none): where an export
    /// "since `at`" starts.
    async fn audit_seq_before(&self, at: i64) -> StoreResult<i64>;
    /// The head of the chain.
    async fn audit_head(&self) -> StoreResult<AuditHead>;
}

/// Accounts, users, access keys and projects.
#[async_trait]
pub trait IamStore: Send + Sync {
    /// Creates the bootstrap administrator unless one exists. Safe to race
    /// from several processes: exactly one creates it.
    async fn bootstrap(
        &self,
        plan: &BootstrapPlan,
        before_commit: BeforeCommit,
    ) -> StoreResult<BootstrapOutcome>;
    /// One account by id.
    async fn account(&self, id: &DomainId) -> StoreResult<Option<Account>>;
    /// One account by name.
    async fn account_by_name(&self, name: &str) -> StoreResult<Option<Account>>;
    /// One user by id.
    async fn user(&self, id: &UserId) -> StoreResult<Option<User>>;
    /// One user by account and name.
    async fn user_by_name(&self, domain: &DomainId, name: &str) -> StoreResult<Option<User>>;
    /// One access key by its AK.
    async fn access_key(&self, access_key: &AccessKeyId) -> StoreResult<Option<AccessKey>>;
    /// The projects of an account, optionally only the one with `name`.
    async fn projects(&self, domain: &DomainId, name: Option<&str>) -> StoreResult<Vec<Project>>;
    /// The failed logins and lock of `subject` (a user id), if it has any
    /// since its last success.
    async fn login_failures(&self, subject: &str) -> StoreResult<Option<LoginFailures>>;
    /// Counts a failed login of `subject` at `now`, atomically across
    /// servers: failures older than the window start a new count, and
    /// reaching `lockout.max_failures` locks the subject until
    /// `now + lockout.lock_ms` (`newly_locked` is true for the one failure
    /// that did it). Failures while locked change nothing.
    async fn record_login_failure(
        &self,
        subject: &str,
        now: i64,
        lockout: LockoutRule,
    ) -> StoreResult<LoginFailures>;
    /// Forgets a subject's failures and lock (after a successful login).
    async fn clear_login_failures(&self, subject: &str) -> StoreResult<()>;
}

/// Administration of accounts, users, access keys, groups and identity
/// policies. Everything but account creation is scoped to one account.
#[async_trait]
pub trait IamAdminStore: Send + Sync {
    /// Creates an account with its administrator, access key and project
    /// (a `Conflict` when the name is taken).
    async fn create_account(&self, plan: &BootstrapPlan) -> StoreResult<()>;
    /// Every account.
    async fn accounts(&self) -> StoreResult<Vec<Account>>;
    /// Creates a user (a `Conflict` when the name is taken in the account).
    async fn create_user(&self, user: &User) -> StoreResult<()>;
    /// The users of an account.
    async fn users(&self, domain: &DomainId) -> StoreResult<Vec<User>>;
    /// Replaces a user's password hash, enabled flag and credentials version.
    async fn update_user(&self, user: &User) -> StoreResult<bool>;
    /// Deletes a non-administrator user with its keys, memberships and
    /// attachments. Returns false if there was no such user.
    async fn delete_user(&self, domain: &DomainId, user: &UserId) -> StoreResult<bool>;
    /// Adds an access key unless the user holds `max_per_user` already (or
    /// is not in the account): false, nothing written.
    async fn create_access_key(&self, key: &AccessKey, max_per_user: i64) -> StoreResult<bool>;
    /// The access keys of an account, or of one of its users.
    async fn access_keys(
        &self,
        domain: &DomainId,
        user: Option<&UserId>,
    ) -> StoreResult<Vec<AccessKey>>;
    /// Enables/disables an access key or changes its description.
    async fn update_access_key(
        &self,
        domain: &DomainId,
        key: &AccessKeyId,
        enabled: Option<bool>,
        description: Option<&str>,
    ) -> StoreResult<bool>;
    /// Deletes an access key.
    async fn delete_access_key(&self, domain: &DomainId, key: &AccessKeyId) -> StoreResult<bool>;
    /// Creates a group (a `Conflict` when the name is taken).
    async fn create_group(&self, group: &Group) -> StoreResult<()>;
    /// The groups of an account.
    async fn groups(&self, domain: &DomainId) -> StoreResult<Vec<Group>>;
    /// Deletes a group with its memberships and attachments.
    async fn delete_group(&self, domain: &DomainId, group: &GroupId) -> StoreResult<bool>;
    /// Adds or removes a user to or from a group (false if either is not in the account).
    async fn set_group_member(
        &self,
        domain: &DomainId,
        group: &GroupId,
        user: &UserId,
        member: bool,
    ) -> StoreResult<bool>;
    /// Stores a policy (a `Conflict` when the name is taken).
    async fn create_policy(&self, policy: &PolicyRecord) -> StoreResult<()>;
    /// One policy.
    async fn policy(&self, domain: &DomainId, id: &PolicyId) -> StoreResult<Option<PolicyRecord>>;
    /// The policies of an account.
    async fn policies(&self, domain: &DomainId) -> StoreResult<Vec<PolicyRecord>>;
    /// Deletes a policy and its attachments.
    async fn delete_policy(&self, domain: &DomainId, id: &PolicyId) -> StoreResult<bool>;
    /// Attaches or detaches a policy (false if either is not in the account).
    async fn set_attachment(
        &self,
        domain: &DomainId,
        policy: &PolicyId,
        principal: &Principal,
        attached: bool,
        now: i64,
    ) -> StoreResult<bool>;
    /// The policies that apply to a user: attached to it or to its groups.
    async fn policies_of_user(
        &self,
        domain: &DomainId,
        user: &UserId,
    ) -> StoreResult<Vec<PolicyRecord>>;
}

/// A certificate for [`PcaStore::import_certificates`]: its record (signed,
/// serials and digests filled in; `revoked_at` and `revocation_reason` set
/// for a revoked one) and its tags.
#[derive(Debug, Clone)]
pub struct ImportedCertificate {
    /// The certificate.
    pub record: CertRecord,
    /// Its tags (key, value).
    pub tags: Vec<(String, String)>,
}

/// A serial number reservation: unique per issuing CA, forever.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerialReservation {
    /// The issuing CA (itself, for a root).
    pub issuer_id: CaId,
    /// The serial (hex).
    pub serial: String,
    /// For an issuance intent: SHA-256 of the linted TBS the serial goes into.
    pub tbs_digest: Option<Vec<u8>>,
}

/// Private CAs and their certificates.
///
/// Reads never return what another account owns, and treat a CA whose
/// scheduled deletion time has passed as gone. Writes that depend on a state
/// are conditional: they report whether the state still held.
#[async_trait]
pub trait PcaStore: Send + Sync {
    /// Inserts a CA, reserving `serial` and checking that the account has
    /// fewer than `quota` listed CAs, atomically.
    async fn insert_ca(
        &self,
        ca: &CaRecord,
        serial: Option<&SerialReservation>,
        quota: Option<i64>,
        now: i64,
    ) -> StoreResult<InsertOutcome>;
    /// One CA of the account (not gone at `now`).
    async fn ca(&self, domain: &DomainId, ca_id: &CaId, now: i64) -> StoreResult<Option<CaRecord>>;
    /// Listed CAs of the account matching `filter`: total and the page.
    async fn list_cas(
        &self,
        domain: &DomainId,
        filter: &CaFilter,
        page: Page,
        now: i64,
    ) -> StoreResult<(i64, Vec<CaRecord>)>;
    /// Listed CAs of the account that count against the quota.
    async fn count_cas(&self, domain: &DomainId, now: i64) -> StoreResult<i64>;
    /// Replaces the CA's mutable fields if its status is one of `expected`,
    /// reserving `serial` in the same transaction.
    async fn update_ca(
        &self,
        ca: &CaRecord,
        expected: &[CaState],
        serial: Option<&SerialReservation>,
    ) -> StoreResult<UpdateOutcome>;
    /// Revokes a CA: replaces its fields as [`Self::update_ca`] does and, when
    /// OpenCCM's CA signed its certificate, lists that certificate under its
    /// issuer's revocations, in one transaction.
    async fn revoke_ca(&self, ca: &CaRecord, expected: &[CaState]) -> StoreResult<UpdateOutcome>;
    /// Removes a CA whose status is one of `expected` (pending CAs). Returns
    /// whether it was removed.
    async fn remove_ca(
        &self,
        domain: &DomainId,
        ca_id: &CaId,
        expected: &[CaState],
    ) -> StoreResult<bool>;
    /// Records an issuance intent before anything is signed: reserves
    /// `serials` for `cert` for good (with the TBS digests) and writes the
    /// intent, if the account has fewer than `quota` certificates. Nothing is
    /// written unless everything is.
    async fn insert_certificate_intent(
        &self,
        cert: &CertRecord,
        serials: &[SerialReservation],
        quota: Option<i64>,
    ) -> StoreResult<InsertOutcome>;
    /// Completes an intent: removes it and stores the signed certificate.
    /// Returns false (nothing written) if the intent is no longer pending.
    async fn complete_certificate(&self, cert: &CertRecord) -> StoreResult<bool>;
    /// Drops an intent whose signing failed: its serials become `FAILED`
    /// (never reused) and its quota is given back.
    async fn fail_certificate(&self, cert: &CertRecord) -> StoreResult<()>;
    /// Drops the intents older than `before` (left by a crash), as
    /// [`Self::fail_certificate`] does. Returns how many there were.
    async fn fail_stale_intents(&self, before: i64) -> StoreResult<u64>;
    /// One issued, undeleted certificate of the account.
    async fn certificate(
        &self,
        domain: &DomainId,
        cert_id: &CertId,
    ) -> StoreResult<Option<CertRecord>>;
    /// Issued, undeleted certificates matching `filter`: total and the page
    /// (without DER or keys).
    async fn list_certificates(
        &self,
        domain: &DomainId,
        filter: &CertFilter,
        page: Page,
        now: i64,
    ) -> StoreResult<(i64, Vec<CertRecord>)>;
    /// One issued, undeleted certificate of the account by its issuer and
    /// serial (hex, as recorded).
    async fn certificate_by_serial(
        &self,
        domain: &DomainId,
        issuer: &CaId,
        serial: &str,
    ) -> StoreResult<Option<CertRecord>>;
    /// Certificates of the account that count against the quota.
    async fn count_certificates(&self, domain: &DomainId) -> StoreResult<i64>;
    /// Stores certificates signed in full outside the issuance pipeline, in
    /// one durable transaction: each one's serials (with their TBS digests),
    /// row, quota count (no limit applies), revocation and tags. For bulk
    /// loads such as the scale benchmark's fixture (`crates/openccm-fixture`);
    /// nothing is written unless everything is. A serial already taken
    /// fails the whole batch. Those expired by `now` are stored as such.
    async fn import_certificates(&self, certs: &[ImportedCertificate], now: i64)
        -> StoreResult<()>;
    /// Revokes an issued, unexpired, unrevoked certificate and lists its
    /// serials (both of an SM2 dual certificate) under its issuer's
    /// revocations, in one transaction. Returns false if it was not in that
    /// state.
    async fn revoke_certificate(
        &self,
        domain: &DomainId,
        cert_id: &CertId,
        reason: RevocationReason,
        now: i64,
    ) -> StoreResult<bool>;
    /// Deletes (hides) a certificate. Returns false if there was none.
    async fn delete_certificate(
        &self,
        domain: &DomainId,
        cert_id: &CertId,
        now: i64,
    ) -> StoreResult<bool>;
}

/// Revocation as CRLs and OCSP see it, across every account: relying
/// parties ask by issuing CA and serial, never by account.
#[async_trait]
pub trait RevocationStore: Send + Sync {
    /// What the store knows of `serial` (lower-case hex) under `issuer`.
    async fn serial_status(&self, issuer: &CaId, serial: &str) -> StoreResult<SerialStatus>;
    /// The CA's counters as they stand (zeros before its first revocation
    /// or CRL).
    async fn crl_counters(&self, ca: &CaId) -> StoreResult<CrlCounters>;
    /// Draws the CA's next CRL number (durably) and reads, with it, the seq
    /// of the CA's latest committed revocation: a CRL listing revocations up
    /// to that seq never lists less than one with a lower number.
    async fn next_crl_number(&self, ca: &CaId) -> StoreResult<CrlCounters>;
    /// At most `limit` revocations under `issuer` with a seq in
    /// `(after_seq, up_to_seq]` and a notAfter at or after `unexpired_at`,
    /// in seq order (page on with the last seq).
    async fn revocations(
        &self,
        issuer: &CaId,
        after_seq: i64,
        up_to_seq: i64,
        unexpired_at: i64,
        limit: i64,
    ) -> StoreResult<Vec<RevocationEntry>>;
    /// How many revocations under `issuer` have a seq in `(after_seq, up_to_seq]`.
    async fn count_revocations(
        &self,
        issuer: &CaId,
        after_seq: i64,
        up_to_seq: i64,
    ) -> StoreResult<i64>;
    /// Every serial under `issuer` whose certificate record says it is
    /// revoked (certificates, both of an SM2 pair, and subordinate CAs),
    /// with its notAfter: read from the records themselves, not from the
    /// revocations CRLs are built from, so that a check can catch a
    /// revocation that never reached them.
    async fn revoked_in_records(&self, issuer: &CaId) -> StoreResult<Vec<(String, i64)>>;
    /// The CA's stored full CRL; its DER only `with_der`.
    async fn full_crl(&self, ca: &CaId, with_der: bool) -> StoreResult<Option<StoredCrl>>;
    /// Stores a full CRL unless one with a number as high is stored already
    /// (another server's). Returns whether it was stored, and the CRL (its
    /// DER is moved through, not copied).
    async fn save_full_crl(&self, ca: &CaId, crl: StoredCrl) -> StoreResult<(bool, StoredCrl)>;
    /// A CA of any account by id, unless it is gone at `now` (relying
    /// parties name CAs by id alone).
    async fn issuing_ca(&self, ca: &CaId, now: i64) -> StoreResult<Option<CaRecord>>;
    /// Every CA, of any account, that publishes a CRL and can sign one (and
    /// is not gone at `now`).
    async fn crl_issuing_cas(&self, now: i64) -> StoreResult<Vec<CaRecord>>;
    /// The feed of CA changes (revocations under a CA, its settings, its
    /// status), from this server and every other sharing the database.
    fn subscribe(&self) -> tokio::sync::broadcast::Receiver<StoreEvent>;
}

/// SSL certificates, CSRs, tags and expiry-notification settings.
///
/// Every read and write is scoped to one account: another account's id
/// behaves exactly like an unknown one.
#[async_trait]
pub trait ScmStore: Send + Sync {
    /// Inserts an imported certificate; with `duplicate_check`, refuses one
    /// whose fingerprint the account holds already (atomically).
    async fn insert_scm_certificate(
        &self,
        cert: &ScmCertRecord,
        duplicate_check: bool,
    ) -> StoreResult<ScmInsertOutcome>;
    /// One certificate of the account, with its PEM and sealed keys.
    async fn scm_certificate(
        &self,
        domain: &DomainId,
        id: &ScmCertId,
    ) -> StoreResult<Option<ScmCertRecord>>;
    /// A page of the account's certificates matching `filter` (without PEM
    /// or keys).
    async fn list_scm_certificates(
        &self,
        domain: &DomainId,
        filter: &ScmCertFilter,
        page: Page,
        now: i64,
    ) -> StoreResult<Vec<ScmCertRecord>>;
    /// How many certificates match `filter`, counting no further than `cap`.
    async fn count_scm_certificates(
        &self,
        domain: &DomainId,
        filter: &ScmCertFilter,
        now: i64,
        cap: i64,
    ) -> StoreResult<i64>;
    /// Deletes a certificate with its tags and notification settings.
    /// Returns false if there was none.
    async fn delete_scm_certificate(&self, domain: &DomainId, id: &ScmCertId) -> StoreResult<bool>;
    /// Adds (or replaces the values of) tags on a resource of the account,
    /// unless it would then carry more than `max_per_resource`.
    async fn add_tags(
        &self,
        domain: &DomainId,
        resource: TaggedResource,
        id: &str,
        tags: &[(String, String)],
        max_per_resource: usize,
    ) -> StoreResult<TagOutcome>;
    /// Removes tags by key (and value, when given).
    async fn remove_tags(
        &self,
        domain: &DomainId,
        resource: TaggedResource,
        id: &str,
        tags: &[(String, Option<String>)],
    ) -> StoreResult<TagOutcome>;
    /// The tags of some resources of the account: (resource id, key, value).
    async fn tags_of(
        &self,
        domain: &DomainId,
        resource: TaggedResource,
        ids: &[String],
    ) -> StoreResult<Vec<(String, String, String)>>;
    /// Every (key, value) used on the live resources of a type in the
    /// account at `now` (only on resources `visibility` shows, when given).
    async fn all_tags(
        &self,
        domain: &DomainId,
        resource: TaggedResource,
        visibility: Option<&Visibility>,
        now: i64,
    ) -> StoreResult<Vec<(String, String)>>;
    /// Stores a CSR.
    async fn insert_csr(&self, csr: &CsrRecord) -> StoreResult<()>;
    /// One CSR of the account.
    async fn csr(&self, domain: &DomainId, id: &CsrId) -> StoreResult<Option<CsrRecord>>;
    /// The account's CSRs for a public key (by its SHA-256), newest first.
    async fn csrs_by_public_key(
        &self,
        domain: &DomainId,
        public_key_sha256: &str,
    ) -> StoreResult<Vec<CsrRecord>>;
    /// A page of the account's CSRs and the total.
    async fn list_csrs(
        &self,
        domain: &DomainId,
        filter: &CsrFilter,
        page: Page,
    ) -> StoreResult<(i64, Vec<CsrRecord>)>;
    /// Renames a CSR. Returns false if there was none.
    async fn rename_csr(
        &self,
        domain: &DomainId,
        id: &CsrId,
        name: &str,
        now: i64,
    ) -> StoreResult<bool>;
    /// Deletes a CSR. Returns false if there was none.
    async fn delete_csr(&self, domain: &DomainId, id: &CsrId) -> StoreResult<bool>;
    /// Turns notice types on or off for certificates of the account: all or
    /// nothing (false, nothing written, if any certificate is not there).
    async fn set_notifications(
        &self,
        domain: &DomainId,
        entries: &[(ScmCertId, String)],
        enabled: bool,
        now: i64,
    ) -> StoreResult<bool>;
    /// The notification settings of a certificate: (notice type, enabled).
    async fn notifications(
        &self,
        domain: &DomainId,
        id: &ScmCertId,
    ) -> StoreResult<Vec<(String, bool)>>;
}

/// Certificates of one account that expire within two windows:
/// (by `soon`, by `later`), the second including the first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExpiringCounts {
    /// Live, unrevoked private certificates.
    pub private: (i64, i64),
    /// Private CAs, active or disabled.
    pub cas: (i64, i64),
    /// SSL certificates (SCM).
    pub ssl: (i64, i64),
}

/// Figures over many rows, for the metrics.
#[async_trait]
pub trait ReportStore: Send + Sync {
    /// What of `domain` expires after `now` and by `soon`, and by `later`
    /// (epoch ms; `soon` ≤ `later`).
    async fn expiring(
        &self,
        domain: &DomainId,
        now: i64,
        soon: i64,
        later: i64,
    ) -> StoreResult<ExpiringCounts>;
}

/// Where a sealed secret is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SealedColumn {
    /// The secret key of an access key (`sk:` + access key).
    AccessKeySecret,
    /// A private CA's key.
    CaKey,
    /// A private certificate's generated key.
    CertificateKey,
    /// The generated encryption key of an SM2 dual certificate.
    CertificateEncKey,
    /// An SSL certificate's private key.
    SslCertificateKey,
    /// The encryption key of an SM2 SSL certificate.
    SslCertificateEncKey,
    /// The key generated with an SSL CSR.
    SslCsrKey,
    /// An account's webhook HMAC secret (`webhook:` + the account id).
    WebhookSecret,
    /// An ACME external account binding key's HMAC key.
    AcmeEabKey,
}

impl SealedColumn {
    /// Every place secrets are sealed in.
    pub const ALL: [Self; 9] = [
        Self::AccessKeySecret,
        Self::CaKey,
        Self::CertificateKey,
        Self::CertificateEncKey,
        Self::SslCertificateKey,
        Self::SslCertificateEncKey,
        Self::SslCsrKey,
        Self::WebhookSecret,
        Self::AcmeEabKey,
    ];

    /// A name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::AccessKeySecret => "access key secrets",
            Self::CaKey => "CA keys",
            Self::CertificateKey => "certificate keys",
            Self::CertificateEncKey => "SM2 encryption keys",
            Self::SslCertificateKey => "SSL certificate keys",
            Self::SslCertificateEncKey => "SSL SM2 encryption keys",
            Self::SslCsrKey => "SSL CSR keys",
            Self::WebhookSecret => "webhook secrets",
            Self::AcmeEabKey => "ACME EAB keys",
        }
    }
}

/// One sealed secret as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedRow {
    /// The row's id.
    pub id: String,
    /// Whom the secret is sealed for (its associated data names it).
    pub owner: String,
    /// The sealed blob.
    pub sealed: Vec<u8>,
}

impl std::fmt::Debug for SealedRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealedRow")
            .field("id", &self.id)
            .field("owner", &self.owner)
            .finish_non_exhaustive()
    }
}

/// Master-key rotation: re-sealing every stored secret.
#[async_trait]
pub trait KeyRotationStore: Send + Sync {
    /// Up to `limit` secrets of `column` not sealed under `version`, with
    /// ids after `after`, in id order.
    async fn sealed_not_under(
        &self,
        column: SealedColumn,
        version: u32,
        after: &str,
        limit: i64,
    ) -> StoreResult<Vec<SealedRow>>;
    /// Replaces sealed blobs, (id, old, new) each, in one transaction; a
    /// row whose blob is no longer `old` is left alone. Returns how many
    /// were replaced.
    async fn replace_sealed(
        &self,
        column: SealedColumn,
        changes: Vec<(String, Vec<u8>, Vec<u8>)>,
    ) -> StoreResult<u64>;
    /// The version of a rotation begun and not finished, if any.
    async fn unfinished_rotation(&self) -> StoreResult<Option<u32>>;
    /// Records that secrets are being re-sealed under `version`; false when
    /// a rotation to `version` was recorded already (another run's).
    async fn begin_rotation(&self, version: u32, now: i64) -> StoreResult<bool>;
    /// The version of every rotation recorded, lowest first.
    async fn rotations(&self) -> StoreResult<Vec<u32>>;
    /// A running server says which key versions it holds; check-ins older
    /// than `forget_before` (servers long stopped) are dropped.
    async fn record_server_keys(
        &self,
        server_id: &str,
        host: &str,
        versions: &[u32],
        now: i64,
        forget_before: i64,
    ) -> StoreResult<()>;
    /// The servers that checked in at or after `since`: (id, host,
    /// versions held).
    async fn servers_seen_since(&self, since: i64) -> StoreResult<Vec<(String, String, Vec<u32>)>>;
    /// Records that servers may seal under `version` (every running server
    /// holds it).
    async fn rotation_sealing(&self, version: u32, now: i64) -> StoreResult<()>;
    /// The newest key version servers may seal under: the newest known,
    /// but for a rotation's that is not sealing yet.
    async fn sealable_version(&self) -> StoreResult<Option<u32>>;
    /// Records that every secret is sealed under `version`.
    async fn finish_rotation(&self, version: u32, now: i64) -> StoreResult<()>;
}

/// Expiry notifications: channels per account, what expires, the outbox.
#[async_trait]
pub trait NotificationStore: Send + Sync {
    /// Sets (replaces) an account's channels.
    async fn set_channels(&self, channels: &NotificationChannels) -> StoreResult<()>;
    /// An account's channels, if set.
    async fn channels(&self, domain: &DomainId) -> StoreResult<Option<NotificationChannels>>;
    /// Every account's channels.
    async fn all_channels(&self) -> StoreResult<Vec<NotificationChannels>>;
    /// Up to `limit` unrevoked certificates and CAs of `domain` whose
    /// notAfter is after `after` and at or before `until`, soonest first
    /// per kind.
    async fn expiring_between(
        &self,
        domain: &DomainId,
        after: i64,
        until: i64,
        limit: i64,
    ) -> StoreResult<Vec<ExpiringResource>>;
    /// Queues notices; one already queued (same event id) is left as it
    /// is. Returns how many were new.
    async fn enqueue_notices(&self, entries: Vec<OutboxEntry>) -> StoreResult<u64>;
    /// Claims up to `limit` undelivered notices due at `now`: each is
    /// leased (its next attempt moved to `lease_until`) to this caller
    /// alone, so that two servers never send one notice at once.
    async fn claim_due_notices(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> StoreResult<Vec<OutboxEntry>>;
    /// Marks a notice delivered, if this sender's lease (`lease_until`, as
    /// claimed) still holds it.
    async fn notice_delivered(&self, event_id: &str, lease_until: i64, now: i64)
        -> StoreResult<()>;
    /// Records a failed try: one more attempt, the next at
    /// `next_attempt_at` (if this sender's lease still holds it).
    async fn notice_failed(
        &self,
        event_id: &str,
        lease_until: i64,
        next_attempt_at: i64,
        error: &str,
    ) -> StoreResult<()>;
    /// Drops a notice that can no longer go anywhere (its channel was
    /// removed).
    async fn drop_notice(&self, event_id: &str) -> StoreResult<()>;
    /// Removes delivered notices about resources that expired before
    /// `before` (past every lookback: never queued again). Returns how
    /// many.
    async fn prune_notices(&self, before: i64) -> StoreResult<u64>;
    /// An account's notices, newest first (for `openccm admin`).
    async fn notices(
        &self,
        domain: &DomainId,
        limit: i64,
    ) -> StoreResult<Vec<(OutboxEntry, Option<i64>)>>;
}

/// ACME on private CAs: settings per CA and external account binding keys.
///
/// Every call is scoped to one account: another account's CA or key is
/// as absent as an unknown one, and a write for it changes nothing.
#[async_trait]
pub trait AcmeStore: Send + Sync {
    /// A CA's ACME settings, if ever configured.
    async fn acme_settings(
        &self,
        domain: &DomainId,
        ca: &CaId,
    ) -> StoreResult<Option<AcmeSettings>>;
    /// Sets (replaces) a CA's ACME settings; false when the CA is not the
    /// settings' account's.
    async fn put_acme_settings(&self, settings: &AcmeSettings) -> StoreResult<bool>;
    /// Stores a new EAB key; false when its CA is not the key's account's.
    async fn insert_eab_key(&self, key: &EabKey) -> StoreResult<bool>;
    /// A CA's EAB keys, oldest first (made in one millisecond: by id).
    async fn eab_keys(&self, domain: &DomainId, ca: &CaId) -> StoreResult<Vec<EabKey>>;
    /// Deletes an EAB key; returns it (its binding tells what else must
    /// go), or `None` if there is no such key.
    async fn delete_eab_key(
        &self,
        domain: &DomainId,
        ca: &CaId,
        key_id: &str,
    ) -> StoreResult<Option<EabKey>>;

    /// One EAB key of a CA.
    async fn eab_key(
        &self,
        domain: &DomainId,
        ca: &CaId,
        key_id: &str,
    ) -> StoreResult<Option<EabKey>>;
    /// Records that a nonce was spent; false when it was already. Spent
    /// nonces well past their expiry are forgotten now and then.
    async fn spend_acme_nonce(&self, nonce: &str, expires_at: i64, now: i64) -> StoreResult<bool>;
    /// Stores a new ACME account, binding its EAB key (if any) to it in the
    /// same transaction.
    async fn insert_acme_account(&self, account: &AcmeAccount) -> StoreResult<AcmeAccountInsert>;
    /// A CA's ACME account by id.
    async fn acme_account(&self, ca: &CaId, account_id: &str) -> StoreResult<Option<AcmeAccount>>;
    /// A CA's ACME account by its key's thumbprint.
    async fn acme_account_by_key(
        &self,
        ca: &CaId,
        thumbprint: &str,
    ) -> StoreResult<Option<AcmeAccount>>;
    /// Replaces a valid account's status, key and contact if its key is
    /// still `expected_thumbprint`'s; `None` when it is no longer valid or
    /// its key changed meanwhile, `Some(false)` when the new key is another
    /// account's of the CA.
    async fn update_acme_account(
        &self,
        account: &AcmeAccount,
        expected_thumbprint: &str,
    ) -> StoreResult<Option<bool>>;
    /// Stores a new order with its authorizations.
    async fn insert_acme_order(&self, order: &AcmeOrder, authzs: &[AcmeAuthz]) -> StoreResult<()>;
    /// A CA's order by id.
    async fn acme_order(&self, ca: &CaId, order_id: &str) -> StoreResult<Option<AcmeOrder>>;
    /// An order's authorizations (in no particular order).
    async fn acme_order_authzs(&self, ca: &CaId, order_id: &str) -> StoreResult<Vec<AcmeAuthz>>;
    /// An account's orders, newest first, at most `limit`.
    async fn acme_orders_of(
        &self,
        ca: &CaId,
        account_id: &str,
        limit: i64,
    ) -> StoreResult<Vec<String>>;
    /// The order a certificate was issued for.
    async fn acme_order_of_certificate(
        &self,
        ca: &CaId,
        certificate: &CertId,
    ) -> StoreResult<Option<AcmeOrder>>;
    /// Replaces an order's status, error and certificate if its stored
    /// status is still `expected`.
    async fn update_acme_order(
        &self,
        order: &AcmeOrder,
        expected: AcmeOrderStatus,
    ) -> StoreResult<bool>;
    /// A CA's authorization by id.
    async fn acme_authz(&self, ca: &CaId, authz_id: &str) -> StoreResult<Option<AcmeAuthz>>;
    /// Replaces an authorization's status, challenge state and error if it
    /// is still `expected` (stored status, and whether it was processing).
    async fn update_acme_authz(
        &self,
        authz: &AcmeAuthz,
        expected: (AcmeAuthzStatus, bool),
    ) -> StoreResult<bool>;
}

/// Console sessions ended before their expiry (sign-out).
#[async_trait]
pub trait ConsoleSessionStore: Send + Sync {
    /// Records that the session whose token digest is `digest` ended; kept
    /// until `expires_at` (the token's own expiry). Rows past their expiry
    /// are swept now and then (`now`).
    async fn end_console_session(&self, digest: &str, expires_at: i64, now: i64)
        -> StoreResult<()>;
    /// Whether the session whose token digest is `digest` was ended.
    async fn console_session_ended(&self, digest: &str) -> StoreResult<bool>;
}

/// Everything the application needs from storage.
pub trait Store:
    MetaStore
    + IamStore
    + IamAdminStore
    + PcaStore
    + RevocationStore
    + ScmStore
    + AuditStore
    + ReportStore
    + KeyRotationStore
    + NotificationStore
    + AcmeStore
    + ConsoleSessionStore
    + std::fmt::Debug
{
}

impl<
        T: MetaStore
            + IamStore
            + IamAdminStore
            + PcaStore
            + RevocationStore
            + ScmStore
            + AuditStore
            + ReportStore
            + KeyRotationStore
            + NotificationStore
            + AcmeStore
            + ConsoleSessionStore
            + std::fmt::Debug,
    > Store for T
{
}
