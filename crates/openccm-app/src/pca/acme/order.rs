//! ACME orders (RFC 8555 §7.4): new orders under the CA's policy, their
//! authorizations and challenges, finalization through the PCA's issuance
//! pipeline, the certificate chain, and the account's order list.

use std::collections::BTreeSet;
use std::net::IpAddr;

use openccm_pki::san::AltName;
use openccm_store::{
    AcmeAccount, AcmeAuthz, AcmeAuthzStatus, AcmeChallenge, AcmeIdentifier, AcmeIdentifierKind,
    AcmeOrder, AcmeOrderStatus,
};
use x509_cert::ext::pkix::name::GeneralName;

use super::problem::{AcmeResult, Problem, ProblemKind, Subproblem};
use super::server::{stored_key, AcmeCa, AcmeServer, SignedRequest, ORDER_LIFETIME_MS};
use super::IdentifierRule;
use crate::common::random_bytes;

/// The most identifiers one order may hold.
pub const MAX_IDENTIFIERS: usize = 100;
/// The most orders an account's order list shows.
pub const MAX_LISTED_ORDERS: i64 = 100;

const DAY_MS: i64 = 86_400_000;

/// How long a challenge's answer waits for its validation to end.
const VALIDATION_WAIT: std::time::Duration = std::time::Duration::from_secs(1);
/// The longest a validation may take, in all (its look-ups and
/// connections have their own, shorter, timeouts).
const VALIDATION_DEADLINE: std::time::Duration = std::time::Duration::from_mins(1);
/// A validation still `processing` this long after it started was cut
/// short (ms).
const STALE_VALIDATION_MS: i64 = 2 * 60_000;
/// An order still `processing` this long after finalize was cut short
/// (ms); an issuance takes milliseconds.
const STALE_ISSUANCE_MS: i64 = 5 * 60_000;

/// A newOrder payload, as parsed at the edge.
#[derive(Debug, Default)]
pub struct NewOrder {
    /// `(type, value)` pairs.
    pub identifiers: Vec<(String, String)>,
    /// Requested notBefore, epoch ms.
    pub not_before: Option<i64>,
    /// Requested notAfter, epoch ms.
    pub not_after: Option<i64>,
    /// The ARI id of the certificate this order renews (RFC 9773).
    pub replaces: Option<String>,
}

/// An order's status as clients see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderState {
    /// Authorizations to complete.
    Pending,
    /// Every authorization valid: finalize.
    Ready,
    /// Being issued.
    Processing,
    /// Issued.
    Valid,
    /// Failed, expired, or an authorization failed.
    Invalid,
}

impl OrderState {
    /// The protocol's spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Ready => "ready",
            Self::Processing => "processing",
            Self::Valid => "valid",
            Self::Invalid => "invalid",
        }
    }
}

/// An order with what its answer shows.
#[derive(Debug, Clone)]
pub struct OrderView {
    /// As stored.
    pub order: AcmeOrder,
    /// As clients see it now.
    pub state: OrderState,
    /// Its authorizations' ids.
    pub authz_ids: Vec<String>,
    /// Why it is invalid, when an authorization failed or it lapsed.
    pub error: Option<Problem>,
}

/// An authorization with its status as clients see it now.
#[derive(Debug, Clone)]
pub struct AuthzView {
    /// As stored.
    pub authz: AcmeAuthz,
    /// Now (a lapsed one is `expired`).
    pub status: AcmeAuthzStatus,
}

impl AuthzView {
    /// A challenge's status: the answered one follows the validation, the
    /// others stay pending.
    pub fn challenge_status(&self, challenge: AcmeChallenge) -> &'static str {
        let a = &self.authz;
        if a.attempted != Some(challenge) {
            return "pending";
        }
        match self.status {
            AcmeAuthzStatus::Invalid => "invalid",
            _ if a.processing => "processing",
            AcmeAuthzStatus::Valid => "valid",
            _ => "pending",
        }
    }
}

/// The certificate of an order, for download.
#[derive(Debug, Clone)]
pub struct CertificateChain {
    /// The certificate, then its CA's chain up to the root (DER).
    pub chain: Vec<Vec<u8>>,
}

