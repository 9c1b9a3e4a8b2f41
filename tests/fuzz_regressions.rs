//! Inputs found by fuzzing (`fuzz/`, cargo-fuzz), replayed through the same
//! path as the fuzz targets: parse → validate → compile → cohort run →
//! `to_json()`/`summary()`, and for inputs of even length a 50-child
//! microsimulation. Each must answer without a panic and quickly.
//!
//! `tests/fuzz/*.toml` and `*.json` are reduced inputs (crashes, hangs and
//! edge cases) read by their extension; the minimised corpus in `fuzz/corpus/`
//! is replayed too.

#[allow(dead_code)]
#[path = "../fuzz/src/lib.rs"]
mod fuzz_path;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fuzz_path::{Format, exercise};

/// Longest a single input may take (the fuzzer's timeout is 5 s).
const QUICK: Duration = Duration::from_secs(10);

/// Saved inputs whose bug is not fixed yet, skipped by
/// [`every_saved_input_answers`]. Each also gets its own test, ignored until
/// the fix lands:
///
/// ```ignore
/// #[test]
/// #[ignore = "bug: <panic message> at src/…:line"]
/// fn crash_name() {
///     let failures = replay_all(&[root().join("tests/fuzz/crash_name.toml")], None);
///     assert!(failures.is_empty(), "{}", failures.join("\n"));
/// }
/// ```
const OPEN: &[&str] = &[];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The files of `dir`, sorted; none when it does not exist.
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out
}

fn format_of(path: &Path) -> Option<Format> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("toml") => Some(Format::Toml),
        Some("json") => Some(Format::Json),
        _ => None,
    }
}

/// Replays one input; the panic message or the time taken on failure.
fn replay(data: &[u8], format: Format) -> Result<Duration, String> {
    let start = Instant::now();
    let outcome = std::panic::catch_unwind(|| exercise(data, format));
    let took = start.elapsed();
    match outcome {
        Err(payload) => {
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "a non-string panic".to_owned());
            Err(format!("panicked: {message}"))
        }
        Ok(()) if took > QUICK => Err(format!("took {took:?}; expected at most {QUICK:?}")),
        Ok(()) => Ok(took),
    }
}

/// Replays `paths` as `format` (or by extension), collecting every failure.
fn replay_all(paths: &[PathBuf], format: Option<Format>) -> Vec<String> {
    let mut failures = Vec::new();
    for path in paths {
        let Some(format) = format.or_else(|| format_of(path)) else {
            continue;
        };
        let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if let Err(why) = replay(&data, format) {
            failures.push(format!("{}: {why}", path.display()));
        }
    }
    failures
}

#[test]
fn every_saved_input_answers() {
    let paths: Vec<PathBuf> = files(&root().join("tests/fuzz"))
        .into_iter()
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            !OPEN.contains(&name)
        })
        .collect();
    let failures = replay_all(&paths, None);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The whole minimised corpus (about 2 400 inputs, a second or two), for both readers.
#[test]
fn corpus_answers() {
    let mut failures = Vec::new();
    let mut replayed = 0;
    for (target, format) in [("toml", Format::Toml), ("json", Format::Json)] {
        let all = files(&root().join("fuzz/corpus").join(target));
        replayed += all.len();
        failures.extend(replay_all(&all, Some(format)));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(replayed > 0, "fuzz/corpus/ holds no inputs");
    println!("replayed {replayed} corpus inputs");
}
