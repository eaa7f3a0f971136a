//! CSR management: the service generates a key pair and a CSR (CreateCsr),
//! or stores a customer's CSR with or without its key (UploadCsr); list,
//! show, rename, delete, and read the private key. A certificate imported
//! later for such a CSR finds its key here.

use openccm_custody::{KeyExport, KeyHandle, KeyStore, KeyUse, PendingKey};
use openccm_pki::san::{AltName, AltNameKind};
use openccm_pki::{DistinguishedName, KeyAlgorithm};
use openccm_store::{CsrFilter, CsrId, CsrRecord, CsrUsage};
use zeroize::Zeroizing;

use super::{page, Scm};
use crate::common::{required, required_field, Field};
use crate::error::{Error, Invalid, Result};
use crate::iam::authz::actions;
use crate::iam::Caller;

/// CreateCsr input.
#[derive(Debug, Clone, Default)]
pub struct CreateCsr {
    /// Name (≤ 63).
    pub name: Option<String>,
    /// CN, a domain name (≤ 63).
    pub domain_name: Option<String>,
    /// Additional domains or IPs, `;` or `,` separated (≤ 255).
    pub sans: Option<String>,
    /// The key algorithm.
    pub key_algorithm: Option<Field<KeyAlgorithm>>,
    /// `PERSONAL` | `ENTERPRISE`.
    pub usage: Option<Field<CsrUsage>>,
    /// C (ENTERPRISE).
    pub company_country: Option<String>,
    /// ST (ENTERPRISE).
    pub company_province: Option<String>,
    /// L (ENTERPRISE).
    pub company_city: Option<String>,
    /// O (ENTERPRISE).
    pub company_name: Option<String>,
}

/// UploadCsr input.
#[derive(Clone, Default)]
pub struct UploadCsr {
    /// Name (≤ 63).
    pub name: Option<String>,
    /// PEM CSR (≤ 2555).
    pub csr: Option<String>,
    /// Its private key (PEM), optional.
    pub private_key: Option<String>,
}

impl std::fmt::Debug for UploadCsr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Key material and passwords never reach a log through `{:?}`.
        f.debug_struct("UploadCsr")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// ListCsr query.
#[derive(Debug, Clone, Default)]
pub struct ListCsrs {
    /// 1–50, default 10.
    pub limit: Option<i64>,
    /// ≥ 0.
    pub offset: Option<i64>,
    /// Name substring.
    pub name: Option<String>,
    /// Key algorithm.
    pub key_algorithm: Option<Field<KeyAlgorithm>>,
}

fn check_csr_name(name: &str) -> Result<()> {
    let chars = name.chars().count();
    if !(1..=63).contains(&chars) || name.chars().any(char::is_control) {
        return Err(Error::invalid("name must be 1 to 63 characters"));
    }
    Ok(())
}

fn bounded(value: Option<String>, field: &str, max: usize) -> Result<Option<String>> {
    match value {
        Some(v) if v.chars().count() > max => Err(Error::invalid(format!(
            "{field} must not be longer than {max} characters"
        ))),
        Some(v) if v.is_empty() => Ok(None),
        other => Ok(other),
    }
}

/// Parses `sans`: DNS names or IP addresses separated by `;` or `,`.
fn parse_sans(text: &str) -> Result<Vec<AltName>> {
    let mut names = Vec::new();
    for entry in text
        .split([';', ','])
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let name = if entry.parse::<std::net::IpAddr>().is_ok() {
            AltName::parse(AltNameKind::Ip, entry)?
        } else {
            AltName::parse(AltNameKind::Dns, entry)?
        };
        if !names.contains(&name) {
            names.push(name);
        }
    }
    if names.len() > openccm_pki::san::MAX_ENTRIES {
        return Err(Error::invalid_kind(
            Invalid::AlternativeName,
            "sans holds more than 20 names",
        ));
    }
    Ok(names)
}

