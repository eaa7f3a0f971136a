//! Identity policies: the JSON documents, their validation, and the
//! decision for one request. Pure: no I/O, no clock.
//!
//! ```json
//! {"Version": "5.0",
//!  "Statement": [{"Effect": "Allow",
//!                 "Action": ["scm:cert:get", "scm:cert:list"],
//!                 "Resource": ["*"],
//!                 "Condition": {"StringEquals": {"g:EnterpriseProjectId": ["<id>"],
//!                                                "g:ResourceTag/env": ["prod"]}}}]}
//! ```
//!
//! Semantics (those of IAM identity policies): a request is allowed when some
//! Allow statement matches it and no Deny statement does; an explicit Deny
//! always wins; nothing matching means denied. A statement matches when one
//! of its actions matches the action (or one of its aliases), one of its
//! resources matches the resource, and every condition holds. Actions and
//! resources are matched case-insensitively with `*` and `?` wildcards.
//! Conditions: operators are ANDed, the keys of one operator are ANDed, the
//! values of one key are ORed. A key missing from the request fails positive
//! operators and satisfies negated ones (`StringNotEquals`, `StringNotLike`),
//! unless the operator ends in `IfExists`, which makes a missing key pass.
//! Multi-valued keys (`g:TagKeys`) take `ForAnyValue:` (the default) or
//! `ForAllValues:`.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, Result};

/// Condition keys holding names, compared without regard to case.
const NAME_KEYS: [&str; 2] = ["pca:commonname", "pca:permitteddnsname"];

/// The largest policy document accepted (characters), as Huawei IAM's.
pub const MAX_DOCUMENT_CHARS: usize = 6144;
/// The most statements in a document.
pub const MAX_STATEMENTS: usize = 100;

/// Allow or Deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Allow.
    Allow,
    /// Deny (wins).
    Deny,
}

/// A condition operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    StringStartWith,
    Bool,
    Null,
}

impl Operator {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "StringEquals" => Self::StringEquals,
            "StringNotEquals" => Self::StringNotEquals,
            "StringEqualsIgnoreCase" => Self::StringEqualsIgnoreCase,
            "StringNotEqualsIgnoreCase" => Self::StringNotEqualsIgnoreCase,
            "StringLike" => Self::StringLike,
            "StringNotLike" => Self::StringNotLike,
            "StringStartWith" => Self::StringStartWith,
            "Bool" => Self::Bool,
            "Null" => Self::Null,
            _ => return None,
        })
    }

    fn negated(self) -> bool {
        matches!(
            self,
            Self::StringNotEquals | Self::StringNotEqualsIgnoreCase | Self::StringNotLike
        )
    }

    /// Whether `actual` satisfies the positive form of the operator for `expected`.
    fn matches(self, actual: &str, expected: &str) -> bool {
        match self {
            Self::StringEquals | Self::StringNotEquals => actual == expected,
            Self::StringEqualsIgnoreCase | Self::StringNotEqualsIgnoreCase => {
                actual.to_lowercase() == expected.to_lowercase()
            }
            Self::StringLike | Self::StringNotLike => glob(expected, actual, false),
            Self::StringStartWith => actual.starts_with(expected),
            Self::Bool => actual.eq_ignore_ascii_case(expected),
            Self::Null => false,
        }
    }
}

/// How a multi-valued key is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetQualifier {
    /// No qualifier (single-valued keys; `ForAnyValue` for multi-valued ones).
    None,
    ForAnyValue,
    ForAllValues,
}

/// One condition: `operator` on `key` with `values`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    operator: Operator,
    qualifier: SetQualifier,
    if_exists: bool,
    /// The key, normalised by [`normalize_key`].
    key: String,
    values: Vec<String>,
}

/// One statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Allow or Deny.
    pub effect: Effect,
    actions: Vec<String>,
    resources: Vec<String>,
    conditions: Vec<Condition>,
}

/// A validated policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The statements.
    pub statements: Vec<Statement>,
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::invalid(format!("invalid policy document: {}", msg.into()))
}

/// Condition keys are case-insensitive up to the tag key: `g:ResourceTag/Env`
/// keeps `Env`, the prefix becomes `g:resourcetag/`.
pub fn normalize_key(key: &str) -> String {
    match key.split_once('/') {
        Some((prefix, rest)) => format!("{}/{rest}", prefix.to_ascii_lowercase()),
        None => key.to_ascii_lowercase(),
    }
}

fn strings(value: &Value, what: &str) -> Result<Vec<String>> {
    match value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Bool(b) => Ok(vec![b.to_string()]),
        Value::Number(n) => Ok(vec![n.to_string()]),
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                Value::Bool(b) => Ok(b.to_string()),
                Value::Number(n) => Ok(n.to_string()),
                _ => Err(invalid(format!("{what} must hold strings"))),
            })
            .collect(),
        _ => Err(invalid(format!(
            "{what} must be a string or a non-empty list of strings"
        ))),
    }
}

