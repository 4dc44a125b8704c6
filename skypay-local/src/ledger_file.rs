//! The `--data` file: the record of real cash when a lender runs skypay-local, so it is opened
//! with care (issue 13).
//!
//! - **One server per file.** An exclusive lock on `FILE.lock` for as long as the server runs;
//!   a second server on the same file is refused with a clear message (in-memory guards such as
//!   SPEC 12.8's push in flight cannot work across processes).
//! - **Only a ledger is adopted.** An existing file must be an SQLite database that passes
//!   `PRAGMA quick_check`, that the embedded emulator wrote, and whose table carries the ledger
//!   mark (`skypay::ledger::schema::mark`). A 0-byte, foreign or damaged file stops the start
//!   with what is wrong; it is never opened read-write, so it is left exactly as found. A new
//!   ledger is created only where no file exists, or with `--init` (an empty file, or a ledger
//!   an earlier skypay-local wrote before the mark existed).
//! - **Backups** are consistent online copies (`VACUUM INTO`, what the emulator's own
//!   `vacuum_into` runs) taken while the server runs; a restore checks the backup is a marked
//!   ledger and keeps the file it replaces.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

/// SQLite's file header.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";
/// A table the embedded emulator creates in every database it writes.
const EMULATOR_TABLE: &str = "_tables";

/// The exclusive lock on a data file, held until dropped.
#[derive(Debug)]
pub struct Lock {
    _file: File,
    path: PathBuf,
}

impl Lock {
    /// Takes the lock on `data`'s lock file, or says who holds it.
    pub fn take(data: &Path) -> Result<Lock, String> {
        let path = lock_path(data);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| format!("cannot open the lock file {}: {e}", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(Lock { _file: file, path }),
            Err(std::fs::TryLockError::WouldBlock) => Err(format!(
                "{} is in use by another skypay-local (it holds {}); stop that one first, \
                 or give this one another --data file",
                data.display(),
                path.display()
            )),
            Err(std::fs::TryLockError::Error(e)) => {
                Err(format!("cannot lock {}: {e}", path.display()))
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The lock file of the ledger at `data`, named after the file itself (symbolic links
/// resolved, the folder too when the file is not there yet), so that two paths to one ledger
/// take one lock.
fn lock_path(data: &Path) -> PathBuf {
    with_suffix(&canonical(data), ".lock")
}

/// `path` with every symbolic link resolved: the file's own when it exists, else its folder's.
fn canonical(path: &Path) -> PathBuf {
    if let Ok(real) = std::fs::canonicalize(path) {
        return real;
    }
    let folder = path.parent().filter(|d| !d.as_os_str().is_empty());
    match (folder.map(std::fs::canonicalize), path.file_name()) {
        (Some(Ok(real)), Some(name)) => real.join(name),
        _ => path.to_owned(),
    }
}

/// What is found at the data file's path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Found {
    /// Nothing: a new ledger is created there.
    Nothing,
    /// A database the emulator wrote, intact; whether its table carries the mark is checked
    /// once the table can be read.
    EmulatorDatabase,
    /// An empty file, which `--init` turns into a new ledger.
    Empty,
}

/// Checks what is at `path` without writing to it: absent, empty, or an intact database the
/// emulator wrote. Anything else is an error that says what it is.
pub fn inspect(path: &Path) -> Result<Found, String> {
    let shown = path.display();
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Found::Nothing),
        Err(e) => return Err(format!("cannot read {shown}: {e}")),
    };
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot read {shown}: {e}"))?;
    if !meta.is_file() {
        return Err(format!("{shown} is not a file"));
    }
    if meta.len() == 0 {
        return Ok(Found::Empty);
    }
    let mut header = [0u8; 16];
    if file.read_exact(&mut header).is_err() || &header != SQLITE_MAGIC {
        return Err(format!(
            "{shown} is not a skypay ledger (not an SQLite database); it was left as it is"
        ));
    }
    drop(file);
    check_database(path)?;
    Ok(Found::EmulatorDatabase)
}

/// An SQLite file passes `quick_check` and holds the emulator's tables. Opened read-only.
fn check_database(path: &Path) -> Result<(), String> {
    let shown = path.display();
    let db = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| format!("cannot open {shown}: {e}"))?;
    let check: String = db
        .query_row("PRAGMA quick_check", [], |row| row.get(0))
        .map_err(|e| {
            format!("{shown} is damaged ({e}); restore a backup (skypay-local restore)")
        })?;
    if check != "ok" {
        return Err(format!(
            "{shown} is damaged (quick_check: {check}); restore a backup (skypay-local restore)"
        ));
    }
    let emulator: i64 = db
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [EMULATOR_TABLE],
            |row| row.get(0),
        )
        .map_err(|e| format!("cannot read {shown}: {e}"))?;
    if emulator == 0 {
        return Err(format!(
            "{shown} is an SQLite database but not a skypay ledger; it was left as it is"
        ));
    }
    Ok(())
}