/// An authorization's status now.
fn authz_status_at(authz: &AcmeAuthz, now: i64) -> AcmeAuthzStatus {
    match authz.status {
        // A validation no server is running any more (a crash or restart
        // cut it short): failed.
        AcmeAuthzStatus::Pending
            if authz.processing && now - authz.updated_at > STALE_VALIDATION_MS =>
        {
            AcmeAuthzStatus::Invalid
        }
        AcmeAuthzStatus::Pending | AcmeAuthzStatus::Valid if now > authz.expires_at => {
            AcmeAuthzStatus::Expired
        }
        status => status,
    }
}

/// An order's state now, given its authorizations.
fn order_state_at(
    order: &AcmeOrder,
    authzs: &[AcmeAuthz],
    now: i64,
) -> (OrderState, Option<Problem>) {
    match order.status {
        // An issuance no server will finish (a crash mid-way; the
        // certificate's intent was failed at restart).
        AcmeOrderStatus::Processing if now - order.updated_at > STALE_ISSUANCE_MS => {
            return (
                OrderState::Invalid,
                Some(Problem::new(
                    ProblemKind::ServerInternal,
                    "the issuance did not complete; place a new order",
                )),
            )
        }
        AcmeOrderStatus::Processing => return (OrderState::Processing, None),
        AcmeOrderStatus::Valid => return (OrderState::Valid, None),
        AcmeOrderStatus::Invalid => {
            return (
                OrderState::Invalid,
                order.error.as_ref().map(Problem::from_stored),
            )
        }
        AcmeOrderStatus::Pending => {}
    }
    if now > order.expires_at {
        return (
            OrderState::Invalid,
            Some(Problem::malformed(
                "the order expired before it was finalized",
            )),
        );
    }
    let mut ready = true;
    for authz in authzs {
        match authz_status_at(authz, now) {
            AcmeAuthzStatus::Valid => {}
            AcmeAuthzStatus::Pending => ready = false,
            other => {
                let problem = authz.error.as_ref().map_or_else(
                    || {
                        Problem::unauthorized(format!(
                            "the authorization of {} is {}",
                            authz.identifier.value,
                            other.as_str()
                        ))
                    },
                    Problem::from_stored,
                );
                return (OrderState::Invalid, Some(problem));
            }
        }
    }
    if ready {
        (OrderState::Ready, None)
    } else {
        (OrderState::Pending, None)
    }
}

/// An identifier of a new order, checked and in canonical form: DNS names
/// in lower case without a final dot, addresses in their canonical text.
fn canonical_identifier(kind: &str, value: &str) -> Result<AcmeIdentifier, Problem> {
    match kind {
        "dns" => {
            let name = value
                .strip_suffix('.')
                .unwrap_or(value)
                .to_ascii_lowercase();
            // A last label starting with a digit (`0x7f`, `127.0.0.0x1`) is
            // one that URL parsers read as an IPv4 address.
            let numeric = name
                .rsplit('.')
                .next()
                .is_some_and(|tld| tld.starts_with(|c: char| c.is_ascii_digit()));
            if openccm_pki::san::is_dns_name(&name) && !name.contains("*.*") && !numeric {
                Ok(AcmeIdentifier {
                    kind: AcmeIdentifierKind::Dns,
                    value: name,
                })
            } else {
                Err(Problem::new(
                    ProblemKind::RejectedIdentifier,
                    format!("{value:?} is not a DNS name"),
                ))
            }
        }
        "ip" => value
            .parse::<IpAddr>()
            .map(|ip| AcmeIdentifier {
                kind: AcmeIdentifierKind::Ip,
                value: ip.to_canonical().to_string(),
            })
            .map_err(|_| {
                Problem::new(
                    ProblemKind::RejectedIdentifier,
                    format!("{value:?} is not an IP address"),
                )
            }),
        other => Err(Problem::new(
            ProblemKind::UnsupportedIdentifier,
            format!("identifier type {other:?} is not supported (dns, ip)"),
        )),
    }
}

