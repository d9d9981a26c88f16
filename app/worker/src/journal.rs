//! The local SQLite journal. The worker writes what it is about to send (the job, the commitment,
//! the vote and its salt) *before* sending it, and reconciles with the chain on restart, so a crash
//! at any point neither loses work nor sends anything twice.
use std::{path::Path, sync::Mutex};

use rusqlite::{params, Connection, OptionalExtension};

/// One row: a job as this worker sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub job: String,
    pub job_id: u64,
    pub state: String,
    /// Hex: the commitment (provider) or the verdict's commitment (verifier).
    pub commitment: Option<String>,
    pub output_hash: Option<String>,
    pub output_uri: Option<String>,
    /// Verifier: the vote (1 correct, 2 wrong) and its salt (hex), written before `commit_vote`.
    pub vote: Option<u8>,
    pub salt: Option<String>,
    pub note: Option<String>,
}

pub struct Journal {
    conn: Mutex<Connection>,
}

#[derive(Debug, thiserror::Error)]
#[error("journal: {0}")]
pub struct JournalError(#[from] rusqlite::Error);

/// Mode 0600 for the journal and its WAL side files (best effort: a file that does not exist yet
/// is created by SQLite under the umask and tightened at the next open).
fn restrict_to_owner(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mut files = vec![path.to_path_buf()];
        for suffix in ["-wal", "-shm"] {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            files.push(p.into());
        }
        for f in files {
            if f.exists() {
                if let Err(e) = std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)) {
                    tracing::warn!(file = %f.display(), error = %e, "cannot restrict the journal to its owner");
                }
            }
        }
    }
}

impl Journal {
    /// Opens (or creates) the journal. Its files hold vote choices before they are revealed, so
    /// they are made readable by the worker's user only (mode 0600 on Unix).
    pub fn open(path: &Path) -> Result<Journal, JournalError> {
        let conn = Connection::open(path)?;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
             CREATE TABLE IF NOT EXISTS jobs(
                job TEXT PRIMARY KEY, job_id INTEGER NOT NULL, state TEXT NOT NULL,
                commitment TEXT, output_hash TEXT, output_uri TEXT, vote INTEGER, salt TEXT, note TEXT,
                updated_at INTEGER NOT NULL DEFAULT (strftime('%s','now')));
             CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS pending(
                key TEXT PRIMARY KEY, job_id INTEGER NOT NULL, action TEXT NOT NULL,
                signature TEXT NOT NULL, last_valid_block_height INTEGER NOT NULL,
                created_at INTEGER NOT NULL DEFAULT (strftime('%s','now')));",
        )?;
        restrict_to_owner(path);
        Ok(Journal { conn: Mutex::new(conn) })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn get(&self, job: &str) -> Result<Option<Entry>, JournalError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT job, job_id, state, commitment, output_hash, output_uri, vote, salt, note FROM jobs WHERE job = ?1",
                params![job],
                row,
            )
            .optional()?)
    }

    /// Inserts or replaces the whole entry (durably, before the caller sends anything).
    pub fn put(&self, e: &Entry) -> Result<(), JournalError> {
        self.conn().execute(
            "INSERT INTO jobs(job, job_id, state, commitment, output_hash, output_uri, vote, salt, note, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, strftime('%s','now'))
             ON CONFLICT(job) DO UPDATE SET state=excluded.state, commitment=excluded.commitment,
               output_hash=excluded.output_hash, output_uri=excluded.output_uri, vote=excluded.vote,
               salt=excluded.salt, note=excluded.note, updated_at=excluded.updated_at",
            params![e.job, e.job_id as i64, e.state, e.commitment, e.output_hash, e.output_uri, e.vote, e.salt, e.note],
        )?;
        Ok(())
    }

    pub fn set_state(&self, job: &str, state: &str, note: Option<&str>) -> Result<(), JournalError> {
        self.conn().execute(
            "UPDATE jobs SET state = ?2, note = COALESCE(?3, note), updated_at = strftime('%s','now') WHERE job = ?1",
            params![job, state, note],
        )?;
        Ok(())
    }

    /// Entries not in a terminal state, oldest job first.
    pub fn open_entries(&self) -> Result<Vec<Entry>, JournalError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT job, job_id, state, commitment, output_hash, output_uri, vote, salt, note FROM jobs
             WHERE state NOT IN ('done', 'refused', 'failed', 'waiting_input') ORDER BY job_id",
        )?;
        let rows = stmt.query_map([], row)?.collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    pub fn count_in(&self, state: &str) -> Result<u64, JournalError> {
        Ok(self
            .conn()
            .query_row("SELECT COUNT(*) FROM jobs WHERE state = ?1", params![state], |r| r.get::<_, i64>(0))?
            as u64)
    }
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
    Ok(Entry {
        job: r.get(0)?,
        job_id: r.get::<_, i64>(1)? as u64,
        state: r.get(2)?,
        commitment: r.get(3)?,
        output_hash: r.get(4)?,
        output_uri: r.get(5)?,
        vote: r.get(6)?,
        salt: r.get(7)?,
        note: r.get(8)?,
    })
}

