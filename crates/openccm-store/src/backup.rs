//! Backups of the embedded SQLite store, taken online, and their restore.
//!
//! A backup is a plain SQLite database file (rollback-journal mode, so the
//! one file is the whole backup), written by SQLite's online backup API in
//! one step: the copy reads one snapshot of the live database (WAL mode lets
//! the server go on committing meanwhile) and so holds exactly what was
//! committed when it began. It is written under a temporary name, checked
//! (`PRAGMA integrity_check`), synced and only then linked into place
//! (never over an existing file): a file at the backup's name is always a
//! whole backup.
//!
//! A backup holds the secrets sealed under the master key and the key's
//! check values (`key_checks`), never the key itself: [`BackupFacts`] says
//! which key versions it needs, so the caller can check the key it holds.
//!
//! PostgreSQL is backed up with its own tools (`pg_dump`; see
//! `docs/operations.md`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::sqlite::db_error;
use crate::{StoreError, StoreResult};

/// What a backup holds, read back from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupFacts {
    /// The master key versions its secrets are sealed under, with their
    /// check values: restoring needs a key file that holds each.
    pub key_checks: Vec<(u32, Vec<u8>)>,
    /// The newest schema migration applied.
    pub schema_version: i64,
    /// Private CAs.
    pub cas: i64,
    /// Private certificates issued.
    pub certificates: i64,
    /// SSL certificates (SCM).
    pub ssl_certificates: i64,
}

fn failed(what: &str, path: &Path, err: impl std::fmt::Display) -> StoreError {
    StoreError::Database(format!("{what} {}: {err}", path.display()))
}

/// Copies the live database `db` into a new file `to`, online: servers may
/// go on writing. Fails if `to` exists.
///
/// # Errors
/// When `db` cannot be read, `to` exists or cannot be written, or the copy
/// fails its integrity check (nothing is left at `to` then).
pub fn backup(db: &Path, to: &Path) -> StoreResult<BackupFacts> {
    if !db.exists() {
        return Err(failed("no database at", db, "nothing to back up"));
    }
    if to.exists() {
        return Err(failed(
            "refusing to overwrite",
            to,
            "a backup never replaces a file",
        ));
    }
    // Read-write (never created): a WAL database needs its shared-memory
    // file, which a read-only connection may not be able to create.
    let source = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_WRITE)
        .map_err(|e| failed("cannot open", db, e))?;
    source
        .busy_timeout(Duration::from_secs(30))
        .map_err(db_error)?;
    copy_into_new(&source, to)
}

/// Restores the backup `from` as the database `db`, which must not exist:
/// a restore never overwrites a store.
///
/// # Errors
/// When `db` (or its WAL) exists, `from` is not a whole backup, or `db`
/// cannot be written (nothing is left at `db` then).
pub fn restore(from: &Path, db: &Path) -> StoreResult<BackupFacts> {
    for existing in [db.to_path_buf(), with_suffix(db, "-wal")] {
        if existing.exists() {
            return Err(failed(
                "a store exists at",
                &existing,
                "restore never overwrites one: move it away, or restore into another data directory",
            ));
        }
    }
    inspect(from)?;
    let source = Connection::open_with_flags(from, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| failed("cannot open", from, e))?;
    copy_into_new(&source, db)
}

/// Checks that `file` is a whole backup and says what it holds.
///
/// # Errors
/// When `file` cannot be opened or fails its integrity check.
pub fn inspect(file: &Path) -> StoreResult<BackupFacts> {
    let conn = Connection::open_with_flags(file, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| failed("cannot open", file, e))?;
    check_and_describe(&conn, file)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Copies `source` into a new file at `to`: under a temporary name first,
/// checked, synced, then linked into place (which fails, rather than
/// replaces, if something appeared at `to` meanwhile: a server started on
/// the store being restored, say).
fn copy_into_new(source: &Connection, to: &Path) -> StoreResult<BackupFacts> {
    let partial = with_suffix(to, ".partial");
    // A leftover of an interrupted copy is removed; anything else at that
    // name (a file that cannot be removed) stops the copy, and the
    // temporary file is created new, never opened through a link: in a
    // shared directory nobody else's file receives the store.
    match std::fs::remove_file(&partial) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(failed("cannot remove the leftover", &partial, e)),
    }
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&partial)
            .map_err(|e| failed("cannot create", &partial, e))?;
    }
    let copied = (|| {
        let mut target =
            Connection::open(&partial).map_err(|e| failed("cannot open", &partial, e))?;
        {
            let backup = rusqlite::backup::Backup::new(source, &mut target).map_err(db_error)?;
            // Every page in one step (-1): one read transaction on the
            // source, so one snapshot of it. Busy or locked means the step
            // could not begin (a writer's lock at the very start of WAL
            // recovery, say): it is tried again, from the start.
            let mut tries = 0;
            loop {
                match backup
                    .step(-1)
                    .map_err(|e| failed("cannot copy into", &partial, e))?
                {
                    rusqlite::backup::StepResult::Done => break,
                    _ if tries < 100 => {
                        tries += 1;
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    _ => {
                        return Err(failed(
                            "cannot copy into",
                            &partial,
                            "the source stays busy",
                        ))
                    }
                }
            }
        }
        // One self-contained file: no WAL beside it.
        target
            .pragma_update(None, "journal_mode", "DELETE")
            .map_err(db_error)?;
        let facts = check_and_describe(&target, &partial)?;
        target
            .close()
            .map_err(|(_, e)| failed("cannot close", &partial, e))?;
        std::fs::File::open(&partial)
            .and_then(|f| f.sync_all())
            .map_err(|e| failed("cannot sync", &partial, e))?;
        std::fs::hard_link(&partial, to).map_err(|e| failed("cannot create", to, e))?;
        std::fs::remove_file(&partial).map_err(|e| failed("cannot remove", &partial, e))?;
        if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| failed("cannot sync", dir, e))?;
        }
        Ok(facts)
    })();
    if copied.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    copied
}

