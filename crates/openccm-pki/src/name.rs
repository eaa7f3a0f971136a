//! Distinguished names: the API's subject object, its rules, and X.509 `Name`s.
//!
//! Rules (pca-v1.md § DistinguishedName, seed 003): `common_name` 1–64 chars of
//! letters, digits, CJK and `- _ space . , *`; `country` exactly 2 letters;
//! `state`, `locality` 1–128 and `organization`, `organizational_unit` 1–64 of
//! the same set without `*`. These bounds are RFC 5280's upper bounds too.
//!
//! Encoding (RFC 5280 §4.1.2.4): `countryName` as PrintableString (upper
//! case: ISO 3166 codes), everything else as UTF8String, one attribute per
//! RDN, in the order C, ST, L, O, OU, CN.

use std::str::FromStr as _;

use const_oid::ObjectIdentifier;
use der::asn1::{PrintableStringRef, SetOfVec, Utf8StringRef};
use der::{Any, Tag, Tagged as _};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};

use crate::{PkiError, PkiResult};

/// Attribute OIDs (RFC 4519).
pub mod oid {
    use const_oid::ObjectIdentifier;

    /// commonName.
    pub const CN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
    /// countryName.
    pub const C: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.6");
    /// localityName.
    pub const L: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.7");
    /// stateOrProvinceName.
    pub const ST: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.8");
    /// organizationName.
    pub const O: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.10");
    /// organizationalUnitName.
    pub const OU: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.11");
}

/// The API's subject object. Fields are optional because certificate requests
/// may inherit all but `common_name` from the issuer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DistinguishedName {
    /// CN.
    pub common_name: Option<String>,
    /// C.
    pub country: Option<String>,
    /// ST.
    pub state: Option<String>,
    /// L.
    pub locality: Option<String>,
    /// O.
    pub organization: Option<String>,
    /// OU.
    pub organizational_unit: Option<String>,
}

fn allowed_char(c: char, star: bool) -> bool {
    c.is_alphanumeric() || matches!(c, '-' | '_' | ' ' | '.' | ',') || (star && c == '*')
}

fn check_field(label: &str, value: &str, max: usize, star: bool) -> PkiResult<()> {
    let len = value.chars().count();
    if len == 0 || len > max {
        return Err(PkiError::DistinguishedName(format!(
            "{label} must be 1-{max} characters"
        )));
    }
    if let Some(bad) = value.chars().find(|c| !allowed_char(*c, star)) {
        let extra = if star { ", '*'" } else { "" };
        return Err(PkiError::DistinguishedName(format!(
            "{label} contains {bad:?}; allowed are letters, digits, CJK characters and '-', '_', ' ', '.', ','{extra}"
        )));
    }
    Ok(())
}

