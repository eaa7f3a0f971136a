//! Expiry-notification settings: which notices (`CERT_EXPIRING`,
//! `CERT_EXPIRED`) each certificate wants. Delivered by `crate::notify`
//! to the account's channels.

use openccm_store::ScmCertId;

use super::{not_found_cert, Scm};
use crate::error::{Error, Result};
use crate::iam::authz::actions;
use crate::iam::Caller;

/// One entry of EnableNotification / DisableNotification.
#[derive(Debug, Clone, Default)]
pub struct Notice {
    /// Certificate id.
    pub resource_id: Option<String>,
    /// Notice types.
    pub notice_type: Option<Vec<String>>,
}

/// The notice types.
pub const NOTICE_TYPES: [&str; 2] = ["CERT_EXPIRING", "CERT_EXPIRED"];

/// The most entries one call takes.
const MAX_ENTRIES: usize = 100;

impl Scm {
    /// Turns notices on (`enabled`) or off for certificates of the account:
    /// all entries or none.
    pub async fn set_notifications(
        &self,
        caller: &Caller,
        notices: Vec<Notice>,
        enabled: bool,
    ) -> Result<()> {
        if notices.is_empty() || notices.len() > MAX_ENTRIES {
            return Err(Error::invalid(format!(
                "the body must be an array of 1 to {MAX_ENTRIES} entries"
            )));
        }
        let mut entries = Vec::new();
        for notice in notices {
            let id = notice
                .resource_id
                .ok_or_else(|| Error::invalid("resource_id is required"))?;
            let id = ScmCertId::parse(&id).ok_or_else(not_found_cert)?;
            let action = if enabled {
                actions::SCM_ENABLE_NOTIFICATION
            } else {
                actions::SCM_DISABLE_NOTIFICATION
            };
            self.load_for(caller, action, &id, None).await?;
            let types = notice.notice_type.unwrap_or_default();
            if types.is_empty() {
                return Err(Error::invalid("notice_type must name at least one type"));
            }
            for t in types {
                if !NOTICE_TYPES.contains(&t.as_str()) {
                    return Err(Error::invalid(
                        "notice_type must be CERT_EXPIRING or CERT_EXPIRED",
                    ));
                }
                if !entries.contains(&(id.clone(), t.clone())) {
                    entries.push((id.clone(), t));
                }
            }
        }
        if self
            .store
            .set_notifications(&caller.domain_id, &entries, enabled, self.now())
            .await?
        {
            Ok(())
        } else {
            Err(not_found_cert())
        }
    }
}
