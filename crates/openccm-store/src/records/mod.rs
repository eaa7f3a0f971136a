//! Records: rows as the application sees them, by area (`iam.rs`,
//! `pca.rs`, `scm.rs`, `revocation.rs`, `audit.rs`); what lists, tags and
//! writes share is here.

mod acme;
mod audit;
mod iam;
mod notify;
mod pca;
mod revocation;
mod scm;

pub use acme::*;
pub use audit::*;
pub use iam::*;
pub use notify::*;
pub use pca::*;
pub use revocation::*;
pub use scm::*;

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortDir {
    /// Ascending.
    Asc,
    /// Descending (the API's default).
    #[default]
    Desc,
}

/// A page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Records to skip.
    pub offset: i64,
    /// Page size.
    pub limit: i64,
}

/// What a quota-checked insert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertOutcome {
    /// Written.
    Inserted,
    /// Refused: the account is at its quota; nothing written.
    QuotaExceeded,
    /// Refused: a serial is taken (retry with fresh serials); nothing written.
    SerialTaken,
}

/// What a conditional update did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateOutcome {
    /// Written.
    Updated,
    /// The record is not (any more) in an expected state; nothing written.
    StateChanged,
    /// A serial is taken; nothing written.
    SerialTaken,
}

/// Which tags a resource must (not) carry: keys are ANDed, the values of one
/// key ORed; an empty value list means any value.
#[derive(Debug, Clone, Default)]
pub struct TagFilter {
    /// Only resources without any tag (the other fields are then ignored).
    pub without_any_tag: bool,
    /// Has every one of these keys (with one of the values).
    pub all: Vec<(String, Vec<String>)>,
    /// Has at least one of these keys.
    pub any: Vec<(String, Vec<String>)>,
    /// Has none of these.
    pub none: Vec<(String, Vec<String>)>,
    /// Lacks at least one of these.
    pub not_all: Vec<(String, Vec<String>)>,
}

impl TagFilter {
    /// Whether the filter lets every resource through.
    pub fn is_empty(&self) -> bool {
        !self.without_any_tag
            && self.all.is_empty()
            && self.any.is_empty()
            && self.none.is_empty()
            && self.not_all.is_empty()
    }
}

/// A resource that carries tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaggedResource {
    /// An SCM certificate.
    ScmCertificate,
    /// A private CA.
    PcaCa,
    /// A private certificate.
    PcaCertificate,
}

impl TaggedResource {
    /// The `resource_type` column value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ScmCertificate => "scm-cert",
            Self::PcaCa => "pca-ca",
            Self::PcaCertificate => "pca-cert",
        }
    }
}

/// What a tag write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagOutcome {
    /// Written.
    Done,
    /// The resource does not exist (in this account); nothing written.
    NoResource,
    /// The resource would carry more than the allowed tags; nothing written.
    TooMany,
}

/// What a caller may see in a list: the union of `scopes`, minus what the
/// exclusions name. Computed by the application from identity policies,
/// applied by the store in SQL so that pages and totals agree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Visibility {
    /// Allowed slices; empty = nothing is visible.
    pub scopes: Vec<Scope>,
    /// Projects no resource may be shown from.
    pub excluded_projects: Vec<String>,
    /// When set, only these projects may be shown.
    pub only_projects: Option<Vec<String>>,
    /// Tags that hide a resource: (key, values; empty = any value).
    pub excluded_tags: Vec<(String, Vec<String>)>,
}

/// One allowed slice: resources in one of `projects` (any, if `None`) that
/// carry every tag of `tags` (with one of its values; any, if empty).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// Projects.
    pub projects: Option<Vec<String>>,
    /// Required tags.
    pub tags: Vec<(String, Vec<String>)>,
}

impl Visibility {
    /// Everything.
    pub fn everything() -> Self {
        Self {
            scopes: vec![Scope::default()],
            ..Self::default()
        }
    }

    /// Whether nothing can be visible.
    pub fn is_empty(&self) -> bool {
        self.scopes.is_empty()
    }

    /// Whether it shows everything.
    pub fn is_everything(&self) -> bool {
        self.scopes
            .iter()
            .any(|s| s.projects.is_none() && s.tags.is_empty())
            && self.excluded_projects.is_empty()
            && self.only_projects.is_none()
            && self.excluded_tags.is_empty()
    }

    /// Whether a resource of `project` with `tags` is visible.
    pub fn shows(&self, project: &str, tags: &[(String, String)]) -> bool {
        let has = |key: &str, values: &[String]| {
            tags.iter()
                .any(|(k, v)| k == key && (values.is_empty() || values.contains(v)))
        };
        self.scopes.iter().any(|s| {
            s.projects
                .as_ref()
                .is_none_or(|p| p.iter().any(|x| x == project))
                && s.tags.iter().all(|(k, v)| has(k, v))
        }) && !self.excluded_projects.iter().any(|p| p == project)
            && self
                .only_projects
                .as_ref()
                .is_none_or(|p| p.iter().any(|x| x == project))
            && !self.excluded_tags.iter().any(|(k, v)| has(k, v))
    }
}

/// Something about a CA changed that cached CRLs or OCSP answers may show:
/// a revocation under it, its settings or its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreEvent {
    /// This CA (by id) changed.
    CaChanged(crate::CaId),
    /// Changes may have been missed (a lost connection to the database):
    /// forget everything cached.
    Resync,
}