impl DistinguishedName {
    /// Checks every present field against the API's rules.
    pub fn validate(&self) -> PkiResult<()> {
        if let Some(cn) = &self.common_name {
            check_field("common_name", cn, 64, true)?;
        }
        if let Some(c) = &self.country {
            if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_alphabetic()) {
                return Err(PkiError::DistinguishedName(
                    "country must be exactly 2 letters (ISO 3166)".to_owned(),
                ));
            }
        }
        for (label, value, max) in [
            ("state", &self.state, 128),
            ("locality", &self.locality, 128),
            ("organization", &self.organization, 64),
            ("organizational_unit", &self.organizational_unit, 64),
        ] {
            if let Some(v) = value {
                check_field(label, v, max, false)?;
            }
        }
        Ok(())
    }

    /// Checks the fields and that every one of them is present (CA subjects).
    pub fn validate_complete(&self) -> PkiResult<()> {
        self.validate()?;
        for (label, value) in [
            ("common_name", &self.common_name),
            ("country", &self.country),
            ("state", &self.state),
            ("locality", &self.locality),
            ("organization", &self.organization),
            ("organizational_unit", &self.organizational_unit),
        ] {
            if value.is_none() {
                return Err(PkiError::DistinguishedName(format!("{label} is required")));
            }
        }
        Ok(())
    }

    /// This name with absent fields (except CN) taken from `issuer`.
    #[must_use]
    pub fn inherit_from(&self, issuer: &Self) -> Self {
        Self {
            common_name: self.common_name.clone(),
            country: self.country.clone().or_else(|| issuer.country.clone()),
            state: self.state.clone().or_else(|| issuer.state.clone()),
            locality: self.locality.clone().or_else(|| issuer.locality.clone()),
            organization: self
                .organization
                .clone()
                .or_else(|| issuer.organization.clone()),
            organizational_unit: self
                .organizational_unit
                .clone()
                .or_else(|| issuer.organizational_unit.clone()),
        }
    }

    /// The X.509 name. Fails only if a value cannot be encoded.
    pub fn to_name(&self) -> PkiResult<Name> {
        let mut rdns = Vec::new();
        let mut push = |oid: ObjectIdentifier, value: Any| -> PkiResult<()> {
            let atv = AttributeTypeAndValue { oid, value };
            let set = SetOfVec::try_from(vec![atv]).map_err(crate::encoding)?;
            rdns.push(RelativeDistinguishedName(set));
            Ok(())
        };
        if let Some(c) = &self.country {
            let upper = c.to_ascii_uppercase();
            let value =
                Any::encode_from(&PrintableStringRef::new(&upper).map_err(crate::encoding)?)
                    .map_err(crate::encoding)?;
            push(oid::C, value)?;
        }
        for (attr, value) in [
            (oid::ST, &self.state),
            (oid::L, &self.locality),
            (oid::O, &self.organization),
            (oid::OU, &self.organizational_unit),
            (oid::CN, &self.common_name),
        ] {
            if let Some(v) = value {
                let any = Any::encode_from(&Utf8StringRef::new(v).map_err(crate::encoding)?)
                    .map_err(crate::encoding)?;
                push(attr, any)?;
            }
        }
        Ok(RdnSequence(rdns))
    }

    /// Reads the known attributes of an X.509 name. Each attribute's first
    /// occurrence wins; other attributes are ignored here (they stay in the
    /// certificate, which copies the name as it is).
    pub fn from_name(name: &Name) -> PkiResult<Self> {
        let mut dn = Self::default();
        for rdn in &name.0 {
            for atv in rdn.0.iter() {
                let slot = match atv.oid {
                    o if o == oid::CN => &mut dn.common_name,
                    o if o == oid::C => &mut dn.country,
                    o if o == oid::ST => &mut dn.state,
                    o if o == oid::L => &mut dn.locality,
                    o if o == oid::O => &mut dn.organization,
                    o if o == oid::OU => &mut dn.organizational_unit,
                    _ => continue,
                };
                if slot.is_none() {
                    *slot = Some(directory_string(&atv.value)?);
                }
            }
        }
        Ok(dn)
    }

    /// The common name, or an empty string.
    pub fn common_name_or_empty(&self) -> &str {
        self.common_name.as_deref().unwrap_or("")
    }
}

/// Decodes a DirectoryString-like value to text.
pub fn directory_string(value: &Any) -> PkiResult<String> {
    let bytes = value.value();
    let bad = || PkiError::DistinguishedName("an attribute value is not a valid string".to_owned());
    match value.tag() {
        Tag::Utf8String | Tag::PrintableString | Tag::Ia5String | Tag::VisibleString => {
            std::str::from_utf8(bytes)
                .map(str::to_owned)
                .map_err(|_| bad())
        }
        // T.61 in practice carries Latin-1.
        Tag::TeletexString => Ok(bytes.iter().map(|b| char::from(*b)).collect()),
        Tag::BmpString => {
            if !bytes.len().is_multiple_of(2) {
                return Err(bad());
            }
            let units: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16(&units).map_err(|_| bad())
        }
        _ => Err(bad()),
    }
}

