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
        let mut current = HashSet::new();
        for (ca_id, name) in cas {
            for file in [format!("{name}.crl"), format!("{name}-delta.crl")] {
                let crl = match pca.published_crl(&ca_id, &file).await {
                    Ok(crl) => crl,
                    Err(err) => {
                        tracing::error!(error = %err, %ca_id, "CRL job: cannot build a CRL");
                        continue;
                    }
                };
                let Some(dir) = &dir else { continue };
                let path = dir.join(&ca_id).join(&file);
                current.insert(path.clone());
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
        // A CA that stopped publishing, was renamed or is gone leaves no CRL
        // behind that a web server would go on serving past its nextUpdate.
        let gone: Vec<PathBuf> = written
            .keys()
            .filter(|path| !current.contains(*path))
            .cloned()
            .collect();
        for path in gone {
            match tokio::fs::remove_file(&path).await {
                Ok(()) => {}
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(err) => {
                    tracing::error!(error = %err, path = %path.display(), "CRL job: cannot remove a CRL");
                    continue;
                }
            }
            written.remove(&path);
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
    let temporary = parent.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("crl"),
        std::process::id()
    ));
    let mut file = tokio::fs::File::create(&temporary).await?;
    file.write_all(bytes).await?;
    file.sync_all().await?;
    drop(file);
    tokio::fs::rename(&temporary, path).await
}