fn alt_name_text(name: &AltName) -> String {
    match name {
        AltName::Dns(d) => d.clone(),
        AltName::Ip(ip) => ip.to_string(),
        AltName::Email(e) => e.clone(),
        AltName::Uri(u) => u.clone(),
    }
}

/// The key of a CSR: the PEM text it is exported as, custody's reading of
/// it, and its handle when the service generated it.
pub(super) fn open_csr_key(
    custody: &dyn KeyStore,
    csr: &CsrRecord,
) -> Result<(PendingKey, Zeroizing<String>, Option<KeyHandle>)> {
    let Some(handle) = crate::common::row_key_handle(
        &format!("scm-csr:{}", csr.csr_id),
        csr.key_owner.as_deref(),
        csr.sealed_key.as_ref(),
    )?
    else {
        return Err(Error::InvalidState(
            "this CSR was uploaded without its private key".to_owned(),
        ));
    };
    let bytes = if csr.generated {
        custody.export(&handle, KeyExport::Pem { password: None })?
    } else {
        custody.imported(&handle)?
    };
    let pem = crate::common::secret_text(bytes)?;
    let key = PendingKey::from_pem(&pem)?;
    Ok((key, pem, csr.generated.then_some(handle)))
}

fn not_found_csr() -> Error {
    Error::NotFound("The CSR does not exist.".to_owned())
}

/// Parses a CSR id (the HTTP edge does, once); a malformed one is a CSR that
/// does not exist.
pub fn csr_id(text: &str) -> Result<CsrId> {
    CsrId::parse(text).ok_or_else(not_found_csr)
}

