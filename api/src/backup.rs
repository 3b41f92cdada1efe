//! Consistent online copies of the store, taken while the server keeps serving.
//!
//! On SQLite `VACUUM INTO` writes the database as one read transaction saw it: every event and the
//! views and checkpoints of that same moment, so the copy opens as a server that stopped then. On
//! PostgreSQL `pg_dump` does the same job better than anything this process could, so the command
//! names it instead of imitating it.

use konsortium_projections::Db;
use std::path::{Path, PathBuf};

/// Why no copy was written.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} already exists: a backup never overwrites a file, name a new one")]
    Exists(PathBuf),
    #[error("the backup path {0:?} is not valid UTF-8")]
    PathNotUtf8(PathBuf),
    #[error(
        "`konsortium backup` copies SQLite stores; back up PostgreSQL with pg_dump, which copies it \
         consistently while the servers run:\n  {command}"
    )]
    UsePgDump { command: String },
    #[error("could not copy the database into {path}: {source}")]
    Copy {
        path: PathBuf,
        #[source]
        source: sqlx::Error,
    },
    #[error("could not flush {path} to disk: {source}")]
    Sync {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A copy that was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    pub path: PathBuf,
    pub bytes: u64,
}

/// Copies the store into a new file at `path` while writers go on.
///
/// The copy is flushed to disk before this returns: `VACUUM INTO` writes without syncing, and a
/// backup that a power cut can tear is not one.
pub async fn backup(db: &Db, path: &Path) -> Result<Backup, BackupError> {
    let pool = match db {
        Db::Sqlite(pool) => pool,
        Db::Postgres(pool) => return Err(BackupError::UsePgDump { command: pg_dump_command(pool, path) }),
    };
    if path.exists() {
        return Err(BackupError::Exists(path.to_path_buf()));
    }
    let target = path.to_str().ok_or_else(|| BackupError::PathNotUtf8(path.to_path_buf()))?;
    sqlx::query("VACUUM INTO $1")
        .bind(target)
        .execute(pool)
        .await
        .map_err(|source| BackupError::Copy { path: path.to_path_buf(), source })?;
    let sync = |source| BackupError::Sync { path: path.to_path_buf(), source };
    let file = std::fs::File::open(path).map_err(sync)?;
    file.sync_all().map_err(sync)?;
    let bytes = file.metadata().map_err(sync)?.len();
    Ok(Backup { path: path.to_path_buf(), bytes })
}

/// The `pg_dump` call that backs up the database `pool` connects to into `path`, without the
/// password (pg_dump asks for it, or reads `~/.pgpass`).
fn pg_dump_command(pool: &sqlx::PgPool, path: &Path) -> String {
    let options = pool.connect_options();
    let mut args = vec![
        "pg_dump".to_string(),
        "--format=custom".to_string(),
        format!("--file={}", path.display()),
        format!("--host={}", options.get_host()),
        format!("--port={}", options.get_port()),
        format!("--username={}", options.get_username()),
    ];
    if let Some(database) = options.get_database() {
        args.push(format!("--dbname={database}"));
    }
    args.iter().map(|arg| shell_quoted(arg)).collect::<Vec<_>>().join(" ")
}

/// `arg` as a POSIX shell reads it back: as it is when it holds only safe characters, else in single
/// quotes.
fn shell_quoted(arg: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_=./:@,+%".contains(c);
    if !arg.is_empty() && arg.chars().all(safe) {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::shell_quoted;

    #[test]
    fn a_path_with_spaces_or_quotes_is_quoted_for_the_shell() {
        assert_eq!(shell_quoted("--file=/backups/k.dump"), "--file=/backups/k.dump");
        assert_eq!(shell_quoted("--file=/my backups/k.dump"), "'--file=/my backups/k.dump'");
        assert_eq!(shell_quoted("--file=it's"), r"'--file=it'\''s'");
    }
}