fn valid_action(action: &str) -> bool {
    action == "*"
        || (action.split(':').count() == 3
            && action.len() <= 128
            && action
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '*' | '?' | '_' | '-')))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDocument {
    #[serde(rename = "Version")]
    version: String,
    #[serde(rename = "Statement")]
    statement: Vec<RawStatement>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStatement {
    #[serde(rename = "Effect")]
    effect: String,
    #[serde(rename = "Action")]
    action: Value,
    #[serde(rename = "Resource", default)]
    resource: Option<Value>,
    #[serde(rename = "Condition", default)]
    condition: Option<BTreeMap<String, BTreeMap<String, Value>>>,
    #[serde(rename = "Sid", default)]
    _sid: Option<String>,
}

impl Policy {
    /// Parses and validates a document. Refuses what it would not enforce
    /// exactly: unknown fields, operators or effects, malformed actions.
    pub fn parse(text: &str) -> Result<Self> {
        if text.chars().count() > MAX_DOCUMENT_CHARS {
            return Err(invalid(format!(
                "longer than {MAX_DOCUMENT_CHARS} characters"
            )));
        }
        let raw: RawDocument = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
        if raw.version != "1.1" && raw.version != "5.0" {
            return Err(invalid("Version must be \"1.1\" or \"5.0\""));
        }
        if raw.statement.is_empty() || raw.statement.len() > MAX_STATEMENTS {
            return Err(invalid(format!(
                "Statement must hold 1 to {MAX_STATEMENTS} statements"
            )));
        }
        let statements = raw
            .statement
            .into_iter()
            .map(|s| {
                let effect = match s.effect.as_str() {
                    "Allow" => Effect::Allow,
                    "Deny" => Effect::Deny,
                    _ => return Err(invalid("Effect must be Allow or Deny")),
                };
                let actions = strings(&s.action, "Action")?;
                if let Some(bad) = actions.iter().find(|a| !valid_action(a)) {
                    return Err(invalid(format!(
                        "{bad:?} is not an action (service:resource:verb, * allowed)"
                    )));
                }
                let resources = match &s.resource {
                    None => vec!["*".to_owned()],
                    Some(v) => strings(v, "Resource")?,
                };
                let mut conditions = Vec::new();
                for (op_name, keys) in s.condition.unwrap_or_default() {
                    let (qualifier, rest) = if let Some(r) = op_name.strip_prefix("ForAnyValue:") {
                        (SetQualifier::ForAnyValue, r)
                    } else if let Some(r) = op_name.strip_prefix("ForAllValues:") {
                        (SetQualifier::ForAllValues, r)
                    } else {
                        (SetQualifier::None, op_name.as_str())
                    };
                    let (base, if_exists) = match rest.strip_suffix("IfExists") {
                        Some(base) => (base, true),
                        None => (rest, false),
                    };
                    let operator = Operator::parse(base).ok_or_else(|| {
                        invalid(format!("unsupported condition operator {op_name:?}"))
                    })?;
                    if keys.is_empty() {
                        return Err(invalid(format!("{op_name} names no condition key")));
                    }
                    for (key, values) in keys {
                        if key.is_empty() || key.len() > 256 || !key.contains(':') {
                            return Err(invalid(format!("{key:?} is not a condition key")));
                        }
                        let values = strings(&values, &key)?;
                        if operator == Operator::Null || operator == Operator::Bool {
                            for v in &values {
                                if v != "true" && v != "false" {
                                    return Err(invalid(format!(
                                        "{op_name} takes \"true\" or \"false\""
                                    )));
                                }
                            }
                        }
                        let key = normalize_key(&key);
                        // Names are compared in lower case: the request's
                        // are lowered (RequestContext::set_many), so are these.
                        let values = if NAME_KEYS.contains(&key.as_str()) {
                            values.iter().map(|v| v.to_lowercase()).collect()
                        } else {
                            values
                        };
                        conditions.push(Condition {
                            operator,
                            qualifier,
                            if_exists,
                            key,
                            values,
                        });
                    }
                }
                Ok(Statement {
                    effect,
                    actions,
                    resources,
                    conditions,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self { statements })
    }
}

/// `*` and `?` wildcards; `fold` compares case-insensitively.
pub fn glob(pattern: &str, text: &str, fold: bool) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = if fold {
        (
            pattern.to_lowercase().chars().collect(),
            text.to_lowercase().chars().collect(),
        )
    } else {
        (pattern.chars().collect(), text.chars().collect())
    };
    // Iterative matching with backtracking to the last `*`.
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// The facts a decision is made on.
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    /// The action (`scm:cert:get`).
    pub action: String,
    /// Other names of the action (`scm:cert:download` for `scm:cert:export`).
    pub aliases: Vec<String>,
    /// The resource URN, for operations on one resource.
    pub resource: Option<String>,
    /// Condition key values, by normalised key; multi-valued keys hold several.
    pub values: BTreeMap<String, Vec<String>>,
}

impl RequestContext {
    /// A context for `action`.
    pub fn new(action: &str, aliases: &[&str]) -> Self {
        Self {
            action: action.to_owned(),
            aliases: aliases.iter().map(|a| (*a).to_owned()).collect(),
            resource: None,
            values: BTreeMap::new(),
        }
    }

    /// Sets a single-valued key.
    pub fn set(&mut self, key: &str, value: &str) -> &mut Self {
        self.set_many(key, vec![value.to_owned()])
    }

    /// Sets a multi-valued key.
    pub fn set_many(&mut self, key: &str, values: Vec<String>) -> &mut Self {
        let key = normalize_key(key);
        // Names are compared in lower case, whole: the policy's values are
        // lowered when it is parsed, so the request's are here (an email's
        // local part and a URI's path included, or `admin@*` in a Deny
        // would miss `Admin@example.com`).
        let values = if NAME_KEYS.contains(&key.as_str()) {
            values.iter().map(|v| v.to_lowercase()).collect()
        } else {
            values
        };
        self.values.insert(key, values);
        self
    }
}

/// Whether the condition holds for `ctx`.
fn condition_holds(c: &Condition, ctx: &RequestContext) -> bool {
    let actual = ctx.values.get(&c.key);
    if c.operator == Operator::Null {
        let absent = actual.is_none_or(Vec::is_empty);
        return c.values.iter().any(|v| (v == "true") == absent);
    }
    let Some(actual) = actual.filter(|a| !a.is_empty()) else {
        // A missing key: IfExists passes; negated operators pass; the rest fail.
        return c.if_exists || c.operator.negated();
    };
    // One context value satisfies the operator: for a negated operator, it
    // matches none of the policy's values.
    let satisfied = |value: &str| {
        let matches_one = c.values.iter().any(|e| c.operator.matches(value, e));
        matches_one != c.operator.negated()
    };
    match c.qualifier {
        SetQualifier::ForAllValues => actual.iter().all(|a| satisfied(a)),
        SetQualifier::None | SetQualifier::ForAnyValue => actual.iter().any(|a| satisfied(a)),
    }
}

fn action_matches(statement: &Statement, ctx: &RequestContext) -> bool {
    statement.actions.iter().any(|pattern| {
        glob(pattern, &ctx.action, true) || ctx.aliases.iter().any(|a| glob(pattern, a, true))
    })
}

fn resource_matches(statement: &Statement, ctx: &RequestContext) -> bool {
    statement
        .resources
        .iter()
        .any(|pattern| match &ctx.resource {
            // An operation on no particular resource: only `*` covers it.
            None => pattern == "*",
            Some(urn) => glob(pattern, urn, true),
        })
}

/// Whether `statement` applies to `ctx`.
pub fn statement_matches(statement: &Statement, ctx: &RequestContext) -> bool {
    action_matches(statement, ctx)
        && resource_matches(statement, ctx)
        && statement.conditions.iter().all(|c| condition_holds(c, ctx))
}

/// The outcome of an evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Some Allow matched and no Deny did.
    Allow,
    /// A Deny matched.
    ExplicitDeny,
    /// Nothing allowed it.
    ImplicitDeny,
}

/// Decides `ctx` under `policies`.
pub fn evaluate<'a>(
    policies: impl IntoIterator<Item = &'a Policy>,
    ctx: &RequestContext,
) -> Decision {
    let mut allowed = false;
    for policy in policies {
        for statement in &policy.statements {
            if statement_matches(statement, ctx) {
                match statement.effect {
                    Effect::Deny => return Decision::ExplicitDeny,
                    Effect::Allow => allowed = true,
                }
            }
        }
    }
    if allowed {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    }
}

/// Condition keys whose values depend on the resource (unknown before it is
/// loaded). Every other key is known from the caller and the request.
pub fn is_resource_key(key: &str) -> bool {
    key == "g:enterpriseprojectid" || key.starts_with("g:resourcetag/")
}

/// Whether some statement could allow `ctx` for *some* resource and request,
/// and no statement denies it for *every* one: the check made before any
/// data is read. Conditions on keys not known yet (the resource's project
/// and tags, the request's tags) are assumed to hold for Allow and to fail
/// for Deny; the caller's own keys are known and decide.
pub fn may_allow<'a>(
    policies: impl IntoIterator<Item = &'a Policy> + Clone,
    ctx: &RequestContext,
) -> bool {
    let applies = |s: &Statement, effect: Effect| {
        s.effect == effect
            && action_matches(s, ctx)
            && (ctx.resource.is_some() || s.resources.iter().any(|r| r == "*" || r.contains(':')))
            && s.conditions.iter().all(|c| {
                if ctx.values.contains_key(&c.key) {
                    condition_holds(c, ctx)
                } else {
                    effect == Effect::Allow
                }
            })
    };
    let unconditional_deny = policies.clone().into_iter().any(|p| {
        p.statements
            .iter()
            .any(|s| applies(s, Effect::Deny) && s.resources.iter().any(|r| r == "*"))
    });
    !unconditional_deny
        && policies
            .into_iter()
            .any(|p| p.statements.iter().any(|s| applies(s, Effect::Allow)))
}