impl Scm {
    /// Generates a key pair and a CSR for it; the key stays sealed here.
    pub async fn create_csr(&self, caller: &Caller, input: CreateCsr) -> Result<CsrRecord> {
        self.authorize_csr(caller, actions::SCM_CREATE_CSR, None)
            .await?;
        let name = required(input.name, "name")?;
        check_csr_name(&name)?;
        let domain_name = required(input.domain_name.filter(|d| !d.is_empty()), "domain_name")?;
        if domain_name.len() > 63 {
            return Err(Error::invalid(
                "domain_name must not be longer than 63 characters",
            ));
        }
        let cn_name = AltName::parse(AltNameKind::Dns, &domain_name)?;
        let sans_text = bounded(input.sans, "sans", 255)?;
        let mut alt_names = vec![cn_name];
        if let Some(text) = &sans_text {
            for name in parse_sans(text)? {
                if !alt_names.contains(&name) {
                    alt_names.push(name);
                }
            }
        }
        let key_algorithm = required_field(input.key_algorithm.as_ref(), "private_key_algo")?;
        let usage = required(input.usage, "usage")?;
        let company_country = bounded(input.company_country, "company_country", 255)?;
        let company_province = bounded(input.company_province, "company_province", 255)?;
        let company_city = bounded(input.company_city, "company_city", 255)?;
        let company_name = bounded(input.company_name, "company_name", 255)?;
        let usage = usage.get()?;
        let subject = match usage {
            CsrUsage::Personal => DistinguishedName {
                common_name: Some(domain_name.clone()),
                ..DistinguishedName::default()
            },
            CsrUsage::Enterprise => {
                if company_country.is_none()
                    || company_province.is_none()
                    || company_city.is_none()
                    || company_name.is_none()
                {
                    return Err(Error::invalid(
                        "an ENTERPRISE CSR needs company_country, company_province, company_city and company_name",
                    ));
                }
                DistinguishedName {
                    common_name: Some(domain_name.clone()),
                    country: company_country.clone(),
                    state: company_province.clone(),
                    locality: company_city.clone(),
                    organization: company_name.clone(),
                    organizational_unit: None,
                }
            }
        };
        subject.validate()?;
        let subject_name = subject.to_name()?;

        let id = CsrId::from_random(crate::common::random_bytes::<16>());
        let owner = format!("scm-csr:{id}");
        let custody = self.custody.clone();
        let names = alt_names.clone();
        let (handle, csr_der, public_key) = self
            .pools
            .keygen
            .run(move || -> Result<_> {
                let (handle, key) = custody.generate(key_algorithm, &owner, KeyUse::Exportable)?;
                let der = openccm_pki::csr::build_with_alt_names(
                    &subject_name,
                    &names,
                    key.as_ref(),
                    key_algorithm.default_hash(),
                )?;
                Ok((handle, der, key.public_key_der().to_vec()))
            })
            .await??;
        let csr_pem =
            openccm_pki::pem::encode("CERTIFICATE REQUEST", &csr_der, openccm_pki::pem::Eol::LF)?;
        let now = self.now();
        let other_names = alt_names.iter().skip(1).map(alt_name_text).collect();
        let record = CsrRecord {
            csr_id: id,
            domain_id: caller.domain_id.clone(),
            name,
            csr: csr_pem,
            domain_name: Some(domain_name),
            alt_names: other_names,
            key_algorithm,
            usage: Some(usage),
            company_country,
            company_province,
            company_city,
            company_name,
            public_key_sha256: hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&public_key)),
            public_key,
            generated: true,
            key_owner: Some(handle.owner),
            sealed_key: Some(handle.sealed),
            create_time: now,
            update_time: now,
        };
        self.store.insert_csr(&record).await?;
        Ok(record)
    }

    /// Stores a customer's CSR (its signature verified), with its private
    /// key when given (which must match).
    pub async fn upload_csr(&self, caller: &Caller, input: UploadCsr) -> Result<CsrRecord> {
        self.authorize_csr(caller, actions::SCM_UPLOAD_CSR, None)
            .await?;
        let name = required(input.name, "name")?;
        check_csr_name(&name)?;
        let csr_text = required(input.csr.filter(|c| !c.trim().is_empty()), "csr")?;
        if csr_text.chars().count() > 2555 {
            return Err(Error::invalid_kind(
                Invalid::Csr,
                "csr must not be longer than 2555 characters",
            ));
        }
        let key_text = input.private_key.filter(|k| !k.trim().is_empty());
        if key_text
            .as_ref()
            .is_some_and(|k| k.chars().count() > openccm_pki::key::MAX_KEY_PEM_BYTES)
        {
            return Err(Error::invalid_kind(
                Invalid::PrivateKey,
                "private_key is too long",
            ));
        }
        let text = csr_text.clone();
        let key_check = key_text.clone();
        let parsed = self
            .pools
            .signing
            .run(move || -> Result<openccm_pki::csr::ParsedCsr> {
                let parsed = openccm_pki::csr::parse_pem(&text)?;
                if let Some(pem) = key_check {
                    let key = PendingKey::from_pem(&pem)?;
                    if !key.proves_possession_of(&parsed.public_key)? {
                        return Err(Error::invalid_kind(
                            Invalid::PrivateKey,
                            "the private key does not belong to the CSR",
                        ));
                    }
                }
                Ok(parsed)
            })
            .await??;
        let id = CsrId::from_random(crate::common::random_bytes::<16>());
        let owner = format!("scm-csr:{id}");
        let sealed = match key_text {
            Some(k) => Some(
                self.import_material(owner.clone(), Zeroizing::new(k))
                    .await?,
            ),
            None => None,
        };
        let dn = &parsed.distinguished_name;
        let alt_names = parsed
            .alt_names
            .iter()
            .filter_map(|n| match n {
                x509_cert::ext::pkix::name::GeneralName::DnsName(d) => Some(d.as_str().to_owned()),
                x509_cert::ext::pkix::name::GeneralName::IpAddress(ip) => {
                    let b = ip.as_bytes();
                    match b.len() {
                        4 => Some(std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]).to_string()),
                        16 => {
                            let mut a = [0u8; 16];
                            a.copy_from_slice(b);
                            Some(std::net::Ipv6Addr::from(a).to_string())
                        }
                        _ => None,
                    }
                }
                _ => None,
            })
            .collect();
        let now = self.now();
        let record = CsrRecord {
            csr_id: id,
            domain_id: caller.domain_id.clone(),
            name,
            csr: csr_text,
            domain_name: dn.common_name.clone(),
            alt_names,
            key_algorithm: parsed.key_algorithm,
            usage: Some(if dn.organization.is_some() {
                CsrUsage::Enterprise
            } else {
                CsrUsage::Personal
            }),
            company_country: dn.country.clone(),
            company_province: dn.state.clone(),
            company_city: dn.locality.clone(),
            company_name: dn.organization.clone(),
            public_key_sha256: hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
                &parsed.public_key,
            )),
            public_key: parsed.public_key,
            generated: false,
            key_owner: sealed.as_ref().map(|h| h.owner.clone()),
            sealed_key: sealed.map(|h| h.sealed),
            create_time: now,
            update_time: now,
        };
        self.store.insert_csr(&record).await?;
        Ok(record)
    }

    /// Lists the account's CSRs.
    pub async fn list_csrs(
        &self,
        caller: &Caller,
        query: ListCsrs,
    ) -> Result<(i64, Vec<CsrRecord>)> {
        self.authorize_csr(caller, actions::SCM_LIST_CSR, None)
            .await?;
        let page = page(query.limit, query.offset, 1, 50)?;
        let filter = CsrFilter {
            name: query.name.filter(|n| !n.is_empty()),
            key_algorithm: query.key_algorithm.as_ref().map(Field::get).transpose()?,
        };
        Ok(self
            .store
            .list_csrs(&caller.domain_id, &filter, page)
            .await?)
    }

    /// One CSR.
    pub async fn show_csr(&self, caller: &Caller, id: &CsrId) -> Result<CsrRecord> {
        self.authorize_csr(caller, actions::SCM_GET_CSR, Some(id.as_str()))
            .await?;
        self.load_csr(caller, id).await
    }

    async fn load_csr(&self, caller: &Caller, id: &CsrId) -> Result<CsrRecord> {
        self.store
            .csr(&caller.domain_id, id)
            .await?
            .ok_or_else(not_found_csr)
    }

    /// Renames a CSR.
    pub async fn update_csr(
        &self,
        caller: &Caller,
        id: &CsrId,
        name: Option<String>,
    ) -> Result<CsrRecord> {
        self.authorize_csr(caller, actions::SCM_UPDATE_CSR, Some(id.as_str()))
            .await?;
        let name = required(name, "name")?;
        check_csr_name(&name)?;
        if !self
            .store
            .rename_csr(&caller.domain_id, id, &name, self.now())
            .await?
        {
            return Err(not_found_csr());
        }
        self.store
            .csr(&caller.domain_id, id)
            .await?
            .ok_or_else(not_found_csr)
    }

    /// Deletes a CSR (certificates imported for it keep their own copy of the key).
    pub async fn delete_csr(&self, caller: &Caller, id: &CsrId) -> Result<()> {
        self.authorize_csr(caller, actions::SCM_DELETE_CSR, Some(id.as_str()))
            .await?;
        if self.store.delete_csr(&caller.domain_id, id).await? {
            Ok(())
        } else {
            Err(not_found_csr())
        }
    }

    /// The private key of a CSR (PEM).
    pub async fn csr_private_key(&self, caller: &Caller, id: &CsrId) -> Result<Zeroizing<String>> {
        self.authorize_csr(caller, actions::SCM_GET_CSR_KEY, Some(id.as_str()))
            .await?;
        let record = self.load_csr(caller, id).await?;
        let custody = self.custody.clone();
        let (_, pem, _) = self
            .pools
            .signing
            .run(move || open_csr_key(custody.as_ref(), &record))
            .await??;
        Ok(pem)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sans_accept_both_separators_and_refuse_junk() {
        let names = parse_sans("a.example.com; b.example.com,10.0.0.1").unwrap();
        assert_eq!(names.len(), 3);
        assert!(matches!(names[2], AltName::Ip(_)));
        assert!(parse_sans("not a domain").is_err());
        assert!(parse_sans("").unwrap().is_empty());
    }
}
