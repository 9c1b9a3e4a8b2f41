//! Hostile input: each case gets a clear error (exit code 2, one line naming
//! the problem) or a documented limit, in under a second, never a panic or hang.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn temp(name: &str, contents: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lifecost-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

/// Runs the CLI and checks: exit code 2, one `error:` line containing `needle`, within a second.
fn refused(args: &[&str], needle: &str) {
    let start = Instant::now();
    let o: Output = Command::new(env!("CARGO_BIN_EXE_lifecost"))
        .args(args)
        .output()
        .unwrap();
    let took = start.elapsed();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "{args:?}: one line, got:\n{err}");
    assert!(
        err.starts_with("error: ") && err.contains(needle),
        "{args:?}: `{needle}` not in {err}"
    );
    assert!(took < Duration::from_secs(1), "{args:?} took {took:?}");
}

fn scenario_with(from: &str, to: &str) -> String {
    let base = lifecost::scenario::DEFAULT_SCENARIO_TOML;
    assert!(base.contains(from), "{from}");
    base.replacen(from, to, 1)
}

#[test]
fn absurd_sizes_are_refused_at_once() {
    refused(
        &["run", "--engine", "microsim", "--children", "1000000000000000"],
        "--yes",
    );
    refused(
        &["run", "--engine", "microsim", "--children", "1000000000000000", "--yes"],
        "children",
    );
    refused(&["run", "--draws", "1000000"], "--yes");
    refused(&["run", "--draws", "100000000", "--yes"], "draws");
    let long = temp("long.toml", scenario_with("end_age = 80", "end_age = 10000").as_bytes());
    refused(&["validate", long.to_str().unwrap()], "scenario.end_age");

    let mut many = String::from(
        "[scenario]\nname = \"many\"\nprice_year = 2024\nstart_age = 0\n\n[payers]\np = { public = true }\n",
    );
    for i in 0..10_000 {
        many.push_str(&format!("\n[[states]]\nid = \"s{i}\"\n"));
    }
    many.push_str("\n[[population]]\nsize = 1\nstart = { s0 = 1.0 }\n");
    let many = temp("many.toml", many.as_bytes());
    refused(&["run", many.to_str().unwrap()], "states");

    let big = temp("big.toml", &vec![b'#'; 17 * 1024 * 1024]);
    refused(&["validate", big.to_str().unwrap()], "bytes");
}

#[test]
fn malformed_text_is_refused_with_its_place() {
    let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let nested = temp("nested.json", nested.as_bytes());
    refused(&["validate", nested.to_str().unwrap()], "line 1");
    let deep_toml = temp(
        "deep.toml",
        format!("a = {}{}", "[".repeat(50_000), "]".repeat(50_000)).as_bytes(),
    );
    refused(&["validate", deep_toml.to_str().unwrap()], "line 1");
    let huge = temp(
        "huge.toml",
        scenario_with(
            "bbic_investigation = { value = 39_400",
            "bbic_investigation = { value = 1e300",
        )
        .as_bytes(),
    );
    refused(&["validate", huge.to_str().unwrap()], "at most 1e13");
    let nan = temp(
        "nan.toml",
        scenario_with(
            "bbic_investigation = { value = 39_400",
            "bbic_investigation = { value = nan",
        )
        .as_bytes(),
    );
    refused(&["validate", nan.to_str().unwrap()], "finite");
    let bytes = temp("bytes.toml", b"[scenario]\nname = \"\xff\xfe\"\n");
    refused(&["validate", bytes.to_str().unwrap()], "UTF-8");
    let empty = temp("empty.toml", b"");
    refused(&["validate", empty.to_str().unwrap()], "scenario");
    let duplicate = temp(
        "dup.toml",
        scenario_with("id = \"dead\"", "id = \"on_track\"").as_bytes(),
    );
    refused(&["validate", duplicate.to_str().unwrap()], "two states");
    let own = temp(
        "own.toml",
        scenario_with(
            "bbic_investigation = { value = 39_400",
            "loop_a = \"$loop_b\"\nloop_b = \"$loop_a\"\nbbic_investigation = { value = 39_400",
        )
        .as_bytes(),
    );
    refused(&["validate", own.to_str().unwrap()], "refers to itself");
    refused(&["validate", "/nonexistent/scenario.toml"], "cannot read");
}

#[test]
fn a_run_killed_midway_leaves_no_partial_output() {
    let dir = std::env::temp_dir().join(format!("lifecost-killed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("grid.csv");
    for delay in [50, 200, 500] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lifecost"))
            .args([
                "sweep",
                "--vary",
                "hr_placement=0.5:1.0:400",
                "--draws",
                "50",
                "-o",
                out.to_str().unwrap(),
            ])
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        let _ = child.kill();
        let _ = child.wait();
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        // Either the whole file (the run finished first) or nothing at all — never a piece of it.
        match left.as_slice() {
            [] => {}
            [name] if name == "grid.csv" => {
                let csv = std::fs::read_to_string(&out).unwrap();
                assert_eq!(csv.lines().count(), 401, "a finished file is whole");
                std::fs::remove_file(&out).unwrap();
            }
            other => panic!("left behind after a kill at {delay} ms: {other:?}"),
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