/// Whether the CA's policy allows `id` (an empty policy allows any).
fn policy_allows(rules: &[IdentifierRule], id: &AcmeIdentifier) -> bool {
    if rules.is_empty() {
        return true;
    }
    rules.iter().any(|rule| match (rule, id.kind) {
        (IdentifierRule::Dns(name), AcmeIdentifierKind::Dns) => *name == id.value,
        (IdentifierRule::Subdomains(parent), AcmeIdentifierKind::Dns) => id
            .value
            .strip_suffix(parent.as_str())
            .is_some_and(|head| head.len() > 1 && head.ends_with('.')),
        (IdentifierRule::Addresses { network, prefix }, AcmeIdentifierKind::Ip) => {
            id.value.parse::<IpAddr>().is_ok_and(|ip| {
                super::mask(ip, *prefix) == *network && ip.is_ipv4() == network.is_ipv4()
            })
        }
        _ => false,
    })
}

/// The challenge types that can prove control of `id` under this CA:
/// a wildcard only by DNS, an address only by http-01 (tls-alpn-01 for
/// addresses, RFC 8738 §4's reverse names, is not offered).
fn challenges_for(ca: &AcmeCa, id: &AcmeIdentifier, wildcard: bool) -> Vec<AcmeChallenge> {
    ca.settings
        .challenges
        .iter()
        .copied()
        .filter(|c| match (id.kind, wildcard) {
            (AcmeIdentifierKind::Dns, true) => *c == AcmeChallenge::Dns01,
            (AcmeIdentifierKind::Dns, false) => true,
            (AcmeIdentifierKind::Ip, _) => *c == AcmeChallenge::Http01,
        })
        .collect()
}

fn new_id() -> String {
    openccm_pki::jws::b64url(&random_bytes::<16>())
}

/// The names a CSR asks for (common name and alternative names), as order
/// identifiers; `badCSR` for any other kind of name.
fn csr_identifiers(
    csr: &openccm_pki::csr::ParsedCsr,
) -> AcmeResult<BTreeSet<(AcmeIdentifierKind, String)>> {
    let bad = |why: String| Problem::new(ProblemKind::BadCsr, why);
    let mut names = BTreeSet::new();
    for name in &csr.alt_names {
        match name {
            GeneralName::DnsName(dns) => {
                names.insert((AcmeIdentifierKind::Dns, dns.as_str().to_ascii_lowercase()));
            }
            GeneralName::IpAddress(_) => {
                let text = openccm_pki::san::general_name_text(name)
                    .ok_or_else(|| bad("an IP address of the CSR is malformed".to_owned()))?;
                names.insert((AcmeIdentifierKind::Ip, text));
            }
            _ => {
                return Err(bad(
                    "the CSR asks for names other than DNS names and IP addresses".to_owned(),
                ))
            }
        }
    }
    if let Some(cn) = &csr.distinguished_name.common_name {
        let cn = cn.to_ascii_lowercase();
        let as_ip = cn
            .parse::<IpAddr>()
            .ok()
            .map(|ip| ip.to_canonical().to_string());
        let listed = names.contains(&(AcmeIdentifierKind::Dns, cn.clone()))
            || as_ip.is_some_and(|ip| names.contains(&(AcmeIdentifierKind::Ip, ip)));
        if !listed {
            return Err(bad(format!(
                "the CSR's common name {cn:?} is not among its alternative names"
            )));
        }
    }
    Ok(names)
}

