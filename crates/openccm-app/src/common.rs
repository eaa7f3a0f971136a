//! Rules shared by the services.

use crate::error::{Error, Invalid, Result};

/// The default enterprise project.
pub const DEFAULT_PROJECT: &str = "0";

/// Validates an `enterprise_project_id` given on create: omitted → `"0"`;
/// otherwise `"0"` or `^[0-9a-z]{8}(-[0-9a-z]{4}){3}-[0-9a-z]{12}$`.
/// (`"all"` is only meaningful in queries.)
pub fn enterprise_project_for_create(value: Option<&str>) -> Result<String> {
    match value {
        None | Some(DEFAULT_PROJECT) => Ok(DEFAULT_PROJECT.to_owned()),
        Some(id) if is_project_uuid(id) => Ok(id.to_owned()),
        Some(_) => Err(Error::invalid(
            "enterprise_project_id must be \"0\" or an id like 0d0b1c4e-7a3f-4c7b-9c5e-0123456789ab",
        )),
    }
}

/// Whether `id` has the enterprise project id shape.
pub fn is_project_uuid(id: &str) -> bool {
    let groups: Vec<&str> = id.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8usize, 4, 4, 4, 12]).all(|(g, n)| {
            g.len() == n
                && g.bytes()
                    .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
        })
}

/// `N` bytes from the OS CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    use rand::RngCore as _;
    let mut out = [0u8; N];
    rand::rngs::OsRng.fill_bytes(&mut out);
    out
}

/// A required field.
pub fn required<T>(value: Option<T>, field: &str) -> Result<T> {
    value.ok_or_else(|| Error::invalid_kind(Invalid::Parameter, format!("{field} is required")))
}

/// The handle of a row's key: `expected` is the owner the row's id implies,
/// and a row naming another is refused (it was tampered with).
pub(crate) fn row_key_handle(
    expected: &str,
    stored_owner: Option<&str>,
    sealed: Option<&Vec<u8>>,
) -> Result<Option<openccm_custody::KeyHandle>> {
    match (stored_owner, sealed) {
        (Some(owner), Some(sealed)) if owner == expected => Ok(Some(openccm_custody::KeyHandle {
            owner: owner.to_owned(),
            sealed: sealed.clone(),
        })),
        (Some(_), Some(_)) => Err(Error::Internal(format!(
            "the key row of {expected} names another owner"
        ))),
        _ => Ok(None),
    }
}

/// Key material custody handed back as text (a PEM key, an envelope's
/// base64), checked without copying it: a failed check leaves no stray copy.
pub(crate) fn secret_text(
    bytes: zeroize::Zeroizing<Vec<u8>>,
) -> Result<zeroize::Zeroizing<String>> {
    if std::str::from_utf8(&bytes).is_err() {
        return Err(Error::Internal("a stored key is not text".to_owned()));
    }
    let mut bytes = bytes;
    let text = String::from_utf8(std::mem::take(&mut *bytes))
        .map_err(|_| Error::Internal("a stored key is not text".to_owned()))?;
    Ok(zeroize::Zeroizing::new(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_ids_follow_the_documented_pattern() {
        assert_eq!(enterprise_project_for_create(None).unwrap(), "0");
        assert_eq!(enterprise_project_for_create(Some("0")).unwrap(), "0");
        assert!(
            enterprise_project_for_create(Some("0d0b1c4e-7a3f-4c7b-9c5e-0123456789ab")).is_ok()
        );
        assert!(enterprise_project_for_create(Some("all")).is_err());
        assert!(
            enterprise_project_for_create(Some("0D0B1C4E-7a3f-4c7b-9c5e-0123456789ab")).is_err()
        );
        assert!(enterprise_project_for_create(Some("1")).is_err());
    }

    #[test]
    fn a_key_row_naming_another_owner_is_refused() {
        let sealed = vec![1, 2, 3];
        let handle = row_key_handle("cert:a", Some("cert:a"), Some(&sealed))
            .unwrap()
            .unwrap();
        assert_eq!(handle.owner, "cert:a");
        // A CA's key copied into a certificate row does not become the
        // certificate's.
        assert!(row_key_handle("cert:a", Some("ca:b"), Some(&sealed)).is_err());
        assert!(row_key_handle("cert:a", None, None).unwrap().is_none());
    }

    #[test]
    fn secret_text_takes_text_and_refuses_bytes() {
        let text = secret_text(zeroize::Zeroizing::new(b"-----BEGIN".to_vec())).unwrap();
        assert_eq!(text.as_str(), "-----BEGIN");
        assert!(secret_text(zeroize::Zeroizing::new(vec![0xff, 0xfe])).is_err());
    }
}

/// A request field the HTTP edge parsed into its domain type: the value, or
/// the refusal that names what was wrong. The refusal is raised where the
/// application checks the field, so the answer to a request with several
/// faults is the one it always was (and a field the request's kind ignores,
/// such as a root CA's `issuer_id`, is no error at all). The text the
/// client sent never reaches the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field<T> {
    /// Parsed.
    Valid(T),
    /// Not a value of the field's type.
    Refused {
        /// The rule broken.
        kind: Invalid,
        /// The client's message.
        message: String,
    },
}

impl<T: Clone> Field<T> {
    /// From a parse's outcome: an invalid-argument error becomes the
    /// refusal; any other error is refused as a bad parameter.
    pub fn from_parse(parsed: Result<T>) -> Self {
        match parsed {
            Ok(value) => Self::Valid(value),
            Err(Error::InvalidArgument { kind, message }) => Self::Refused { kind, message },
            Err(other) => Self::Refused {
                kind: Invalid::Parameter,
                message: other.to_string(),
            },
        }
    }

    /// The value, or its refusal.
    pub fn get(&self) -> Result<T> {
        match self {
            Self::Valid(value) => Ok(value.clone()),
            Self::Refused { kind, message } => Err(Error::invalid_kind(*kind, message.clone())),
        }
    }
}

/// A required field's value: missing, or refused, is an error.
pub fn required_field<T: Clone>(field: Option<&Field<T>>, name: &str) -> Result<T> {
    required(field, name)?.get()
}