pub use openccm_store::{Scope, Visibility};

/// A resource-key condition that lists can translate to SQL.
enum Translated {
    Projects(Vec<String>),
    Tag(String, Vec<String>),
}

fn translate(c: &Condition) -> Option<Translated> {
    let exact = matches!(c.operator, Operator::StringEquals)
        || (c.operator == Operator::StringLike && !c.values.iter().any(|v| v.contains(['*', '?'])));
    if !exact || c.if_exists {
        return None;
    }
    if c.key == "g:enterpriseprojectid" {
        Some(Translated::Projects(c.values.clone()))
    } else {
        c.key
            .strip_prefix("g:resourcetag/")
            .map(|tag| Translated::Tag(tag.to_owned(), c.values.clone()))
    }
}

/// What the caller may list with `ctx` (a list action, no resource).
///
/// Only conditions that translate exactly widen what is shown: an Allow
/// with another kind of resource condition is ignored (it can only show
/// less), and a Deny that cannot be translated hides everything.
pub fn visibility<'a>(
    policies: impl IntoIterator<Item = &'a Policy>,
    ctx: &RequestContext,
) -> Visibility {
    let mut v = Visibility::default();
    let mut deny_all = false;
    for policy in policies {
        for s in &policy.statements {
            // A list is an operation on no particular resource: an Allow counts
            // only with `Resource: "*"`; a Deny naming any resource of the
            // kind hides what it cannot translate (below).
            let covers_all = s.resources.iter().any(|r| r == "*");
            if !action_matches(s, ctx)
                || (s.effect == Effect::Allow && !covers_all)
                || (s.effect == Effect::Deny
                    && !covers_all
                    && !s.resources.iter().any(|r| r.contains(':')))
            {
                continue;
            }

            // Caller-level conditions decide now whether the statement applies.
            let (resource_conds, caller_conds): (Vec<&Condition>, Vec<&Condition>) =
                s.conditions.iter().partition(|c| is_resource_key(&c.key));
            if !caller_conds.iter().all(|c| condition_holds(c, ctx)) {
                continue;
            }
            if s.effect == Effect::Deny && !covers_all {
                // A Deny on particular resources: the list cannot tell which
                // rows they are, so it shows nothing rather than too much.
                deny_all = true;
                continue;
            }
            match s.effect {
                Effect::Allow => {
                    let mut scope = Scope::default();
                    let mut exact = true;
                    for c in resource_conds {
                        match translate(c) {
                            Some(Translated::Projects(p)) => {
                                scope.projects = Some(match scope.projects.take() {
                                    Some(prev) => {
                                        prev.into_iter().filter(|x| p.contains(x)).collect()
                                    }
                                    None => p,
                                });
                            }
                            Some(Translated::Tag(k, values)) => scope.tags.push((k, values)),
                            None => exact = false,
                        }
                    }
                    if exact {
                        v.scopes.push(scope);
                    }
                }
                Effect::Deny => match resource_conds.as_slice() {
                    [c] => match translate(c) {
                        Some(Translated::Projects(p)) => v.excluded_projects.extend(p),
                        Some(Translated::Tag(k, values)) => v.excluded_tags.push((k, values)),
                        None if c.key == "g:enterpriseprojectid"
                            && c.operator == Operator::StringNotEquals
                            && !c.if_exists =>
                        {
                            v.only_projects = Some(match v.only_projects.take() {
                                Some(prev) => {
                                    prev.into_iter().filter(|x| c.values.contains(x)).collect()
                                }
                                None => c.values.clone(),
                            });
                        }
                        None => deny_all = true,
                    },
                    _ => deny_all = true,
                },
            }
        }
    }
    if deny_all {
        v.scopes.clear();
    }
    v
}

#[cfg(test)]
mod tests;
