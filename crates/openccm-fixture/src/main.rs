//! Fills a store with many real, signed certificates for the scale
//! benchmark (`scripts/bench-scale`). Not part of the product: the server
//! never runs it, and it writes only to a store made for the benchmark.
//!
//! - Accounts and CAs go through the application, as the API creates them
//!   (EC P-256 roots with CRL and OCSP on), with the clock set four years
//!   back so that old certificates can have expired inside their CA's
//!   validity.
//! - Certificates are built, linted and signed by the profile code the
//!   issuance pipeline uses (`crates/openccm-app/src/pca/issuance.rs`), each
//!   with its CA's own key, and stored in batches through the store's
//!   `import_certificates`, which writes what a completed issuance writes
//!   (serial with TBS digest, row, quota count, revocation, tags). Skipped
//!   on purpose: the per-request work (HTTP, authentication, a CSR's
//!   signature check, one durable commit per certificate), which is what
//!   makes the API path take an hour for ten million.
//! - The mix: creation times spread evenly over the last two years with
//!   397-day validities (so about 45% have expired); one in ten revoked, one
//!   in five tagged, one in a hundred deleted; one in five with a
//!   server-generated key (sealed, exportable), the rest from CSRs whose
//!   subject keys come from a pool of 256 (a certificate's key need not be
//!   unique for what is measured).
//!
//! Writes the accounts' credentials to `<data-dir>/fixture-accounts.json`
//! (mode 0600) and prints one JSON summary line.

use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use openccm_app::common::{random_bytes, Field};
use openccm_app::iam::{Iam, IamSettings, PasswordLogin};
use openccm_app::pca::input::{CreateCa, CrlInput, ValidityInput, ValidityUnit};
use openccm_app::pca::{Pca, PcaSettings};
use openccm_app::pool::CryptoPools;
use openccm_app::Clock;
use openccm_custody::{KeyHandle, KeyStore, KeyUse, Keyring, SoftwareKey, SoftwareKeyStore};
use openccm_pki::profile::{
    self, CertKind, ExtendedKeyUsageFlags, IssuerInfo, KeyUsageSet, Serial, TbsRequest,
};
use openccm_pki::{DistinguishedName, HashAlgorithm, KeyAlgorithm, Signer};
use openccm_store::{
    CaRecord, CaType, CertId, CertRecord, DomainId, GenMode, ImportedCertificate, NameFields,
    RevocationReason, Store,
};

const DAY_MS: i64 = 86_400_000;
const YEAR_MS: i64 = 365 * DAY_MS;
/// The CA/Browser Forum's longest TLS validity: a realistic lifetime.
const VALIDITY_MS: i64 = 397 * DAY_MS;

#[derive(Debug, Parser)]
#[command(
    name = "openccm-fixture",
    about = "Fills a store with real, signed certificates (scale benchmark)"
)]
struct Args {
    /// The data directory (the master key, and the SQLite file by default).
    #[arg(long)]
    data_dir: PathBuf,
    /// `sqlite:<path>` or `postgres://...` [default: SQLite in the data directory].
    #[arg(long)]
    database_url: Option<String>,
    /// Certificates to add.
    #[arg(long)]
    certificates: u64,
    /// CAs, spread over the accounts.
    #[arg(long, default_value_t = 100)]
    cas: usize,
    /// Accounts.
    #[arg(long, default_value_t = 4)]
    accounts: usize,
    /// Certificates per transaction: each holds one account's, so this is
    /// exact when the CAs divide evenly among the accounts (the default).
    #[arg(long, default_value_t = 2000)]
    batch: usize,
    /// The base URL the certificates' CRL and OCSP URLs name.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    public_url: String,
}

/// A clock the fixture sets: years back while CAs are made.
#[derive(Debug)]
struct SetClock(AtomicI64);

impl Clock for SetClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// An issuing CA: its record, what the profile needs, its key.
struct Issuer {
    record: CaRecord,
    info: Arc<IssuerInfo>,
    signer: Arc<dyn Signer>,
    crl_url: Option<String>,
    ocsp_url: Option<String>,
}

type Failure = Box<dyn std::error::Error + Send + Sync>;

fn main() -> Result<(), Failure> {
    let args = Args::parse();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(args))
}