impl AcmeServer {
    /// newOrder: an order for identifiers the CA's policy allows, with an
    /// authorization per identifier.
    pub async fn new_order(
        &self,
        request: &SignedRequest,
        payload: NewOrder,
    ) -> AcmeResult<OrderView> {
        let account = request.account()?;
        let ca = &request.ca;
        if payload.identifiers.is_empty() || payload.identifiers.len() > MAX_IDENTIFIERS {
            return Err(Problem::malformed(format!(
                "an order names 1 to {MAX_IDENTIFIERS} identifiers"
            )));
        }
        let rules: Vec<IdentifierRule> = ca
            .settings
            .allowed_identifiers
            .iter()
            .filter_map(|r| IdentifierRule::parse(r))
            .collect();
        let mut identifiers: Vec<AcmeIdentifier> = Vec::new();
        let mut subproblems = Vec::new();
        for (kind, value) in &payload.identifiers {
            let checked = canonical_identifier(kind, value).and_then(|id| {
                let wildcard = id.value.starts_with("*.");
                if !policy_allows(&rules, &id) {
                    return Err(Problem::new(
                        ProblemKind::RejectedIdentifier,
                        format!("{} is outside this CA's ACME policy", id.value),
                    ));
                }
                if challenges_for(ca, &id, wildcard).is_empty() {
                    return Err(Problem::new(
                        ProblemKind::RejectedIdentifier,
                        format!("no challenge this CA offers can validate {}", id.value),
                    ));
                }
                Ok(id)
            });
            match checked {
                Ok(id) if !identifiers.contains(&id) => identifiers.push(id),
                Ok(_) => {}
                Err(problem) => subproblems.push(Subproblem {
                    kind: problem.kind,
                    detail: problem.detail,
                    identifier: (kind.clone(), value.clone()),
                }),
            }
        }
        if !subproblems.is_empty() {
            let kind = if subproblems.iter().all(|s| s.kind == subproblems[0].kind) {
                subproblems[0].kind
            } else {
                ProblemKind::RejectedIdentifier
            };
            let mut problem = Problem::new(
                kind,
                if subproblems.len() == 1 {
                    subproblems[0].detail.clone()
                } else {
                    format!("{} identifiers were refused", subproblems.len())
                },
            );
            problem.subproblems = subproblems;
            return Err(problem);
        }
        if let Some(replaced) = &payload.replaces {
            // RFC 9773 §5: the certificate replaced must be one this
            // account ordered here.
            let record = self
                .certificate_of_ari_id(ca, replaced)
                .await
                .map_err(|_| Problem::malformed("replaces names no certificate of this CA"))?;
            let ordered_here = self
                .pca
                .store
                .acme_order_of_certificate(&ca.record.ca_id, &record.certificate_id)
                .await?
                .is_some_and(|o| o.account_id == account.account_id);
            if !ordered_here {
                return Err(Problem::unauthorized(
                    "replaces names a certificate this account did not order",
                ));
            }
        }
        let now = self.now();
        let (not_before, not_after) =
            Self::order_validity(ca, payload.not_before, payload.not_after, now)?;
        let order_id = new_id();
        let expires_at = now + ORDER_LIFETIME_MS;
        let authzs: Vec<AcmeAuthz> = identifiers
            .iter()
            .map(|id| {
                let wildcard = id.value.starts_with("*.");
                let bare = AcmeIdentifier {
                    kind: id.kind,
                    value: id.value.trim_start_matches("*.").to_owned(),
                };
                AcmeAuthz {
                    authz_id: new_id(),
                    order_id: order_id.clone(),
                    account_id: account.account_id.clone(),
                    ca_id: ca.record.ca_id.clone(),
                    domain_id: ca.record.domain_id.clone(),
                    challenges: challenges_for(ca, id, wildcard),
                    identifier: bare,
                    wildcard,
                    status: AcmeAuthzStatus::Pending,
                    expires_at,
                    token: openccm_pki::jws::b64url(&random_bytes::<32>()),
                    attempted: None,
                    processing: false,
                    validated_at: None,
                    error: None,
                    updated_at: now,
                }
            })
            .collect();
        let order = AcmeOrder {
            order_id,
            account_id: account.account_id.clone(),
            ca_id: ca.record.ca_id.clone(),
            domain_id: ca.record.domain_id.clone(),
            status: AcmeOrderStatus::Pending,
            identifiers,
            not_before,
            not_after,
            expires_at,
            error: None,
            certificate_id: None,
            replaces: payload.replaces,
            created_at: now,
            updated_at: now,
        };
        self.pca.store.insert_acme_order(&order, &authzs).await?;
        let authz_ids = authzs.iter().map(|a| a.authz_id.clone()).collect();
        Ok(OrderView {
            order,
            state: OrderState::Pending,
            authz_ids,
            error: None,
        })
    }

