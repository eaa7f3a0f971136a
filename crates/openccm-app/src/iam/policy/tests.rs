//! The policy language's unit tests: parsing, matching, decisions, the
//! pre-check and list visibility.

use super::*;

fn policy(json: &str) -> Policy {
    Policy::parse(json).unwrap()
}

fn ctx(action: &str) -> RequestContext {
    RequestContext::new(action, &[])
}

#[test]
fn documents_are_validated() {
    for bad in [
        "not json",
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*"}]}"#,
        r#"{"Version": "5.0", "Statement": []}"#,
        r#"{"Version": "5.0", "Statement": [{"Effect": "Maybe", "Action": "*"}]}"#,
        r#"{"Version": "5.0", "Statement": [{"Effect": "Allow", "Action": "scm cert get"}]}"#,
        r#"{"Version": "5.0", "Statement": [{"Effect": "Allow", "Action": []}]}"#,
        r#"{"Version": "5.0", "Statement": [{"Effect": "Allow", "Action": "*", "Condition": {"NumericLessThan": {"g:X": "1"}}}]}"#,
        r#"{"Version": "5.0", "Statement": [{"Effect": "Allow", "Action": "*", "Condition": {"Bool": {"g:X": "yes"}}}]}"#,
        r#"{"Version": "5.0", "Statement": [{"Effect": "Allow", "Action": "*", "Extra": 1}]}"#,
    ] {
        assert!(Policy::parse(bad).is_err(), "{bad}");
    }
    assert!(Policy::parse(&format!(
        r#"{{"Version": "5.0", "Statement": [{{"Effect": "Allow", "Action": "*", "Sid": "{}"}}]}}"#,
        "x".repeat(MAX_DOCUMENT_CHARS)
    ))
    .is_err());
}

#[test]
fn globs_match_like_iam() {
    assert!(glob("pca:cert:*", "pca:cert:get", true));
    assert!(glob("*", "anything", true));
    assert!(glob("scm:*:get", "scm:cert:get", true));
    assert!(glob("SCM:CERT:GET", "scm:cert:get", true));
    assert!(!glob("pca:cert:*", "pca:ca:get", true));
    assert!(glob("a?c", "abc", false));
    assert!(!glob("a?c", "abbc", false));
    assert!(glob("*a*b*", "xxaxxbxx", false));
    assert!(!glob("*a*b", "xxaxxbxxc", false));
    assert!(glob("", "", false));
}