async fn run(args: Args) -> Result<(), Failure> {
    std::fs::create_dir_all(&args.data_dir)?;
    let url = args
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite:{}", args.data_dir.join("openccm.db").display()));
    let (keyring, _) = Keyring::load_or_create(&args.data_dir.join("master.key"))?;
    let keyring = Arc::new(keyring);
    let store = openccm_store::open(&url, 8).await?;
    let now = openccm_app::SystemClock.now_ms();
    let clock = Arc::new(SetClock(AtomicI64::new(now - 4 * YEAR_MS)));
    let iam = Iam::new(
        store.clone(),
        keyring.clone(),
        clock.clone(),
        IamSettings::default(),
    );
    let custody: Arc<dyn KeyStore> = Arc::new(SoftwareKeyStore::new(keyring));
    let pca = Pca::new(
        store.clone(),
        custody.clone(),
        clock.clone(),
        CryptoPools::for_this_machine()?,
        PcaSettings {
            public_url: args.public_url.clone(),
            ca_quota: i64::MAX,
            certificate_quota: i64::MAX,
            ..PcaSettings::default()
        },
        iam.authorizer(),
    );

    let started = Instant::now();
    let (issuers, accounts) = make_cas(&args, &iam, &pca, custody.as_ref(), &store).await?;
    let accounts_file = args.data_dir.join("fixture-accounts.json");
    openccm_custody::replace_private_file(
        &accounts_file,
        serde_json::to_string_pretty(&accounts)?.as_bytes(),
    )?;
    let cas_seconds = started.elapsed().as_secs_f64();

    let issuers = Arc::new(issuers);
    let subject_keys = Arc::new(
        (0..256)
            .map(|_| SoftwareKey::generate(KeyAlgorithm::Ec256).map(|k| k.public_key().to_vec()))
            .collect::<Result<Vec<_>, _>>()?,
    );
    // Signing runs on blocking threads, one batch each, while the store
    // writes earlier batches, one per core at once, two batches waiting
    // per core. Each batch holds one account's certificates, dealt out in
    // turn, so that batches written at once mostly take different counter
    // rows (certificate counts, usage and tag counts are per account, CRL
    // counters per CA) and do not queue on each other's locks; on
    // PostgreSQL the writes then use both cores (300 k certificates at
    // 2.6 k/s against 1.6 k/s one at a time). Two batches of one account
    // that meet take its counters in the same order, so the second waits
    // for the first: slower, never wrong. Which batch a certificate is in
    // changes nothing about it.
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<
        tokio::task::JoinHandle<Result<Vec<ImportedCertificate>, Failure>>,
    >(cores * 2);
    let total = args.certificates;
    let accounts = args.accounts.max(1) as u64;
    let round = args.batch as u64 * accounts;
    let producer = {
        let (issuers, subject_keys, custody) = (issuers.clone(), subject_keys, custody.clone());
        tokio::spawn(async move {
            let mut first = 0;
            while first < total {
                let last = (first + round).min(total);
                for account in 0..accounts {
                    let mine: Vec<u64> = (first..last)
                        .filter(|&i| account_of(i, issuers.len(), accounts) == account)
                        .collect();
                    if mine.is_empty() {
                        continue;
                    }
                    let (issuers, subject_keys, custody) =
                        (issuers.clone(), subject_keys.clone(), custody.clone());
                    let job = tokio::task::spawn_blocking(move || {
                        mine.into_iter()
                            .map(|i| {
                                certificate(
                                    i,
                                    total,
                                    now,
                                    &issuers,
                                    &subject_keys,
                                    custody.as_ref(),
                                )
                            })
                            .collect()
                    });
                    if sender.send(job).await.is_err() {
                        return;
                    }
                }
                first = last;
            }
        })
    };
    let mut stored = 0u64;
    let mut last_report = Instant::now();
    let mut writing = tokio::task::JoinSet::new();
    loop {
        // A free writer takes the next batch; otherwise (all busy, or no
        // batch left) wait for a write to finish.
        if writing.len() < cores {
            if let Some(job) = receiver.recv().await {
                let store = store.clone();
                writing.spawn(async move {
                    let certs: Vec<ImportedCertificate> = job.await??;
                    store.import_certificates(&certs, now).await?;
                    Ok::<u64, Failure>(certs.len() as u64)
                });
                continue;
            }
        }
        let Some(written) = writing.join_next().await else {
            break;
        };
        stored += written??;
        if last_report.elapsed().as_secs() >= 10 {
            last_report = Instant::now();
            eprintln!(
                "openccm-fixture: {stored} of {total} certificates ({:.0}/s)",
                per_second(stored, started.elapsed().as_secs_f64())
            );
        }
    }
    producer.await?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({
            "certificates": stored,
            "cas": issuers.len(),
            "accounts": args.accounts,
            "seconds": seconds,
            "cas_seconds": cas_seconds,
            "per_second": per_second(stored, seconds - cas_seconds),
            "accounts_file": accounts_file,
        })
    );
    Ok(())
}

