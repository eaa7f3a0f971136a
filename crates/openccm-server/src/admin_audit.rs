//! `openccm admin audit`: export the audit trail as JSON lines, and verify
//! its hash chain offline (the database, or an export), with the master key.

use std::io::{BufRead as _, Write as _};
use std::path::Path;

use openccm_app::audit::{self, ChainCheck};
use openccm_app::iam::Iam;
use openccm_custody::Keyring;
use openccm_store::{AuditEvent, Store};

/// Writes the events at or after `since` (epoch ms; all when `None`) to
/// standard output, one JSON object per line, each with the mac before it.
pub async fn export(store: &dyn Store, since: Option<i64>) -> Result<(), String> {
    let after = match since {
        Some(at) => store
            .audit_seq_before(at)
            .await
            .map_err(|e| e.to_string())?,
        None => 0,
    };
    let mut prev = if after == 0 {
        audit::GENESIS.to_vec()
    } else {
        store
            .audit_events(after - 1, 1)
            .await
            .map_err(|e| e.to_string())?
            .pop()
            .map(|e| e.mac)
            .ok_or("the event before the export's start is missing")?
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut written = Ok(());
    audit::for_each_event(store, after, None, |event| {
        if written.is_ok() {
            written = writeln!(out, "{}", audit::to_json_line(event, &prev));
            prev.clone_from(&event.mac);
        }
    })
    .await
    .map_err(|e| e.to_string())?;
    written
        .and_then(|()| out.flush())
        .map_err(|e| e.to_string())
}

/// Verifies the chain in the store, or in the export `file`: prints what
/// was checked and the head, or returns why the chain is broken.
pub async fn verify(
    store: &dyn Store,
    keyring: &Keyring,
    file: Option<&Path>,
) -> Result<(), String> {
    let Some(file) = file else {
        return match audit::verify(store, keyring).await {
            Ok(v) => {
                println!(
                    "audit trail verified: {} events; head: event {} mac {}",
                    v.events, v.head_seq, v.head_mac
                );
                Ok(())
            }
            Err(Ok(broken)) => Err(format!("audit trail BROKEN: {broken}")),
            Err(Err(e)) => Err(format!("cannot read the audit trail: {e}")),
        };
    };
    let reader = std::io::BufReader::new(
        std::fs::File::open(file).map_err(|e| format!("cannot open {}: {e}", file.display()))?,
    );
    let mut walk: Option<ChainCheck<'_>> = None;
    for (n, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| e.to_string())?;
        if line.trim().is_empty() {
            continue;
        }
        let (event, prev) = audit::from_json_line(&line)
            .map_err(|e| format!("audit export BROKEN: line {}: {e}", n + 1))?;
        let broken = |e: String| format!("audit export BROKEN: line {}: {e}", n + 1);
        if let Some(walk) = &walk {
            if walk.head().1 != prev.as_slice() {
                return Err(broken(
                    "its prev is not the mac of the line before".to_owned(),
                ));
            }
        }
        let walk = walk.get_or_insert_with(|| ChainCheck::from(keyring, event.seq, prev));
        walk.check(&event).map_err(broken)?;
    }
    match walk {
        Some(walk) => {
            println!(
                "audit export verified: {} events; last: event {} mac {}",
                walk.checked,
                walk.head().0,
                walk.head_hex()
            );
        }
        None => println!("audit export verified: no events"),
    }
    Ok(())
}

/// The audit description of an `openccm admin` command that changes
/// something: (`cli user create`, its arguments); `None` for reads.
pub fn describe(command: &crate::admin::AdminCommand) -> Option<(String, String)> {
    // Commands carry names and ids, never a secret (passwords and SKs are
    // generated and printed, not given).
    if let crate::admin::AdminCommand::Backup { to } = command {
        // Who took a copy of every sealed secret, and where to.
        return Some(("cli backup".to_owned(), to.display().to_string()));
    }
    if let crate::admin::AdminCommand::Notification(crate::admin::NotificationCommand::Set {
        account,
        ..
    }) = command
    {
        // A webhook URL may carry a token: the trail names the account.
        return Some((
            "cli notification set".to_owned(),
            format!("account: {account:?}"),
        ));
    }
    if let crate::admin::AdminCommand::RotateMasterKey { prepare, .. } = command {
        let step = if *prepare { "prepare" } else { "" };
        return Some(("cli rotate-master-key".to_owned(), step.to_owned()));
    }
    let text = format!("{command:?}");
    let (group, rest) = text.split_once('(')?;
    let verb_end = rest.find([' ', ')']).unwrap_or(rest.len());
    let verb = rest.get(..verb_end)?;
    if matches!(verb, "List" | "Export" | "Verify" | "Check" | "Show") {
        return None;
    }
    let args: String = rest
        .get(verb_end..)?
        .trim_matches(|c| matches!(c, ' ' | '{' | '}' | ')'))
        .chars()
        .take(256)
        .collect();
    Some((
        format!("cli {} {}", group.to_lowercase(), verb.to_lowercase()),
        args,
    ))
}

/// Appends the event of a command that changed something.
pub async fn record(iam: &Iam, action: String, resource: String) -> Result<(), String> {
    let event = AuditEvent {
        at: iam.clock().now_ms(),
        source: "cli".to_owned(),
        action,
        resource_id: resource,
        result: "ok".to_owned(),
        ..AuditEvent::default()
    };
    iam.store()
        .append_audit(
            std::sync::Arc::from([event]),
            audit::chainer(iam.keyring().clone()),
        )
        .await
        .map(|_| ())
        .map_err(|e| {
            format!("the change was made but could not be recorded in the audit trail: {e}")
        })
}
