//! Writing output files so that a reader never sees half of one.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Tells apart the temporary files of concurrent writes within one process;
/// the process id in the name tells apart processes.
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes `contents` to `path` atomically: afterwards `path` holds either
/// all of `contents` or whatever it held before, never a part.
///
/// The bytes go to a new temporary file in the same directory
/// (`.<name>.tmp-<pid>-<n>`; the same directory, because a rename is only
/// atomic within one file system), which is flushed to disk and then renamed
/// to `path`. On any error the temporary file is removed. A run interrupted
/// by a signal between creating and renaming the temporary file can leave
/// it behind, hidden and clearly named, but never a partial `path`.
///
/// Without `overwrite` an existing `path` is an error, and the file is put
/// in place with a hard link, which refuses to replace a file created in the
/// meantime; where hard links are not supported it is checked just before
/// the rename instead. With `overwrite` an existing file is replaced (a
/// symbolic link itself, not its target); the new file has default
/// permissions rather than the old file's.
///
/// # Errors
///
/// [`io::ErrorKind::AlreadyExists`] when `path` exists and `overwrite` is
/// false; [`io::ErrorKind::InvalidInput`] when `path` has no file name (it
/// ends in `..` or is a root); and whatever the file system reports, such as
/// [`io::ErrorKind::NotFound`] when the directory does not exist.
pub fn write_atomic(path: &Path, contents: &[u8], overwrite: bool) -> io::Result<()> {
    let Some(name) = path.file_name() else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("cannot write {}: expected a path to a file", path.display()),
        ));
    };
    // Checked first so that refusing costs nothing and touches nothing.
    if !overwrite && path.symlink_metadata().is_ok() {
        return Err(exists(path));
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let (tmp, file) = create_temporary(dir, name)?;
    let result = fill(file, contents).and_then(|()| put_in_place(&tmp, path, overwrite));
    if result.is_err() {
        // Best effort: the error worth reporting is the one that got us here.
        let _ = fs::remove_file(&tmp);
    } else {
        sync_dir(dir);
    }
    result
}

fn exists(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!("{} exists; use --force to overwrite it", path.display()),
    )
}

/// A new file that no one else has, by `create_new`; a clash with a stale
/// file of a crashed run with a reused pid just moves on to the next number.
fn create_temporary(dir: &Path, name: &std::ffi::OsStr) -> io::Result<(PathBuf, File)> {
    let pid = std::process::id();
    let mut last = None;
    for _ in 0..100 {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut tmp_name = OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".tmp-{pid}-{n}"));
        let tmp = dir.join(tmp_name);
        match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("cannot create a temporary file")))
}

/// Writes and fsyncs, so that the rename never publishes a file whose data
/// is still only in the page cache (a crash would leave it empty).
fn fill(mut file: File, contents: &[u8]) -> io::Result<()> {
    file.write_all(contents)?;
    file.sync_all()
}

fn put_in_place(tmp: &Path, path: &Path, overwrite: bool) -> io::Result<()> {
    if overwrite {
        return fs::rename(tmp, path);
    }
    match fs::hard_link(tmp, path) {
        Ok(()) => {
            // `path` is complete now; the temporary name is just a second link.
            let _ = fs::remove_file(tmp);
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(exists(path)),
        Err(_) => {
            // No hard links here (some network and FAT file systems): check and
            // rename, with a small window in which a newly created file is lost.
            if path.symlink_metadata().is_ok() {
                return Err(exists(path));
            }
            fs::rename(tmp, path)
        }
    }
}

/// Makes the rename itself durable. Best effort: the file is complete
/// either way, and directories cannot be opened for syncing everywhere.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}
