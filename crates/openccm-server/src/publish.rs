//! The CRL job: keeps every publishing CA's CRLs built ahead of the
//! requests that need them (a full CRL of a large CA takes seconds) and,
//! with `--crl-publish-dir`, written to a directory that any web server or
//! object-store sync can serve.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use openccm_app::pca::Pca;

/// Runs forever: every second with a publish directory (a revocation reaches
/// the files within that), else every minute.
pub async fn run(pca: Arc<Pca>, dir: Option<PathBuf>) {
    let period = if dir.is_some() {
        Duration::from_secs(1)
    } else {
        Duration::from_mins(1)
    };
    let mut written: HashMap<PathBuf, i64> = HashMap::new();
    let mut every = tokio::time::interval(period);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let cas = match pca.crl_publishers().await {
            Ok(cas) => cas,
            Err(err) => {
                tracing::error!(error = %err, "CRL job: cannot list the CAs");
                continue;
            }
        };
        openccm_app::metrics::crl_publishers(
            &cas.iter()
                .map(|(ca_id, _)| ca_id.to_string())
                .collect::<Vec<_>>(),
        );
        let mut current = HashSet::new();
        for (ca_id, name) in cas {
            for file in [format!("{name}.crl"), format!("{name}-delta.crl")] {
                let Some(dir) = &dir else {
                    // Without a directory the job only keeps CRLs built.
                    if let Err(err) = pca.published_crl(Some(&ca_id), &file).await {
                        tracing::error!(error = %err, %ca_id, "CRL job: cannot build a CRL");
                    }
                    continue;
                };
                let path = dir.join(ca_id.as_str()).join(&file);
                // A CA that still publishes keeps its file through a passing
                // failure: the old CRL stays until it can be replaced.
                current.insert(path.clone());
                let crl = match pca.published_crl(Some(&ca_id), &file).await {
                    Ok(crl) => crl,
                    Err(err) => {
                        tracing::error!(error = %err, %ca_id, "CRL job: cannot build a CRL");
                        continue;
                    }
                };
                if written.get(&path) == Some(&crl.number) {
                    continue;
                }
                match write_atomically(&path, &crl.der).await {
                    Ok(()) => {
                        written.insert(path, crl.number);
                    }
                    Err(err) => {
                        tracing::error!(error = %err, path = %path.display(), "CRL job: cannot write a CRL");
                    }
                }
            }
        }
        if let Some(dir) = &dir {
            written.retain(|path, _| current.contains(path));
            remove_others(dir, &current).await;
        }
    }
}

/// Removes the CRLs in `dir/<ca_id>/` that no CA publishes any more (it
/// stopped, was renamed or is gone; or a previous process wrote them), so
/// that no web server goes on serving them past their nextUpdate.
async fn remove_others(dir: &Path, current: &HashSet<PathBuf>) {
    let Ok(mut cas) = tokio::fs::read_dir(dir).await else {
        return;
    };
    while let Ok(Some(ca)) = cas.next_entry().await {
        let Ok(mut files) = tokio::fs::read_dir(ca.path()).await else {
            continue;
        };
        while let Ok(Some(file)) = files.next_entry().await {
            let path = file.path();
            if path.extension().is_some_and(|e| e == "crl") && !current.contains(&path) {
                if let Err(err) = tokio::fs::remove_file(&path).await {
                    tracing::error!(error = %err, path = %path.display(), "CRL job: cannot remove a CRL");
                }
            }
        }
    }
}

/// Writes `bytes` to `path` through a temporary file (named for this
/// process: servers may share the directory), flushed to disk, and a
/// rename, so that a reader sees the old CRL or the new one, never part of
/// one.
async fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt as _;
    let Some(parent) = path.parent() else {
        return Err(std::io::Error::other("no parent directory"));
    };
    tokio::fs::create_dir_all(parent).await?;
    // Named for this process and moment: servers on several hosts may
    // share the directory.
    let nanos = std::time::SystemTime::UNIX_EPOCH
        .elapsed()
        .map_or(0, |d| d.subsec_nanos());
    let temporary = parent.join(format!(
        ".{}.{}.{nanos}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("crl"),
        std::process::id()
    ));
    let written = async {
        let mut file = tokio::fs::File::create(&temporary).await?;
        file.write_all(bytes).await?;
        file.sync_all().await?;
        drop(file);
        tokio::fs::rename(&temporary, path).await
    }
    .await;
    if written.is_err() {
        let _ = tokio::fs::remove_file(&temporary).await;
    }
    written
}