/// The decision matrix: policies × requests.
#[test]
fn allow_deny_wildcards_aliases_and_conditions() {
    let project = "0d0b1c4e-7a3f-4c7b-9c5e-0123456789ab";
    let allow_get = policy(
        r#"{"Version": "5.0", "Statement": [{"Effect": "Allow", "Action": ["scm:cert:get"]}]}"#,
    );
    let allow_all_scm =
        policy(r#"{"Version": "5.0", "Statement": [{"Effect": "Allow", "Action": ["scm:*:*"]}]}"#);
    let deny_export = policy(
        r#"{"Version": "5.0", "Statement": [{"Effect": "Deny", "Action": ["scm:cert:export"]}]}"#,
    );
    let allow_download = policy(
        r#"{"Version": "1.1", "Statement": [{"Effect": "Allow", "Action": ["scm:cert:download"]}]}"#,
    );
    let allow_in_project = policy(&format!(
        r#"{{"Version": "5.0", "Statement": [{{"Effect": "Allow", "Action": ["scm:cert:get"],
            "Condition": {{"StringEquals": {{"g:EnterpriseProjectId": ["{project}"], "g:ResourceTag/env": ["prod"]}}}}}}]}}"#
    ));
    let deny_prod = policy(
        r#"{"Version": "5.0", "Statement": [{"Effect": "Deny", "Action": ["scm:cert:*"],
        "Condition": {"StringEquals": {"g:ResourceTag/env": ["prod"]}}}]}"#,
    );
    let request_tags = policy(
        r#"{"Version": "5.0", "Statement": [{"Effect": "Allow", "Action": ["scm:cert:createTag"],
        "Condition": {"ForAllValues:StringEquals": {"g:TagKeys": ["env", "team"]}, "StringLike": {"g:RequestTag/env": ["dev*"]}}}]}"#,
    );
    let resource_scoped = policy(
        r#"{"Version": "5.0", "Statement": [{"Effect": "Allow", "Action": ["pca:cert:get"],
        "Resource": ["pca:*:*:cert:1111*"]}]}"#,
    );

    let get = ctx("scm:cert:get");
    let mut export = RequestContext::new("scm:cert:export", &["scm:cert:download"]);
    export.resource = Some("scm:local-1:d:cert:scs1".into());
    let mut get_prod = ctx("scm:cert:get");
    get_prod
        .set("g:EnterpriseProjectId", project)
        .set("g:ResourceTag/env", "prod");
    let mut get_dev = ctx("scm:cert:get");
    get_dev
        .set("g:EnterpriseProjectId", project)
        .set("g:ResourceTag/env", "dev");
    let mut get_other_project = ctx("scm:cert:get");
    get_other_project
        .set("g:EnterpriseProjectId", "0")
        .set("g:ResourceTag/env", "prod");
    let mut tag_dev = ctx("scm:cert:createTag");
    tag_dev
        .set_many("g:TagKeys", vec!["env".into()])
        .set("g:RequestTag/env", "dev-1");
    let mut tag_owner = ctx("scm:cert:createTag");
    tag_owner
        .set_many("g:TagKeys", vec!["env".into(), "owner".into()])
        .set("g:RequestTag/env", "dev");
    let mut cert_1111 = ctx("pca:cert:get");
    cert_1111.resource = Some("pca:local-1:d:cert:1111aaaa".into());
    let mut cert_2222 = ctx("pca:cert:get");
    cert_2222.resource = Some("pca:local-1:d:cert:2222aaaa".into());
    let cert_any = ctx("pca:cert:get");

    let (allow, explicit, implicit) = (
        Decision::Allow,
        Decision::ExplicitDeny,
        Decision::ImplicitDeny,
    );
    let cases: Vec<(Vec<&Policy>, &RequestContext, Decision)> = vec![
        (vec![], &get, implicit),
        (vec![&allow_get], &get, allow),
        (vec![&allow_get], &export, implicit),
        (vec![&allow_all_scm], &export, allow),
        (vec![&allow_all_scm, &deny_export], &export, explicit),
        (vec![&deny_export, &allow_all_scm], &export, explicit),
        (vec![&allow_download], &export, allow),
        (vec![&allow_in_project], &get_prod, allow),
        (vec![&allow_in_project], &get_dev, implicit),
        (vec![&allow_in_project], &get_other_project, implicit),
        (vec![&allow_in_project], &get, implicit),
        (vec![&allow_all_scm, &deny_prod], &get_prod, explicit),
        (vec![&allow_all_scm, &deny_prod], &get_dev, allow),
        (vec![&request_tags], &tag_dev, allow),
        (vec![&request_tags], &tag_owner, implicit),
        (vec![&resource_scoped], &cert_1111, allow),
        (vec![&resource_scoped], &cert_2222, implicit),
        (vec![&resource_scoped], &cert_any, implicit),
    ];
    for (i, (policies, request, expected)) in cases.into_iter().enumerate() {
        assert_eq!(
            evaluate(policies, request),
            expected,
            "case {i}: {request:?}"
        );
    }
}

#[test]
fn missing_keys_and_negated_operators() {
    let not_equals = policy(
        r#"{"Version": "5.0", "Statement": [{"Effect": "Allow", "Action": "*",
        "Condition": {"StringNotEquals": {"g:ResourceTag/env": ["prod"]}}}]}"#,
    );
    let if_exists = policy(
        r#"{"Version": "5.0", "Statement": [{"Effect": "Allow", "Action": "*",
        "Condition": {"StringEqualsIfExists": {"g:ResourceTag/env": ["prod"]}}}]}"#,
    );
    let null = policy(
        r#"{"Version": "5.0", "Statement": [{"Effect": "Allow", "Action": "*",
        "Condition": {"Null": {"g:ResourceTag/env": "true"}}}]}"#,
    );
    let untagged = ctx("scm:cert:get");
    let mut prod = ctx("scm:cert:get");
    prod.set("g:ResourceTag/env", "prod");
    assert_eq!(evaluate([&not_equals], &untagged), Decision::Allow);
    assert_eq!(evaluate([&not_equals], &prod), Decision::ImplicitDeny);
    assert_eq!(evaluate([&if_exists], &untagged), Decision::Allow);
    assert_eq!(evaluate([&if_exists], &prod), Decision::Allow);
    assert_eq!(evaluate([&null], &untagged), Decision::Allow);
    assert_eq!(evaluate([&null], &prod), Decision::ImplicitDeny);
    // Keys compare case-insensitively up to the tag key.
    let mut upper = ctx("scm:cert:get");
    upper.set("G:RESOURCETAG/env", "prod");
    assert_eq!(evaluate([&not_equals], &upper), Decision::ImplicitDeny);
}