    /// The validity an order asks for, within the CA's policy: from now
    /// (or the requested start, not in the past by more than a day) to the
    /// requested end or `max_validity_days` later, never past the CA.
    fn order_validity(
        ca: &AcmeCa,
        not_before: Option<i64>,
        not_after: Option<i64>,
        now: i64,
    ) -> AcmeResult<(Option<i64>, Option<i64>)> {
        let max = ca.settings.max_validity_days * DAY_MS;
        if let Some(start) = not_before {
            if start < now - DAY_MS || start > now + max {
                return Err(Problem::malformed("notBefore is too far from now"));
            }
        }
        if let Some(end) = not_after {
            let start = not_before.unwrap_or(now);
            if end <= start || end - start > max {
                return Err(Problem::malformed(format!(
                    "notAfter must follow notBefore by at most {} days",
                    ca.settings.max_validity_days
                )));
            }
            if ca.record.not_after.is_some_and(|ca_end| end > ca_end) {
                return Err(Problem::malformed("notAfter is past the CA's own validity"));
            }
        }
        Ok((not_before, not_after))
    }

    /// An order of the request's account (another's is as absent as an
    /// unknown one).
    async fn owned_order(&self, account: &AcmeAccount, order_id: &str) -> AcmeResult<AcmeOrder> {
        self.pca
            .store
            .acme_order(&account.ca_id, order_id)
            .await?
            .filter(|o| o.account_id == account.account_id)
            .ok_or_else(|| Problem::not_found("the order"))
    }

    async fn order_view(&self, order: AcmeOrder) -> AcmeResult<OrderView> {
        let authzs = self
            .pca
            .store
            .acme_order_authzs(&order.ca_id, &order.order_id)
            .await?;
        let mut authzs = authzs;
        // In the order's identifier order.
        let position = |a: &AcmeAuthz| {
            order.identifiers.iter().position(|id| {
                id.kind == a.identifier.kind
                    && id.value.strip_prefix("*.").map_or_else(
                        || !a.wildcard && id.value == a.identifier.value,
                        |bare| a.wildcard && bare == a.identifier.value,
                    )
            })
        };
        authzs.sort_by_key(position);
        let (state, error) = order_state_at(&order, &authzs, self.now());
        Ok(OrderView {
            authz_ids: authzs.into_iter().map(|a| a.authz_id).collect(),
            order,
            state,
            error,
        })
    }

    /// POST-as-GET of an order.
    pub async fn order(&self, request: &SignedRequest, order_id: &str) -> AcmeResult<OrderView> {
        let order = self.owned_order(request.account()?, order_id).await?;
        self.order_view(order).await
    }

    /// POST-as-GET of an account's order list (its newest orders).
    pub async fn orders(
        &self,
        request: &SignedRequest,
        account_id: &str,
    ) -> AcmeResult<Vec<String>> {
        let account = request.account()?;
        if account.account_id != account_id {
            return Err(Problem::unauthorized(
                "an account lists its own orders only",
            ));
        }
        Ok(self
            .pca
            .store
            .acme_orders_of(&account.ca_id, &account.account_id, MAX_LISTED_ORDERS)
            .await?)
    }

    /// An authorization of the request's account.
    async fn owned_authz(&self, account: &AcmeAccount, authz_id: &str) -> AcmeResult<AcmeAuthz> {
        self.pca
            .store
            .acme_authz(&account.ca_id, authz_id)
            .await?
            .filter(|a| a.account_id == account.account_id)
            .ok_or_else(|| Problem::not_found("the authorization"))
    }

    fn authz_view(&self, authz: AcmeAuthz) -> AuthzView {
        AuthzView {
            status: authz_status_at(&authz, self.now()),
            authz,
        }
    }