/// A consistent copy of the ledger at `data` into `target`, taken while a server may be running
/// on it (SQLite's `VACUUM INTO`, a read transaction: writers go on). Written beside the target
/// first, flushed to disk, checked, then renamed into place.
pub fn backup(data: &Path, target: &Path) -> Result<u64, String> {
    if inspect(data)? != Found::EmulatorDatabase {
        return Err(format!("{} holds no ledger to back up", data.display()));
    }
    if target.exists() {
        return Err(format!(
            "{} exists; a backup never overwrites a file",
            target.display()
        ));
    }
    if let Some(folder) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder)
            .map_err(|e| format!("cannot create the folder {}: {e}", folder.display()))?;
    }
    let partial = with_suffix(target, ".partial");
    let _ = std::fs::remove_file(&partial);
    let source = Connection::open_with_flags(
        data,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| format!("cannot open {}: {e}", data.display()))?;
    let partial_text = partial
        .to_str()
        .ok_or("the backup path is not UTF-8")?
        .to_owned();
    source
        .execute("VACUUM INTO ?1", [&partial_text])
        .map_err(|e| format!("cannot copy {}: {e}", data.display()))?;
    drop(source);
    File::open(&partial)
        .and_then(|f| f.sync_all())
        .map_err(|e| format!("cannot flush {}: {e}", partial.display()))?;
    check_database(&partial)?;
    std::fs::rename(&partial, target)
        .map_err(|e| format!("cannot move the backup into {}: {e}", target.display()))?;
    sync_parent(target);
    std::fs::metadata(target)
        .map(|m| m.len())
        .map_err(|e| e.to_string())
}

/// A backup copied beside the ledger it is to replace, checked, waiting to be put in place.
#[derive(Debug)]
pub struct Staged {
    pub path: PathBuf,
    data: PathBuf,
}

/// Copies `backup` beside `data` (no server may hold `data`: the caller has its lock), flushed
/// and checked; the caller then checks it carries the ledger mark and [`Staged::commit`]s it.
pub fn stage(backup: &Path, data: &Path) -> Result<Staged, String> {
    if !backup.exists() {
        return Err(format!("{}: no such file", backup.display()));
    }
    if inspect(backup)? != Found::EmulatorDatabase {
        return Err(format!("{} is not a backup of a ledger", backup.display()));
    }
    let staged = with_suffix(data, ".restoring");
    for stale in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(with_suffix(&staged, stale));
    }
    std::fs::copy(backup, &staged)
        .and_then(|_| File::open(&staged).and_then(|f| f.sync_all()))
        .map_err(|e| format!("cannot copy {}: {e}", backup.display()))?;
    check_database(&staged)?;
    Ok(Staged {
        path: staged,
        data: data.to_owned(),
    })
}

impl Staged {
    /// Puts the staged copy in place of the ledger. The file it replaces is kept beside it,
    /// renamed `FILE.replaced-<unix time>`, with its write-ahead log; its name is returned.
    pub fn commit(self) -> Result<Option<PathBuf>, String> {
        let data = &self.data;
        let kept = if data.exists() {
            let stamp = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            let kept = with_suffix(data, &format!(".replaced-{stamp}"));
            std::fs::rename(data, &kept)
                .map_err(|e| format!("cannot move {} aside: {e}", data.display()))?;
            Some(kept)
        } else {
            None
        };
        // A log belongs to its database: the old one's must never be replayed into the
        // restored one, and the staged copy's goes with it.
        for log in ["-wal", "-shm"] {
            let old = with_suffix(data, log);
            if old.exists() {
                let to = kept.as_ref().map_or_else(
                    || with_suffix(data, &format!("{log}.orphan")),
                    |k| with_suffix(k, log),
                );
                std::fs::rename(&old, &to)
                    .map_err(|e| format!("cannot move {} aside: {e}", old.display()))?;
            }
            let staged_log = with_suffix(&self.path, log);
            if staged_log.exists() {
                std::fs::rename(&staged_log, &old)
                    .map_err(|e| format!("cannot move {}: {e}", staged_log.display()))?;
            }
        }
        std::fs::rename(&self.path, data)
            .map_err(|e| format!("cannot move the restored ledger into place: {e}"))?;
        sync_parent(data);
        Ok(kept)
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// A rename is durable once the directory holding it is flushed.
fn sync_parent(path: &Path) {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let _ = File::open(dir).and_then(|d| d.sync_all());
    }
}