#[test]
fn names_compare_in_lower_case_whole_on_both_sides() {
    let deny_admin = policy(
        r#"{"Version": "5.0", "Statement": [
        {"Effect": "Allow", "Action": "*"},
        {"Effect": "Deny", "Action": "*",
         "Condition": {"StringLike": {"pca:CommonName": ["admin@*", "https://h/Admin*"]}}}]}"#,
    );
    for name in [
        "Admin@Example.com",
        "admin@example.com",
        "ADMIN@x",
        "https://h/admin/x",
        "HTTPS://H/ADMIN",
    ] {
        let mut c = ctx("pca:cert:create");
        c.set("pca:CommonName", name);
        assert_eq!(
            evaluate([&deny_admin], &c),
            Decision::ExplicitDeny,
            "{name}"
        );
    }
    let mut other = ctx("pca:cert:create");
    other.set("pca:CommonName", "user@example.com");
    assert_eq!(evaluate([&deny_admin], &other), Decision::Allow);
    let mut listed = ctx("pca:cert:create");
    listed.set_many("pca:PermittedDnsName", vec!["Admin@X".to_owned()]);
    assert_eq!(
        listed.values.get("pca:permitteddnsname").unwrap(),
        &vec!["admin@x".to_owned()]
    );
}

#[test]
fn negated_operators_apply_per_value_under_set_qualifiers() {
    let allow_no_secret = policy(
        r#"{"Version": "5.0", "Statement": [{"Effect": "Allow", "Action": "*",
        "Condition": {"ForAllValues:StringNotEquals": {"g:TagKeys": ["secret"]}}}]}"#,
    );
    let deny_other_keys = policy(
        r#"{"Version": "5.0", "Statement": [{"Effect": "Deny", "Action": "*",
        "Condition": {"ForAnyValue:StringNotEquals": {"g:TagKeys": ["env", "team"]}}}]}"#,
    );
    let keys = |k: &[&str]| {
        let mut c = ctx("scm:cert:createTag");
        c.set_many("g:TagKeys", k.iter().map(|s| (*s).to_owned()).collect());
        c
    };
    assert_eq!(
        evaluate([&allow_no_secret], &keys(&["env", "x"])),
        Decision::Allow
    );
    assert_eq!(
        evaluate([&allow_no_secret], &keys(&["secret", "x"])),
        Decision::ImplicitDeny
    );
    assert_eq!(
        evaluate([&deny_other_keys], &keys(&["env", "owner"])),
        Decision::ExplicitDeny
    );
    assert_eq!(
        evaluate([&deny_other_keys], &keys(&["env", "team"])),
        Decision::ImplicitDeny
    );
}

#[test]
fn an_allow_on_one_resource_does_not_open_the_list() {
    let one = policy(
        r#"{"Version": "5.0", "Statement": [{"Effect": "Allow", "Action": "scm:cert:*",
        "Resource": ["scm:*:*:cert:scs1234567890123"]}]}"#,
    );
    assert!(visibility([&one], &ctx("scm:cert:list")).is_empty());
    assert_eq!(
        evaluate([&one], &ctx("scm:cert:list")),
        Decision::ImplicitDeny
    );
    let all =
        policy(r#"{"Version": "5.0", "Statement": [{"Effect": "Allow", "Action": "scm:cert:*"}]}"#);
    let deny_one = policy(
        r#"{"Version": "5.0", "Statement": [{"Effect": "Deny", "Action": "scm:cert:*",
        "Resource": ["scm:*:*:cert:scs1234567890123"]}]}"#,
    );
    assert!(visibility([&all], &ctx("scm:cert:list")).is_everything());
    assert!(visibility([&all, &deny_one], &ctx("scm:cert:list")).is_empty());
}