    /// POST to an authorization: shows it, or deactivates it (`true`).
    pub async fn authz(
        &self,
        request: &SignedRequest,
        authz_id: &str,
        deactivate: bool,
    ) -> AcmeResult<AuthzView> {
        let mut authz = self.owned_authz(request.account()?, authz_id).await?;
        if deactivate {
            let status = authz_status_at(&authz, self.now());
            if !matches!(status, AcmeAuthzStatus::Pending | AcmeAuthzStatus::Valid) {
                return Err(Problem::malformed(format!(
                    "a {} authorization cannot be deactivated",
                    status.as_str()
                )));
            }
            let expected = (authz.status, authz.processing);
            authz.status = AcmeAuthzStatus::Deactivated;
            authz.processing = false;
            authz.updated_at = self.now();
            if !self.pca.store.update_acme_authz(&authz, expected).await? {
                return Err(Problem::malformed(
                    "the authorization changed meanwhile; retry",
                ));
            }
        }
        Ok(self.authz_view(authz))
    }

    /// POST to a challenge: `{}` starts its validation (once; later posts
    /// show it), an empty payload shows it.
    pub async fn challenge(
        &self,
        request: &SignedRequest,
        authz_id: &str,
        challenge: AcmeChallenge,
        respond: bool,
    ) -> AcmeResult<AuthzView> {
        let account = request.account()?;
        let mut authz = self.owned_authz(account, authz_id).await?;
        if !authz.challenges.contains(&challenge) {
            return Err(Problem::not_found("the challenge"));
        }
        let now = self.now();
        let startable = respond
            && authz.attempted.is_none()
            && authz_status_at(&authz, now) == AcmeAuthzStatus::Pending;
        if !startable {
            return Ok(self.authz_view(authz));
        }
        authz.attempted = Some(challenge);
        authz.processing = true;
        authz.updated_at = now;
        if !self
            .pca
            .store
            .update_acme_authz(&authz, (AcmeAuthzStatus::Pending, false))
            .await?
        {
            // Another request started a validation first: show that one.
            let current = self.owned_authz(account, authz_id).await?;
            return Ok(self.authz_view(current));
        }
        let key_authorization = format!("{}.{}", authz.token, stored_key(account)?.thumbprint());
        let validator = self.validator.clone();
        let store = self.pca.store.clone();
        let clock = self.pca.clock.clone();
        let ca_id = request.ca.record.ca_id.clone();
        let mut done = authz.clone();
        // Validation reaches out to the client's servers: it runs as a task
        // of its own, whose end the answer waits for a moment (a validation
        // on a LAN ends well within it, and the client then need not poll);
        // past that the answer says `processing` and the client polls.
        let validation = tokio::spawn(async move {
            // A turn first (at most so many validations at once); the
            // deadline runs from then. One that waited so long that readers
            // already see it failed is failed.
            let _turn = validator.turn().await;
            let waited_out = clock.now_ms() - done.updated_at > STALE_VALIDATION_MS / 2;
            let outcome = if waited_out {
                Err(Problem::new(
                    ProblemKind::ServerInternal,
                    "the server was too busy to validate; answer a new order's challenge",
                ))
            } else {
                tokio::time::timeout(
                    VALIDATION_DEADLINE,
                    validator.validate(
                        challenge,
                        &done.identifier,
                        done.wildcard,
                        &done.token,
                        &key_authorization,
                    ),
                )
                .await
                .unwrap_or_else(|_| {
                    Err(Problem::new(
                        ProblemKind::Connection,
                        "the validation took too long",
                    ))
                })
            };
            done.processing = false;
            done.updated_at = clock.now_ms();
            match outcome {
                Ok(()) => {
                    done.status = AcmeAuthzStatus::Valid;
                    done.validated_at = Some(clock.now_ms());
                }
                Err(problem) => {
                    tracing::info!(ca_id = %ca_id, authz_id = %done.authz_id, detail = %problem.detail, "ACME validation failed");
                    done.status = AcmeAuthzStatus::Invalid;
                    done.error = Some(problem.stored());
                }
            }
            match store
                .update_acme_authz(&done, (AcmeAuthzStatus::Pending, true))
                .await
            {
                Ok(true) => Some(done),
                Ok(false) => None,
                Err(e) => {
                    tracing::error!(error = %e, "recording an ACME validation failed");
                    None
                }
            }
        });
        match tokio::time::timeout(VALIDATION_WAIT, validation).await {
            Ok(Ok(Some(done))) => Ok(self.authz_view(done)),
            _ => Ok(self.authz_view(authz)),
        }
    }

