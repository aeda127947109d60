//! Dated backups kept in one directory: `motcua backup --dir DIR [--keep N]` names each
//! file by the moment it was taken and then removes the oldest beyond the newest N;
//! `motcua restore --latest DIR` takes the newest. What a scheduler (a systemd timer, cron)
//! runs every day, so that nothing outside motcua has to invent names or delete files.
//!
//! A name is `motcua-YYYYMMDDTHHMMSS.mmmZ.db` (SQLite) or `.dump` (PostgreSQL), in UTC:
//! fixed width, so the names sort as the times do. Only names of that exact shape and of
//! the running backend count as backups; anything else in the directory (notes, a backup
//! copied in by hand, another backend's files) is never chosen and never removed.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use motcua_store::Backend;
use time::OffsetDateTime;
use time::macros::format_description;

/// The start of every backup's name.
const PREFIX: &str = "motcua-";

/// The extension of a backup of `backend`: an SQLite file, or a `pg_dump` archive.
pub fn extension(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "db",
        Backend::Postgres => "dump",
    }
}

/// The name of a backup of `backend` taken at `at`.
pub fn name_at(backend: Backend, at: OffsetDateTime) -> Result<String> {
    let stamp = at
        .to_offset(time::UtcOffset::UTC)
        .format(format_description!(
            "[year][month][day]T[hour][minute][second].[subsecond digits:3]Z"
        ))
        .context("formatting the backup's time")?;
    Ok(format!("{PREFIX}{stamp}.{}", extension(backend)))
}

/// Whether `name` is one [`name_at`] makes for `backend`.
fn is_backup_name(name: &str, backend: Backend) -> bool {
    let Some(stamp) = name
        .strip_prefix(PREFIX)
        .and_then(|rest| rest.strip_suffix(extension(backend)))
        .and_then(|rest| rest.strip_suffix('.'))
    else {
        return false;
    };
    // YYYYMMDDTHHMMSS.mmmZ
    let shape = "00000000T000000.000Z";
    stamp.len() == shape.len()
        && stamp
            .bytes()
            .zip(shape.bytes())
            .all(|(c, s)| if s == b'0' { c.is_ascii_digit() } else { c == s })
}

/// The backups of `backend` in `dir`, oldest first. A missing directory holds none.
pub fn list(dir: &Path, backend: Backend) -> Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
        if let Ok(name) = entry.file_name().into_string()
            && is_backup_name(&name, backend)
            && entry.file_type().is_ok_and(|t| t.is_file())
        {
            names.push(name);
        }
    }
    names.sort();
    Ok(names.into_iter().map(|n| dir.join(n)).collect())
}

/// The newest backup of `backend` in `dir`.
pub fn latest(dir: &Path, backend: Backend) -> Result<Option<PathBuf>> {
    Ok(list(dir, backend)?.pop())
}

/// Removes the backups of `backend` in `dir` but the newest `keep` (at least one is always
/// kept); returns those removed, oldest first.
pub fn prune(dir: &Path, backend: Backend, keep: usize) -> Result<Vec<PathBuf>> {
    let mut all = list(dir, backend)?;
    let surplus = all.len().saturating_sub(keep.max(1));
    let removed: Vec<PathBuf> = all.drain(..surplus).collect();
    for path in &removed {
        std::fs::remove_file(path).with_context(|| format!("removing the old backup {}", path.display()))?;
    }
    Ok(removed)
}

/// Flushes the file at `path` and its directory to disk, so that a backup reported as
/// written survives a power cut (SQLite's `VACUUM INTO` does not flush its output).
pub fn sync(path: &Path) -> Result<()> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("flushing {}", path.display()))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .with_context(|| format!("flushing {}", dir.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(unix_ms: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix_ms) * 1_000_000).expect("time")
    }

    #[test]
    fn names_follow_the_time_and_the_backend() {
        let t = at(1_768_442_400_007); // 2026-01-15 02:00:00.007 UTC
        assert_eq!(
            name_at(Backend::Sqlite, t).expect("name"),
            "motcua-20260115T020000.007Z.db"
        );
        let ict = t.to_offset(time::UtcOffset::from_hms(7, 0, 0).expect("offset"));
        assert_eq!(
            name_at(Backend::Postgres, ict).expect("name"),
            "motcua-20260115T020000.007Z.dump"
        );
        assert!(is_backup_name("motcua-20260115T020000.007Z.db", Backend::Sqlite));
        for other in [
            "motcua-20260115T020000.007Z.dump",
            "motcua-20260115T020000.007Z.db.partial",
            "motcua-2026-01-15-0200.db",
            "motcua-20260115T020000.07Z.db",
            "motcua.db",
            "notes.txt",
        ] {
            assert!(!is_backup_name(other, Backend::Sqlite), "{other}");
        }
    }

    #[test]
    fn latest_and_prune_see_only_this_backends_backups() {
        let dir = tempfile::tempdir().expect("dir");
        let mut made = Vec::new();
        // Out of order in time of writing; in order by name.
        for ms in [3_000, 1_000, 4_000, 2_000] {
            let name = name_at(Backend::Sqlite, at(1_768_442_400_000 + ms)).expect("name");
            std::fs::write(dir.path().join(&name), b"x").expect("write");
            made.push(name);
        }
        let others = [
            "notes.txt",
            "motcua-20200101T000000.000Z.dump",
            "motcua-20200101T000000.000Z.db.partial",
        ];
        for other in others {
            std::fs::write(dir.path().join(other), b"x").expect("write");
        }
        made.sort();
        let listed: Vec<String> = list(dir.path(), Backend::Sqlite)
            .expect("list")
            .iter()
            .map(|p| p.file_name().expect("name").to_string_lossy().into_owned())
            .collect();
        assert_eq!(listed, made);
        assert_eq!(
            latest(dir.path(), Backend::Sqlite).expect("latest"),
            Some(dir.path().join(&made[3]))
        );

        let removed = prune(dir.path(), Backend::Sqlite, 2).expect("prune");
        assert_eq!(removed, vec![dir.path().join(&made[0]), dir.path().join(&made[1])]);
        assert_eq!(list(dir.path(), Backend::Sqlite).expect("list").len(), 2);
        for other in others {
            assert!(dir.path().join(other).exists(), "{other} was left alone");
        }
        // At least one is always kept.
        assert_eq!(prune(dir.path(), Backend::Sqlite, 0).expect("prune").len(), 1);
        assert_eq!(
            latest(dir.path(), Backend::Sqlite).expect("latest"),
            Some(dir.path().join(&made[3]))
        );
        assert_eq!(latest(&dir.path().join("none"), Backend::Sqlite).expect("latest"), None);
    }
}