/// The account (0 to `accounts` - 1) of certificate `i`: its CA's, as
/// `make_cas` deals CAs out to the accounts in turn.
fn account_of(i: u64, cas: usize, accounts: u64) -> u64 {
    (i % cas as u64) % accounts
}

/// A rate for the progress lines (precision beyond 2^52 is moot).
#[allow(clippy::cast_precision_loss)]
fn per_second(n: u64, seconds: f64) -> f64 {
    n as f64 / seconds.max(1e-9)
}

/// The accounts (named `scale-<n>`) and their CAs, made through the
/// application with the clock four years back. Returns the issuers and the
/// accounts' credentials.
async fn make_cas(
    args: &Args,
    iam: &Iam,
    pca: &Pca,
    custody: &dyn KeyStore,
    store: &Arc<dyn Store>,
) -> Result<(Vec<Issuer>, serde_json::Value), Failure> {
    let mut callers = Vec::new();
    let mut accounts = Vec::new();
    for n in 0..args.accounts.max(1) {
        let creds = iam.create_account(&format!("scale-{n}")).await?;
        let caller = iam
            .login_with_password(&PasswordLogin {
                domain_name: Some(&creds.domain_name),
                domain_id: None,
                user_name: Some(&creds.user_name),
                user_id: None,
                password: &creds.password,
                source: None,
            })
            .await?;
        accounts.push(serde_json::json!({
            "domain_id": creds.domain_id,
            "domain_name": creds.domain_name,
            "user_name": creds.user_name,
            "password": creds.password.as_str(),
        }));
        callers.push(caller);
    }
    let mut issuers = Vec::new();
    for n in 0..args.cas.max(1) {
        let caller = &callers[n % callers.len()];
        let id = pca
            .create_ca(
                caller,
                CreateCa {
                    ca_type: Some(CaType::Root),
                    distinguished_name: Some(DistinguishedName {
                        common_name: Some(format!("Scale CA {n}")),
                        country: Some("CN".to_owned()),
                        state: Some("Guangdong".to_owned()),
                        locality: Some("Shenzhen".to_owned()),
                        organization: Some("OpenCCM scale".to_owned()),
                        organizational_unit: Some("Benchmark".to_owned()),
                    }),
                    key_algorithm: Some(Field::Valid(KeyAlgorithm::Ec256)),
                    signature_algorithm: Some(Field::Valid(HashAlgorithm::Sha256)),
                    validity: Some(ValidityInput {
                        kind: Some(Field::Valid(ValidityUnit::Year)),
                        value: Some(10),
                        start_from: None,
                    }),
                    crl: Some(CrlInput {
                        enabled: Some(true),
                        crl_name: Some(format!("scale-{n}")),
                        bucket: Some("scale".to_owned()),
                        valid_days: Some(7),
                    }),
                    ..CreateCa::default()
                },
            )
            .await?;
        pca.set_ocsp(caller, &id, Some(true)).await?;
        let record = store
            .ca(&caller.domain_id, &id, i64::MIN)
            .await?
            .ok_or("a CA just made is missing")?;
        let handle = KeyHandle {
            owner: record.key_owner.clone().ok_or("a CA without a key owner")?,
            sealed: record
                .sealed_key
                .clone()
                .ok_or("a CA without a sealed key")?,
        };
        issuers.push(Issuer {
            info: pca.issuer_info(&record)?,
            signer: custody.signer(&handle)?,
            crl_url: pca.crl_url(&record),
            ocsp_url: pca.ocsp_url(&record),
            record,
        });
    }
    Ok((issuers, serde_json::Value::Array(accounts)))
}