    /// finalize: issues the order's certificate from the CSR (DER) once
    /// every authorization is valid. The CSR must ask for exactly the
    /// order's identifiers, with a key type the CA's policy allows.
    pub async fn finalize(
        &self,
        request: &SignedRequest,
        order_id: &str,
        csr_der: &[u8],
    ) -> AcmeResult<OrderView> {
        let account = request.account()?;
        let order = self.owned_order(account, order_id).await?;
        let view = self.order_view(order).await?;
        if view.state != OrderState::Ready {
            return Err(Problem::new(
                ProblemKind::OrderNotReady,
                format!("the order is {}, not ready", view.state.as_str()),
            ));
        }
        let ca = &request.ca;
        let csr = openccm_pki::csr::parse_der_unverified(csr_der)
            .map_err(|e| Problem::new(ProblemKind::BadCsr, e.to_string()))?;
        let parsed = csr.request();
        if !ca.settings.key_algorithms.contains(&parsed.key_algorithm) {
            return Err(Problem::new(
                ProblemKind::BadCsr,
                format!(
                    "this CA's ACME policy does not accept {} keys",
                    parsed.key_algorithm.as_str()
                ),
            ));
        }
        let asked = csr_identifiers(parsed)?;
        let ordered: BTreeSet<(AcmeIdentifierKind, String)> = view
            .order
            .identifiers
            .iter()
            .map(|id| (id.kind, id.value.clone()))
            .collect();
        if asked != ordered {
            return Err(Problem::new(
                ProblemKind::BadCsr,
                "the CSR's names are not exactly the order's identifiers",
            ));
        }
        // The account key certifies nothing: it must not become a
        // certificate's key.
        if stored_key(account)?.same_key_as(&parsed.public_key) {
            return Err(Problem::new(
                ProblemKind::BadCsr,
                "the CSR's key is the account's key",
            ));
        }
        // The policy as it is now, not as it was when the order was placed.
        let rules: Vec<IdentifierRule> = ca
            .settings
            .allowed_identifiers
            .iter()
            .filter_map(|r| IdentifierRule::parse(r))
            .collect();
        if let Some(outside) = view
            .order
            .identifiers
            .iter()
            .find(|id| !policy_allows(&rules, id))
        {
            return Err(Problem::new(
                ProblemKind::RejectedIdentifier,
                format!("{} is outside this CA's ACME policy now", outside.value),
            ));
        }
        let common_name = match parsed.distinguished_name.common_name.as_ref() {
            Some(cn) => cn.to_ascii_lowercase(),
            None => view
                .order
                .identifiers
                .iter()
                .map(|id| id.value.clone())
                .find(|v| v.len() <= 64)
                .ok_or_else(|| {
                    Problem::new(
                        ProblemKind::BadCsr,
                        "no name is short enough for a common name",
                    )
                })?,
        };
        let alt_names = view
            .order
            .identifiers
            .iter()
            .map(|id| match id.kind {
                AcmeIdentifierKind::Dns => Ok(AltName::Dns(id.value.clone())),
                AcmeIdentifierKind::Ip => id
                    .value
                    .parse()
                    .map(AltName::Ip)
                    .map_err(|_| Problem::malformed("a stored address does not parse")),
            })
            .collect::<AcmeResult<Vec<_>>>()?;
        let now = self.now();
        let days = ca.settings.max_validity_days * DAY_MS;
        let start = view.order.not_before.unwrap_or(now);
        // Within the policy's longest validity as it is now, and the CA's.
        let mut end = view
            .order
            .not_after
            .unwrap_or(start + days)
            .min(start + days);
        if let Some(ca_end) = ca.record.not_after {
            end = end.min(ca_end);
        }
        if end <= start {
            return Err(Problem::unauthorized("the CA's validity ends too soon"));
        }
        let mut order = view.order.clone();
        order.status = AcmeOrderStatus::Processing;
        order.updated_at = now;
        if !self
            .pca
            .store
            .update_acme_order(&order, AcmeOrderStatus::Pending)
            .await?
        {
            return Err(Problem::new(
                ProblemKind::OrderNotReady,
                "the order was finalized already",
            ));
        }
        let issued = self
            .pca
            .issue_for_acme(ca.record.clone(), csr, common_name, alt_names, (start, end))
            .await;
        match issued {
            Ok(cert_id) => {
                order.status = AcmeOrderStatus::Valid;
                order.certificate_id = Some(cert_id);
                order.updated_at = self.now();
            }
            Err(e) => {
                let problem = Problem::from(e);
                order.status = AcmeOrderStatus::Invalid;
                order.error = Some(problem.stored());
                order.updated_at = self.now();
                self.pca
                    .store
                    .update_acme_order(&order, AcmeOrderStatus::Processing)
                    .await?;
                return Err(problem);
            }
        }
        self.pca
            .store
            .update_acme_order(&order, AcmeOrderStatus::Processing)
            .await?;
        self.order_view(order).await
    }