/// A transaction signed and journaled before it was submitted, whose fate is not known yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    /// `<action>:<job id>`: one transaction in flight per action and job.
    pub key: String,
    pub job_id: u64,
    pub action: String,
    pub signature: String,
    pub last_valid_block_height: u64,
}

impl Journal {
    /// Records a signed transaction *before* it is submitted (durably: `synchronous=FULL`).
    pub fn set_pending(&self, p: &Pending) -> Result<(), JournalError> {
        self.conn().execute(
            "INSERT INTO pending(key, job_id, action, signature, last_valid_block_height) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(key) DO UPDATE SET signature=excluded.signature,
               last_valid_block_height=excluded.last_valid_block_height, created_at=strftime('%s','now')",
            params![p.key, p.job_id as i64, p.action, p.signature, p.last_valid_block_height as i64],
        )?;
        Ok(())
    }

    pub fn pending(&self, key: &str) -> Result<Option<Pending>, JournalError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT key, job_id, action, signature, last_valid_block_height FROM pending WHERE key = ?1",
                params![key],
                pending_row,
            )
            .optional()?)
    }

    /// Every unresolved transaction, oldest first.
    pub fn all_pending(&self) -> Result<Vec<Pending>, JournalError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT key, job_id, action, signature, last_valid_block_height FROM pending ORDER BY created_at, key",
        )?;
        let rows = stmt.query_map([], pending_row)?.collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Forgets a pending transaction once its fate is known (landed, failed or expired).
    pub fn clear_pending(&self, key: &str, signature: &str) -> Result<(), JournalError> {
        self.conn().execute("DELETE FROM pending WHERE key = ?1 AND signature = ?2", params![key, signature])?;
        Ok(())
    }
}

impl Journal {
    /// A small persisted value (e.g. a verifier's scan cursor).
    pub fn meta(&self, key: &str) -> Result<Option<String>, JournalError> {
        Ok(self.conn().query_row("SELECT value FROM meta WHERE key = ?1", params![key], |r| r.get(0)).optional()?)
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), JournalError> {
        self.conn().execute(
            "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }
}

fn pending_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Pending> {
    Ok(Pending {
        key: r.get(0)?,
        job_id: r.get::<_, i64>(1)? as u64,
        action: r.get(2)?,
        signature: r.get(3)?,
        last_valid_block_height: r.get::<_, i64>(4)? as u64,
    })
}

impl Entry {
    pub fn new(job: String, job_id: u64, state: &str) -> Entry {
        Entry {
            job,
            job_id,
            state: state.into(),
            commitment: None,
            output_hash: None,
            output_uri: None,
            vote: None,
            salt: None,
            note: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn the_journal_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.sqlite");
        std::fs::write(&path, b"").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let j = Journal::open(&path).unwrap();
        j.put(&Entry::new("A".into(), 1, "committing")).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "journal mode {mode:o}");
    }

    #[test]
    fn survives_reopen_and_lists_open_entries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.sqlite");
        {
            let j = Journal::open(&path).unwrap();
            let mut e = Entry::new("A".into(), 1, "submitting");
            e.commitment = Some("ab".into());
            j.put(&e).unwrap();
            j.put(&Entry::new("B".into(), 0, "done")).unwrap();
        }
        let j = Journal::open(&path).unwrap();
        let open = j.open_entries().unwrap();
        assert_eq!(open.len(), 1);
        assert_eq!((open[0].state.as_str(), open[0].commitment.as_deref()), ("submitting", Some("ab")));
        j.set_state("A", "done", Some("finalized")).unwrap();
        assert!(j.open_entries().unwrap().is_empty());
        assert_eq!(j.get("A").unwrap().unwrap().note.as_deref(), Some("finalized"));
    }

    #[test]
    fn pending_transactions_survive_reopen_and_clear_by_signature() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.sqlite");
        let p = |sig: &str| Pending {
            key: "claim_job:7".into(),
            job_id: 7,
            action: "claim_job".into(),
            signature: sig.into(),
            last_valid_block_height: 150,
        };
        {
            let j = Journal::open(&path).unwrap();
            j.set_pending(&p("sig1")).unwrap();
            j.set_pending(&p("sig2")).unwrap(); // a re-prepared attempt replaces the first
        }
        let j = Journal::open(&path).unwrap();
        assert_eq!(j.all_pending().unwrap(), vec![p("sig2")]);
        j.clear_pending("claim_job:7", "sig1").unwrap(); // a stale signature clears nothing
        assert_eq!(j.pending("claim_job:7").unwrap(), Some(p("sig2")));
        j.clear_pending("claim_job:7", "sig2").unwrap();
        assert!(j.all_pending().unwrap().is_empty());
    }
}