/// Certificate `i` of `total`: its issuer, times, state and key follow from
/// `i` (see the module's comment for the mix).
fn certificate(
    i: u64,
    total: u64,
    now: i64,
    issuers: &[Issuer],
    subject_keys: &[Vec<u8>],
    custody: &dyn KeyStore,
) -> Result<ImportedCertificate, Failure> {
    let issuer = &issuers[usize::try_from(i)? % issuers.len()];
    // The mix follows the certificate's rank under its CA, so that every CA
    // gets all of it.
    let rank = i / issuers.len() as u64;
    let span = 2 * YEAR_MS;
    let offset = i64::try_from(i128::from(i) * i128::from(span) / i128::from(total.max(1)))?;
    // Whole seconds: X.509 times have no milliseconds.
    let create_time = (now - span + offset) / 1000 * 1000;
    let (not_before, not_after) = (create_time, create_time + VALIDITY_MS);
    let cert_id = CertId::from_time_and_random(create_time, random_bytes());
    let common_name = format!("host-{i:09}.{}.example.com", issuer.record.domain_id);
    let dn = DistinguishedName {
        common_name: Some(common_name.clone()),
        organization: Some("OpenCCM scale".to_owned()),
        ..DistinguishedName::default()
    };
    let generated = rank % 5 == 4;
    let (public_key, key) = if generated {
        let (handle, key) = custody.generate(
            KeyAlgorithm::Ec256,
            &format!("cert:{cert_id}"),
            KeyUse::Exportable,
        )?;
        (key.public_key_der().to_vec(), Some(handle))
    } else {
        (
            subject_keys[usize::try_from(i)? % subject_keys.len()].clone(),
            None,
        )
    };
    let serial = Serial::from_time_and_random(create_time, random_bytes());
    let request = TbsRequest {
        serial,
        subject: dn.to_name()?,
        subject_public_key: public_key.clone(),
        hash: HashAlgorithm::Sha256,
        not_before,
        not_after,
        kind: CertKind::EndEntity,
        key_usage: KeyUsageSet::end_entity_default(KeyAlgorithm::Ec256),
        extended_key_usage: ExtendedKeyUsageFlags::default(),
        alt_names: Vec::new(),
        raw_alt_names: Vec::new(),
        custom_extension: None,
        crl_url: issuer.crl_url.clone(),
        ocsp_url: issuer.ocsp_url.clone(),
        ca_issuers_url: None,
        name_constraints: None,
    };
    let linted = profile::build(&issuer.info, &request)?;
    let tbs_digest = linted.digest().to_vec();
    let signed = linted.sign(issuer.signer.as_ref())?;
    // Never in the future, for the certificates of the last two days.
    let revoked = (rank % 10 == 3).then_some((create_time + DAY_MS).min(now));
    let deleted = (rank % 100 == 7).then_some((create_time + 2 * DAY_MS).min(now));
    let tags = match rank % 10 {
        5 => vec![("env".to_owned(), "prod".to_owned())],
        6 => vec![
            ("env".to_owned(), "test".to_owned()),
            ("team".to_owned(), format!("team-{}", rank % 50)),
        ],
        _ => Vec::new(),
    };
    Ok(ImportedCertificate {
        record: CertRecord {
            certificate_id: cert_id,
            domain_id: DomainId::clone(&issuer.record.domain_id),
            issuer_id: issuer.record.ca_id.clone(),
            issuer_name: issuer.record.name.common_name.clone(),
            key_algorithm: KeyAlgorithm::Ec256,
            signature_algorithm: HashAlgorithm::Sha256,
            gen_mode: if generated {
                GenMode::Generate
            } else {
                GenMode::Csr
            },
            serial_number: request.serial.to_hex(),
            name: NameFields {
                common_name,
                country: None,
                state: None,
                locality: None,
                organization: dn.organization.clone(),
                organizational_unit: None,
            },
            tbs_digest,
            certificate: Some(signed.der),
            key_owner: key.as_ref().map(|k| k.owner.clone()),
            sealed_key: key.map(|k| k.sealed),
            enc_serial_number: None,
            enc_tbs_digest: None,
            enc_certificate: None,
            enc_key_owner: None,
            enc_sealed_key: None,
            csr_public_key: (!generated).then_some(public_key),
            not_before,
            not_after,
            create_time,
            deleted_at: deleted,
            revoked_at: revoked,
            revocation_reason: revoked.map(|_| RevocationReason::Superseded),
            enterprise_project_id: "0".to_owned(),
        },
        tags: if deleted.is_some() { Vec::new() } else { tags },
    })
}
