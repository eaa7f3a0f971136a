//! Huawei Cloud CCM wire types.
//!
//! Owns the JSON shapes that cross the HTTP edge exactly as the official SDKs
//! spell them (`error_code`/`error_msg`, IAM token bodies, ...) and the
//! catalogue of error codes. It must never depend on anything but serde (and
//! utoipa's derive, which describes these shapes in the OpenAPI document,
//! crates/openccm-http/src/openapi.rs): the domain crates do not see these
//! types, `openccm-http` converts.
//!
//! Modules:
//! - [`acme`]: ACME settings of a CA and its EAB keys.
//! - [`error`]: the Huawei error body and the code catalogue.
//! - [`iam`]: the IAM subset (tokens, domains, projects).
//! - [`pca`]: Private CA bodies.
//! - [`scm`]: SSL certificate manager bodies.

pub mod acme;
pub mod acme_protocol;
pub mod error;
pub mod iam;
pub mod pca;
pub mod scm;
pub mod tags;

pub use error::{ErrorBody, ErrorCode};

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    /// The OpenAPI document names each schema after its type, without the
    /// module, and of two of one name keeps one: each described type needs
    /// a name of its own (`#[schema(as = ...)]` gives one).
    #[test]
    fn described_types_have_distinct_names() {
        let sources = [
            ("acme", include_str!("acme.rs")),
            ("error", include_str!("error.rs")),
            ("iam", include_str!("iam.rs")),
            ("pca", include_str!("pca/mod.rs")),
            ("scm", include_str!("scm.rs")),
            ("tags", include_str!("tags.rs")),
        ];
        let mut seen: BTreeMap<String, &str> = BTreeMap::new();
        let mut described = 0;
        for (module, text) in sources {
            let lines: Vec<&str> = text.lines().collect();
            for (i, line) in lines.iter().enumerate() {
                let Some(rest) = line.strip_prefix("pub struct ") else {
                    continue;
                };
                let attributes: Vec<&str> = lines[..i]
                    .iter()
                    .rev()
                    .take_while(|l| l.starts_with("#[") || l.starts_with("///"))
                    .copied()
                    .collect();
                if !attributes.iter().any(|a| a.contains("utoipa::ToSchema")) {
                    continue;
                }
                described += 1;
                let name = attributes
                    .iter()
                    .find_map(|a| a.strip_prefix("#[schema(as = ")?.strip_suffix(")]"))
                    .unwrap_or_else(|| {
                        rest.split(|c: char| !c.is_alphanumeric() && c != '_')
                            .next()
                            .unwrap_or(rest)
                    });
                if let Some(other) = seen.insert(name.to_owned(), module) {
                    panic!("{name} is described in {other} and in {module}");
                }
            }
        }
        assert!(described > 100, "{described} described types found");
    }
}
