//! IAM administration queries: accounts, users, access keys, groups,
//! identity policies and their attachments.

use async_trait::async_trait;

use super::{access_key_from_row, corrupt, locks, user_from_row, Sql, USER_COLUMNS};
use crate::db::{args, params, Backend, Durability, Finish, Row, Tx, Weight};
use crate::ids::{AccessKeyId, DomainId, GroupId, PolicyId, UserId};
use crate::records::{AccessKey, BootstrapPlan, Group, PolicyRecord, Principal, User};
use crate::{IamAdminStore, StoreResult};

const ACCESS_KEY_COLUMNS: &str =
    "access_key, user_id, domain_id, sealed_secret, enabled, description, created_at";

fn group_from_row(row: &Row) -> StoreResult<Group> {
    Ok(Group {
        group_id: GroupId::parse(&row.text("group_id")?).ok_or_else(|| corrupt("group_id"))?,
        domain_id: DomainId::parse(&row.text("domain_id")?).ok_or_else(|| corrupt("domain_id"))?,
        name: row.text("name")?,
        description: row.text("description")?,
        created_at: row.int("created_at")?,
    })
}

fn policy_from_row(row: &Row) -> StoreResult<PolicyRecord> {
    Ok(PolicyRecord {
        policy_id: PolicyId::parse(&row.text("policy_id")?).ok_or_else(|| corrupt("policy_id"))?,
        domain_id: DomainId::parse(&row.text("domain_id")?).ok_or_else(|| corrupt("domain_id"))?,
        name: row.text("name")?,
        description: row.text("description")?,
        document: row.text("document")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
    })
}

const POLICY_COLUMNS: &str =
    "policy_id, domain_id, name, description, document, created_at, updated_at";

async fn insert_user(tx: &mut dyn Tx, u: &User) -> StoreResult<()> {
    tx.exec(
        &format!("INSERT INTO users ({USER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"),
        &params![
            u.user_id.as_str(),
            u.domain_id.as_str(),
            u.name.as_str(),
            u.password_hash.as_deref(),
            u.is_root,
            u.enabled,
            u.credentials_version,
            u.created_at
        ],
    )
    .await?;
    Ok(())
}