/// `PRAGMA integrity_check`, then the facts.
fn check_and_describe(conn: &Connection, path: &Path) -> StoreResult<BackupFacts> {
    let verdict: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| failed("cannot check", path, e))?;
    if verdict != "ok" {
        return Err(failed("integrity check failed for", path, verdict));
    }
    let count = |sql: &str| -> StoreResult<i64> {
        conn.query_row(sql, [], |r| r.get(0))
            .map_err(|e| failed("not an OpenCCM store:", path, e))
    };
    let mut key_checks = Vec::new();
    let mut stmt = conn
        .prepare("SELECT version, check_value FROM key_checks ORDER BY version")
        .map_err(|e| failed("not an OpenCCM store:", path, e))?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))
        .map_err(db_error)?;
    for row in rows {
        let (version, check) = row.map_err(db_error)?;
        let version = u32::try_from(version)
            .map_err(|_| StoreError::Corrupt("key_checks.version".to_owned()))?;
        key_checks.push((version, check));
    }
    Ok(BackupFacts {
        key_checks,
        schema_version: count("SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations")?,
        cas: count("SELECT COUNT(*) FROM cas")?,
        certificates: count("SELECT COUNT(*) FROM certificates WHERE state = 'ISSUED'")?,
        ssl_certificates: count("SELECT COUNT(*) FROM scm_certificates")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backup_never_replaces_a_file_and_a_restore_never_a_store() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("live.db");
        let conn = Connection::open(&db).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode=WAL;
             CREATE TABLE key_checks (version INTEGER, check_value BLOB);
             INSERT INTO key_checks VALUES (1, x'0102');
             CREATE TABLE _sqlx_migrations (version INTEGER);
             INSERT INTO _sqlx_migrations VALUES (16);
             CREATE TABLE cas (ca_id TEXT);
             CREATE TABLE certificates (state TEXT);
             INSERT INTO certificates VALUES ('ISSUED'), ('ISSUED'), ('FAILED');
             CREATE TABLE scm_certificates (id TEXT);",
        )
        .unwrap();
        let to = dir.path().join("backup.db");
        let facts = backup(&db, &to).unwrap();
        assert_eq!(facts.key_checks, vec![(1, vec![1, 2])]);
        assert_eq!((facts.schema_version, facts.certificates), (16, 2));
        assert!(!with_suffix(&to, ".partial").exists());
        assert!(!with_suffix(&to, "-wal").exists(), "one file");

        let again = backup(&db, &to).unwrap_err().to_string();
        assert!(again.contains("refusing to overwrite"), "{again}");
        let live = restore(&to, &db).unwrap_err().to_string();
        assert!(live.contains("a store exists"), "{live}");

        let restored = dir.path().join("restored.db");
        assert_eq!(restore(&to, &restored).unwrap(), facts);
        assert_eq!(inspect(&restored).unwrap(), facts);

        // A damaged backup is refused and leaves nothing behind.
        let damaged = dir.path().join("damaged.db");
        let mut bytes = std::fs::read(&to).unwrap();
        bytes.truncate(bytes.len() / 2);
        std::fs::write(&damaged, bytes).unwrap();
        let target = dir.path().join("never.db");
        assert!(restore(&damaged, &target).is_err());
        assert!(!target.exists() && !with_suffix(&target, ".partial").exists());
    }
}