#[test]
fn the_pre_check_assumes_the_best_for_allow_and_the_worst_for_deny() {
    let scoped = policy(
        r#"{"Version": "5.0", "Statement": [{"Effect": "Allow", "Action": "scm:cert:get",
        "Condition": {"StringEquals": {"g:ResourceTag/env": ["prod"]}}}]}"#,
    );
    let deny_prod = policy(
        r#"{"Version": "5.0", "Statement": [{"Effect": "Deny", "Action": "scm:cert:get",
        "Condition": {"StringEquals": {"g:ResourceTag/env": ["prod"]}}}]}"#,
    );
    let deny =
        policy(r#"{"Version": "5.0", "Statement": [{"Effect": "Deny", "Action": "scm:*:*"}]}"#);
    let user_scoped = policy(
        r#"{"Version": "5.0", "Statement": [{"Effect": "Allow", "Action": "scm:cert:get",
        "Condition": {"StringEquals": {"g:UserName": ["alice"]}}}]}"#,
    );
    let mut get = ctx("scm:cert:get");
    assert!(may_allow([&scoped], &get));
    assert!(may_allow([&scoped, &deny_prod], &get));
    assert!(!may_allow([&scoped, &deny], &get));
    assert!(!may_allow([&deny_prod], &get));
    assert!(!may_allow([&scoped], &ctx("scm:cert:export")));
    get.set("g:UserName", "bob");
    assert!(!may_allow([&user_scoped], &get));
    get.set("g:UserName", "alice");
    assert!(may_allow([&user_scoped], &get));
}

#[test]
fn visibility_translates_project_and_tag_conditions() {
    let p1 = "0d0b1c4e-7a3f-4c7b-9c5e-0123456789ab";
    let scoped = policy(&format!(
        r#"{{"Version": "5.0", "Statement": [{{"Effect": "Allow", "Action": "scm:cert:list",
        "Condition": {{"StringEquals": {{"g:EnterpriseProjectId": ["{p1}"], "g:ResourceTag/env": ["prod"]}}}}}}]}}"#
    ));
    let list = ctx("scm:cert:list");
    let v = visibility([&scoped], &list);
    assert_eq!(
        v.scopes,
        vec![Scope {
            projects: Some(vec![p1.into()]),
            tags: vec![("env".into(), vec!["prod".into()])]
        }]
    );
    assert!(v.shows(p1, &[("env".into(), "prod".into())]));
    assert!(!v.shows(p1, &[("env".into(), "dev".into())]));
    assert!(!v.shows("0", &[("env".into(), "prod".into())]));

    let everything =
        policy(r#"{"Version": "5.0", "Statement": [{"Effect": "Allow", "Action": "scm:*:*"}]}"#);
    let deny_p1 = policy(&format!(
        r#"{{"Version": "5.0", "Statement": [{{"Effect": "Deny", "Action": "scm:cert:list",
        "Condition": {{"StringEquals": {{"g:EnterpriseProjectId": ["{p1}"]}}}}}}]}}"#
    ));
    let v = visibility([&everything, &deny_p1], &list);
    assert!(v.shows("0", &[]));
    assert!(!v.shows(p1, &[]));
    let only_p1 = policy(&format!(
        r#"{{"Version": "5.0", "Statement": [{{"Effect": "Deny", "Action": "scm:cert:list",
        "Condition": {{"StringNotEquals": {{"g:EnterpriseProjectId": ["{p1}"]}}}}}}]}}"#
    ));
    let v = visibility([&everything, &only_p1], &list);
    assert!(v.shows(p1, &[]) && !v.shows("0", &[]));
    // A Deny it cannot translate hides everything; an Allow it cannot translate shows nothing more.
    let odd_deny = policy(
        r#"{"Version": "5.0", "Statement": [{"Effect": "Deny", "Action": "scm:cert:list",
        "Condition": {"StringLike": {"g:ResourceTag/env": ["pr*"]}}}]}"#,
    );
    assert!(visibility([&everything, &odd_deny], &list).is_empty());
    let odd_allow = policy(
        r#"{"Version": "5.0", "Statement": [{"Effect": "Allow", "Action": "scm:cert:list",
        "Condition": {"StringLike": {"g:ResourceTag/env": ["pr*"]}}}]}"#,
    );
    assert!(visibility([&odd_allow], &list).is_empty());
    assert!(visibility([], &list).is_empty());
    assert!(visibility([&scoped], &ctx("pca:cert:list")).is_empty());
}