/// RFC 4514 text of a name, for messages and logs.
pub fn display(name: &Name) -> String {
    name.to_string()
}

/// Parses an RFC 4514 string (tests and tools).
pub fn parse_rfc4514(text: &str) -> PkiResult<Name> {
    Name::from_str(text).map_err(|e| PkiError::DistinguishedName(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::{Decode as _, Encode as _};

    fn full() -> DistinguishedName {
        DistinguishedName {
            common_name: Some("test.huawei.com".into()),
            country: Some("cn".into()),
            state: Some("guizhou".into()),
            locality: Some("guiyang".into()),
            organization: Some("示例组织".into()),
            organizational_unit: Some("IT".into()),
        }
    }

    #[test]
    fn valid_names_pass_and_encode_utf8() {
        let dn = full();
        dn.validate_complete().unwrap();
        let name = dn.to_name().unwrap();
        let der = name.to_der().unwrap();
        let back = Name::from_der(&der).unwrap();
        let read = DistinguishedName::from_name(&back).unwrap();
        assert_eq!(read.organization.as_deref(), Some("示例组织"));
        assert_eq!(
            read.country.as_deref(),
            Some("CN"),
            "country is upper-cased"
        );
        // The organisation is a UTF8String (tag 0x0c), the country a PrintableString (0x13).
        assert!(der
            .windows(2)
            .any(|w| w == [0x0c, u8::try_from("示例组织".len()).unwrap()]));
        assert!(der.windows(4).any(|w| w == [0x13, 2, b'C', b'N']));
    }

    #[test]
    fn rules_are_enforced() {
        let cases: Vec<(&str, DistinguishedName)> = vec![
            (
                "empty cn",
                DistinguishedName {
                    common_name: Some(String::new()),
                    ..full()
                },
            ),
            (
                "long cn",
                DistinguishedName {
                    common_name: Some("a".repeat(65)),
                    ..full()
                },
            ),
            (
                "cn with slash",
                DistinguishedName {
                    common_name: Some("a/b".into()),
                    ..full()
                },
            ),
            (
                "country of 3",
                DistinguishedName {
                    country: Some("CHN".into()),
                    ..full()
                },
            ),
            (
                "country digits",
                DistinguishedName {
                    country: Some("1A".into()),
                    ..full()
                },
            ),
            (
                "star in o",
                DistinguishedName {
                    organization: Some("a*".into()),
                    ..full()
                },
            ),
            (
                "long state",
                DistinguishedName {
                    state: Some("s".repeat(129)),
                    ..full()
                },
            ),
            (
                "quote in ou",
                DistinguishedName {
                    organizational_unit: Some("a\"b".into()),
                    ..full()
                },
            ),
        ];
        for (what, dn) in cases {
            assert!(dn.validate().is_err(), "{what}");
        }
        let wildcard = DistinguishedName {
            common_name: Some("*.example.com".into()),
            ..full()
        };
        wildcard.validate().unwrap();
        let sixty_four_cjk = DistinguishedName {
            common_name: Some("字".repeat(64)),
            ..full()
        };
        sixty_four_cjk.validate().unwrap();
        assert!(DistinguishedName {
            country: None,
            ..full()
        }
        .validate_complete()
        .is_err());
    }

    #[test]
    fn missing_fields_are_inherited_except_the_common_name() {
        let child = DistinguishedName {
            common_name: Some("leaf".into()),
            organization: Some("Child Org".into()),
            ..DistinguishedName::default()
        };
        let merged = child.inherit_from(&full());
        assert_eq!(merged.common_name.as_deref(), Some("leaf"));
        assert_eq!(merged.organization.as_deref(), Some("Child Org"));
        assert_eq!(merged.country.as_deref(), Some("cn"));
        assert_eq!(merged.organizational_unit.as_deref(), Some("IT"));
    }
}
