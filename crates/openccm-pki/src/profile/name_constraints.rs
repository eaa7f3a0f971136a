//! Name constraints of subordinate CAs (RFC 5280 §4.2.1.10): what the
//! profile accepts, and the DNS names they permit.

use x509_cert::ext::pkix::constraints::name::GeneralSubtree;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::NameConstraints;

use crate::{PkiError, PkiResult};

/// Subtrees a name-constraints extension may hold at most.
pub const MAX_NAME_SUBTREES: usize = 20;

/// Checks name constraints against RFC 5280 §4.2.1.10 and what the profile
/// supports: at least one subtree, at most [`MAX_NAME_SUBTREES`], minimum 0
/// and no maximum, and bases that are DNS names, IP ranges (address and
/// mask), email addresses or domains, URIs' hosts, or directory names.
pub fn check_name_constraints(constraints: &NameConstraints) -> PkiResult<()> {
    let subtrees: Vec<&GeneralSubtree> = constraints
        .permitted_subtrees
        .iter()
        .chain(constraints.excluded_subtrees.iter())
        .flatten()
        .collect();
    let invalid = |msg: &str| PkiError::Extension(format!("name constraints: {msg}"));
    if constraints
        .permitted_subtrees
        .as_ref()
        .is_some_and(Vec::is_empty)
        || constraints
            .excluded_subtrees
            .as_ref()
            .is_some_and(Vec::is_empty)
        || subtrees.is_empty()
    {
        return Err(invalid("no subtree, or an empty list of them"));
    }
    if subtrees.len() > MAX_NAME_SUBTREES {
        return Err(invalid(&format!("more than {MAX_NAME_SUBTREES} subtrees")));
    }
    for subtree in subtrees {
        if subtree.minimum != 0 || subtree.maximum.is_some() {
            return Err(invalid("minimum must be 0 and maximum absent"));
        }
        match &subtree.base {
            GeneralName::DnsName(name) => {
                let name = name.as_str().strip_prefix('.').unwrap_or(name.as_str());
                if !name.is_empty() && !crate::san::is_dns_name(name) {
                    return Err(invalid(&format!("{name:?} is not a DNS name")));
                }
            }
            GeneralName::IpAddress(range) => {
                if !matches!(range.as_bytes().len(), 8 | 32) {
                    return Err(invalid(
                        "an IP range is an address and a mask (8 or 32 bytes)",
                    ));
                }
            }
            GeneralName::Rfc822Name(_)
            | GeneralName::UniformResourceIdentifier(_)
            | GeneralName::DirectoryName(_) => {}
            _ => return Err(invalid("a subtree of an unsupported name type")),
        }
    }
    Ok(())
}

/// The DNS names permitted by name constraints (empty when none are).
pub fn permitted_dns_names(constraints: &NameConstraints) -> Vec<String> {
    constraints
        .permitted_subtrees
        .iter()
        .flatten()
        .filter_map(|subtree| match &subtree.base {
            GeneralName::DnsName(name) => Some(crate::san::common_name_for_policy(name.as_str())),
            _ => None,
        })
        .collect()
}