    /// POST-as-GET of an order's certificate: it and its chain.
    pub async fn certificate(
        &self,
        request: &SignedRequest,
        cert_id: &openccm_store::CertId,
    ) -> AcmeResult<CertificateChain> {
        let account = request.account()?;
        let missing = || Problem::not_found("the certificate");
        let order = self
            .pca
            .store
            .acme_order_of_certificate(&account.ca_id, cert_id)
            .await?
            .filter(|o| o.account_id == account.account_id)
            .ok_or_else(missing)?;
        let cert = self
            .pca
            .store
            .certificate(&order.domain_id, cert_id)
            .await?
            .ok_or_else(missing)?;
        let leaf = cert.certificate.clone().ok_or_else(missing)?;
        let mut chain = vec![leaf];
        chain.extend(
            self.pca
                .chain_from(&order.domain_id, &request.ca.record)
                .await?,
        );
        Ok(CertificateChain { chain })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dns(v: &str) -> AcmeIdentifier {
        AcmeIdentifier {
            kind: AcmeIdentifierKind::Dns,
            value: v.to_owned(),
        }
    }

    #[test]
    fn identifiers_are_canonical_or_refused() {
        assert_eq!(
            canonical_identifier("dns", "WWW.Example.TEST.").unwrap(),
            dns("www.example.test")
        );
        assert_eq!(
            canonical_identifier("ip", "::ffff:10.0.0.1").unwrap().value,
            "10.0.0.1"
        );
        assert_eq!(
            canonical_identifier("dns", "a..b").unwrap_err().kind,
            ProblemKind::RejectedIdentifier
        );
        assert_eq!(
            canonical_identifier("email", "a@b").unwrap_err().kind,
            ProblemKind::UnsupportedIdentifier
        );
        // Names a URL parser would read as IPv4 addresses.
        for numeric in ["127.0.0.0x1", "0x7f.0x1", "0x7f000001", "a.1b"] {
            assert!(canonical_identifier("dns", numeric).is_err(), "{numeric}");
        }
    }

    #[test]
    fn the_policy_allows_names_subdomains_and_ranges() {
        let rules: Vec<_> = ["app.test", "*.corp.test", "10.0.0.0/8"]
            .iter()
            .filter_map(|r| IdentifierRule::parse(r))
            .collect();
        for ok in ["app.test", "a.corp.test", "a.b.corp.test", "*.corp.test"] {
            assert!(policy_allows(&rules, &dns(ok)), "{ok}");
        }
        for refused in ["corp.test", "xcorp.test", "a.app.test", "evilcorp.test"] {
            assert!(!policy_allows(&rules, &dns(refused)), "{refused}");
        }
        let ip = |v: &str| canonical_identifier("ip", v).unwrap();
        assert!(policy_allows(&rules, &ip("10.1.2.3")));
        assert!(!policy_allows(&rules, &ip("11.0.0.1")));
        assert!(!policy_allows(&rules, &ip("::a00:1")));
        assert!(policy_allows(&[], &dns("anything.test")));
    }
}