async fn insert_access_key(tx: &mut dyn Tx, k: &AccessKey) -> StoreResult<()> {
    tx.exec(
        &format!(
            "INSERT INTO access_keys ({ACCESS_KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ),
        &params![
            k.access_key.as_str(),
            k.user_id.as_str(),
            k.domain_id.as_str(),
            k.sealed_secret.as_slice(),
            k.enabled,
            k.description.as_str(),
            k.created_at
        ],
    )
    .await?;
    Ok(())
}

async fn exists(
    tx: &mut dyn Tx,
    table: &str,
    column: &str,
    id: &str,
    domain: &str,
) -> StoreResult<bool> {
    Ok(!tx
        .query(
            &format!("SELECT 1 AS one FROM {table} WHERE {column} = $1 AND domain_id = $2"),
            &params![id, domain],
        )
        .await?
        .is_empty())
}

#[async_trait]
impl<B: Backend> IamAdminStore for Sql<B> {
    async fn create_account(&self, plan: &BootstrapPlan) -> StoreResult<()> {
        let plan = plan.clone();
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                let (a, p) = (&plan.account, &plan.project);
                tx.exec(
                    "INSERT INTO accounts (domain_id, name, enabled, created_at) VALUES ($1, $2, $3, $4)",
                    &params![a.domain_id.as_str(), a.name.as_str(), a.enabled, a.created_at],
                )
                .await?;
                insert_user(tx, &plan.user).await?;
                insert_access_key(tx, &plan.access_key).await?;
                tx.exec(
                    "INSERT INTO projects (project_id, domain_id, name, created_at) VALUES ($1, $2, $3, $4)",
                    &params![p.project_id.as_str(), p.domain_id.as_str(), p.name.as_str(), p.created_at],
                )
                .await?;
                Ok(Finish::Commit(()))
            })
        })
        .await
    }

    async fn accounts(&self) -> StoreResult<Vec<crate::Account>> {
        self.read(
            "SELECT domain_id, name, enabled, created_at FROM accounts ORDER BY name",
            args![],
            Weight::Scan,
        )
        .await?
        .iter()
        .map(super::account_from_row)
        .collect()
    }

    async fn create_user(&self, user: &User) -> StoreResult<()> {
        let user = user.clone();
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                insert_user(tx, &user).await?;
                Ok(Finish::Commit(()))
            })
        })
        .await
    }

    async fn users(&self, domain: &DomainId) -> StoreResult<Vec<User>> {
        self.read(
            &format!("SELECT {USER_COLUMNS} FROM users WHERE domain_id = $1 ORDER BY name"),
            args![domain.as_str()],
            Weight::Scan,
        )
        .await?
        .iter()
        .map(user_from_row)
        .collect()
    }

    async fn update_user(&self, user: &User) -> StoreResult<bool> {
        let args = args![
            user.user_id.as_str(),
            user.domain_id.as_str(),
            user.password_hash.as_deref(),
            user.enabled,
            user.credentials_version
        ];
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                let changed = tx
                    .exec(
                        "UPDATE users SET password_hash = $3, enabled = $4, credentials_version = $5 \
                         WHERE user_id = $1 AND domain_id = $2",
                        &args,
                    )
                    .await?;
                Ok(Finish::Commit(changed == 1))
            })
        })
        .await
    }

    async fn delete_user(&self, domain: &DomainId, user: &UserId) -> StoreResult<bool> {
        let args = args![user.as_str(), domain.as_str()];
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                // The administrator is never deleted.
                let rows = tx
                    .query(
                        "SELECT is_root FROM users WHERE user_id = $1 AND domain_id = $2",
                        &args,
                    )
                    .await?;
                match rows.first() {
                    None => return Ok(Finish::Rollback(false)),
                    Some(row) if row.boolean("is_root")? => return Ok(Finish::Rollback(false)),
                    Some(_) => {}
                }
                tx.exec("DELETE FROM access_keys WHERE user_id = $1 AND domain_id = $2", &args)
                    .await?;
                tx.exec("DELETE FROM login_failures WHERE user_id = $1", &args[..1])
                    .await?;
                tx.exec("DELETE FROM group_members WHERE user_id = $1 AND domain_id = $2", &args)
                    .await?;
                tx.exec(
                    "DELETE FROM policy_attachments WHERE principal_type = 'user' AND principal_id = $1 \
                     AND domain_id = $2",
                    &args,
                )
                .await?;
                tx.exec("DELETE FROM users WHERE user_id = $1 AND domain_id = $2", &args)
                    .await?;
                Ok(Finish::Commit(true))
            })
        })
        .await
    }

    async fn create_access_key(&self, key: &AccessKey, max_per_user: i64) -> StoreResult<bool> {
        let key = key.clone();
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                tx.lock(locks::DOMAIN, key.domain_id.as_str()).await?;
                if !exists(
                    tx,
                    "users",
                    "user_id",
                    key.user_id.as_str(),
                    key.domain_id.as_str(),
                )
                .await?
                {
                    return Ok(Finish::Rollback(false));
                }
                let rows = tx
                    .query(
                        "SELECT COUNT(*) AS n FROM access_keys WHERE user_id = $1",
                        &params![key.user_id.as_str()],
                    )
                    .await?;
                if rows.first().map_or(Ok(0), |r| r.int("n"))? >= max_per_user {
                    return Ok(Finish::Rollback(false));
                }
                insert_access_key(tx, &key).await?;
                Ok(Finish::Commit(true))
            })
        })
        .await
    }

    async fn access_keys(
        &self,
        domain: &DomainId,
        user: Option<&UserId>,
    ) -> StoreResult<Vec<AccessKey>> {
        let rows = match user {
            Some(user) => {
                self.read(
                    &format!(
                        "SELECT {ACCESS_KEY_COLUMNS} FROM access_keys WHERE domain_id = $1 AND user_id = $2 \
                         ORDER BY created_at, access_key"
                    ),
                    args![domain.as_str(), user.as_str()],
                    Weight::Scan,
                )
                .await?
            }
            None => {
                self.read(
                    &format!(
                        "SELECT {ACCESS_KEY_COLUMNS} FROM access_keys WHERE domain_id = $1 \
                         ORDER BY created_at, access_key"
                    ),
                    args![domain.as_str()],
                    Weight::Scan,
                )
                .await?
            }
        };
        rows.iter().map(access_key_from_row).collect()
    }

    async fn update_access_key(
        &self,
        domain: &DomainId,
        key: &AccessKeyId,
        enabled: Option<bool>,
        description: Option<&str>,
    ) -> StoreResult<bool> {
        let (key, domain, description) =
            (key.clone(), domain.clone(), description.map(str::to_owned));
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                if !exists(tx, "access_keys", "access_key", key.as_str(), domain.as_str()).await? {
                    return Ok(Finish::Rollback(false));
                }
                if let Some(enabled) = enabled {
                    tx.exec(
                        "UPDATE access_keys SET enabled = $3 WHERE access_key = $1 AND domain_id = $2",
                        &params![key.as_str(), domain.as_str(), enabled],
                    )
                    .await?;
                }
                if let Some(description) = &description {
                    tx.exec(
                        "UPDATE access_keys SET description = $3 WHERE access_key = $1 AND domain_id = $2",
                        &params![key.as_str(), domain.as_str(), description.as_str()],
                    )
                    .await?;
                }
                Ok(Finish::Commit(true))
            })
        })
        .await
    }

    async fn delete_access_key(&self, domain: &DomainId, key: &AccessKeyId) -> StoreResult<bool> {
        let args = args![key.as_str(), domain.as_str()];
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                let changed = tx
                    .exec(
                        "DELETE FROM access_keys WHERE access_key = $1 AND domain_id = $2",
                        &args,
                    )
                    .await?;
                Ok(Finish::Commit(changed == 1))
            })
        })
        .await
    }

    async fn create_group(&self, group: &Group) -> StoreResult<()> {
        let g = group.clone();
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                tx.exec(
                    "INSERT INTO user_groups (group_id, domain_id, name, description, created_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                    &params![
                        g.group_id.as_str(),
                        g.domain_id.as_str(),
                        g.name.as_str(),
                        g.description.as_str(),
                        g.created_at
                    ],
                )
                .await?;
                Ok(Finish::Commit(()))
            })
        })
        .await
    }

    async fn groups(&self, domain: &DomainId) -> StoreResult<Vec<Group>> {
        self.read(
            "SELECT group_id, domain_id, name, description, created_at FROM user_groups WHERE domain_id = $1 \
             ORDER BY name",
            args![domain.as_str()],
            Weight::Scan,
        )
        .await?
        .iter()
        .map(group_from_row)
        .collect()
    }

    async fn delete_group(&self, domain: &DomainId, group: &GroupId) -> StoreResult<bool> {
        let args = args![group.as_str(), domain.as_str()];
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                tx.exec("DELETE FROM group_members WHERE group_id = $1 AND domain_id = $2", &args)
                    .await?;
                tx.exec(
                    "DELETE FROM policy_attachments WHERE principal_type = 'group' AND principal_id = $1 \
                     AND domain_id = $2",
                    &args,
                )
                .await?;
                let changed = tx
                    .exec("DELETE FROM user_groups WHERE group_id = $1 AND domain_id = $2", &args)
                    .await?;
                Ok(Finish::Commit(changed == 1))
            })
        })
        .await
    }

    async fn set_group_member(
        &self,
        domain: &DomainId,
        group: &GroupId,
        user: &UserId,
        member: bool,
    ) -> StoreResult<bool> {
        let (domain, group, user) = (domain.clone(), group.clone(), user.clone());
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                if !exists(tx, "user_groups", "group_id", group.as_str(), domain.as_str()).await?
                    || !exists(tx, "users", "user_id", user.as_str(), domain.as_str()).await?
                {
                    return Ok(Finish::Rollback(false));
                }
                if member {
                    tx.exec(
                        "INSERT INTO group_members (group_id, user_id, domain_id) VALUES ($1, $2, $3) \
                         ON CONFLICT (group_id, user_id) DO NOTHING",
                        &params![group.as_str(), user.as_str(), domain.as_str()],
                    )
                    .await?;
                } else {
                    tx.exec(
                        "DELETE FROM group_members WHERE group_id = $1 AND user_id = $2 AND domain_id = $3",
                        &params![group.as_str(), user.as_str(), domain.as_str()],
                    )
                    .await?;
                }
                Ok(Finish::Commit(true))
            })
        })
        .await
    }

    async fn create_policy(&self, policy: &PolicyRecord) -> StoreResult<()> {
        let p = policy.clone();
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                tx.exec(
                    &format!("INSERT INTO policies ({POLICY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"),
                    &params![
                        p.policy_id.as_str(),
                        p.domain_id.as_str(),
                        p.name.as_str(),
                        p.description.as_str(),
                        p.document.as_str(),
                        p.created_at,
                        p.updated_at
                    ],
                )
                .await?;
                Ok(Finish::Commit(()))
            })
        })
        .await
    }

    async fn policy(&self, domain: &DomainId, id: &PolicyId) -> StoreResult<Option<PolicyRecord>> {
        self.read_one(
            &format!(
                "SELECT {POLICY_COLUMNS} FROM policies WHERE policy_id = $1 AND domain_id = $2"
            ),
            args![id.as_str(), domain.as_str()],
        )
        .await?
        .as_ref()
        .map(policy_from_row)
        .transpose()
    }

    async fn policies(&self, domain: &DomainId) -> StoreResult<Vec<PolicyRecord>> {
        self.read(
            &format!("SELECT {POLICY_COLUMNS} FROM policies WHERE domain_id = $1 ORDER BY name"),
            args![domain.as_str()],
            Weight::Scan,
        )
        .await?
        .iter()
        .map(policy_from_row)
        .collect()
    }

    async fn delete_policy(&self, domain: &DomainId, id: &PolicyId) -> StoreResult<bool> {
        let args = args![id.as_str(), domain.as_str()];
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                tx.exec(
                    "DELETE FROM policy_attachments WHERE policy_id = $1 AND domain_id = $2",
                    &args,
                )
                .await?;
                let changed = tx
                    .exec(
                        "DELETE FROM policies WHERE policy_id = $1 AND domain_id = $2",
                        &args,
                    )
                    .await?;
                Ok(Finish::Commit(changed == 1))
            })
        })
        .await
    }

    async fn set_attachment(
        &self,
        domain: &DomainId,
        policy: &PolicyId,
        principal: &Principal,
        attached: bool,
        now: i64,
    ) -> StoreResult<bool> {
        let (domain, policy, principal) = (domain.clone(), policy.clone(), principal.clone());
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                let (table, column) = match &principal {
                    Principal::User(_) => ("users", "user_id"),
                    Principal::Group(_) => ("user_groups", "group_id"),
                };
                if !exists(tx, "policies", "policy_id", policy.as_str(), domain.as_str()).await?
                    || !exists(tx, table, column, principal.id(), domain.as_str()).await?
                {
                    return Ok(Finish::Rollback(false));
                }
                if attached {
                    tx.exec(
                        "INSERT INTO policy_attachments (policy_id, principal_type, principal_id, domain_id, created_at) \
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (policy_id, principal_type, principal_id) DO NOTHING",
                        &params![policy.as_str(), principal.kind(), principal.id(), domain.as_str(), now],
                    )
                    .await?;
                } else {
                    tx.exec(
                        "DELETE FROM policy_attachments WHERE policy_id = $1 AND principal_type = $2 \
                         AND principal_id = $3 AND domain_id = $4",
                        &params![policy.as_str(), principal.kind(), principal.id(), domain.as_str()],
                    )
                    .await?;
                }
                Ok(Finish::Commit(true))
            })
        })
        .await
    }

    async fn policies_of_user(
        &self,
        domain: &DomainId,
        user: &UserId,
    ) -> StoreResult<Vec<PolicyRecord>> {
        let columns = POLICY_COLUMNS
            .split(", ")
            .map(|c| format!("p.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        self.read(
            &format!(
                "SELECT DISTINCT {columns} FROM policies p JOIN policy_attachments a ON a.policy_id = p.policy_id \
                 WHERE p.domain_id = $1 AND a.domain_id = $1 AND ( \
                   (a.principal_type = 'user' AND a.principal_id = $2) OR \
                   (a.principal_type = 'group' AND a.principal_id IN \
                      (SELECT group_id FROM group_members WHERE user_id = $2 AND domain_id = $1))) \
                 ORDER BY p.name"
            ),
            args![domain.as_str(), user.as_str()],
            Weight::Point,
        )
        .await?
        .iter()
        .map(policy_from_row)
        .collect()
    }
}
