//! Shards: `run --draw-range A..B --out part.json` and `merge` give the single run, byte for byte.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use lifecost::shard::{Part, merge};
use lifecost::{Engine, Perspective, Scenario, Simulation};
use serde_json::Value;

fn lifecost(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lifecost"))
        .args(args)
        .output()
        .expect("run the lifecost binary")
}

#[track_caller]
fn ok(args: &[&str]) -> Vec<u8> {
    let o = lifecost(args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "lifecost {args:?}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    o.stdout
}

/// Runs `args`, which must fail with exit code 2 and a one-line message holding every one of `words`.
#[track_caller]
fn refused(args: &[&str], words: &[&str]) {
    let o = lifecost(args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "lifecost {args:?}\nstderr:\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    for w in words {
        assert!(err.contains(w), "`{w}` missing from: {err}");
    }
}

/// A fresh directory under the temp directory; removed when dropped.
struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "lifecost-shards-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        Dir(dir)
    }

    fn file(&self, name: &str) -> String {
        self.0.join(name).to_str().expect("temp path is UTF-8").to_owned()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes the part of `range` of the run `run` (the options after `run`) to `dir/name`.
fn part(dir: &Dir, name: &str, run: &[&str], range: &str) -> String {
    let out = dir.file(name);
    let mut args = vec!["run"];
    args.extend_from_slice(run);
    args.extend_from_slice(&["--quiet", "--draw-range", range, "--out", &out]);
    ok(&args);
    out
}

/// Parts 0..7, 7..30 and 30..50 of `run` merged, given out of order, are the single run in both formats.
fn three_shards_are_the_single_run(run: &[&str]) {
    let dir = Dir::new("three");
    let a = part(&dir, "a.json", run, "0..7");
    let b = part(&dir, "b.json", run, "7..30");
    let c = part(&dir, "c.json", run, "30..50");
    for format in ["json", "text"] {
        let mut single = vec!["run", "--quiet", "--format", format];
        single.extend_from_slice(run);
        let whole = ok(&single);
        let merged = ok(&["merge", &c, &a, &b, "--format", format]);
        assert!(
            whole == merged,
            "{format}: merged differs from the single run\n--- single\n{}\n--- merged\n{}",
            String::from_utf8_lossy(&whole),
            String::from_utf8_lossy(&merged)
        );
    }
}

#[test]
fn three_uneven_shards_out_of_order_merge_to_the_cohort_run_byte_for_byte() {
    three_shards_are_the_single_run(&["--draws", "50", "--seed", "7"]);
}

#[test]
fn three_uneven_shards_out_of_order_merge_to_the_microsim_run_byte_for_byte() {
    three_shards_are_the_single_run(&[
        "--engine",
        "microsim",
        "--children",
        "200",
        "--draws",
        "50",
        "--seed",
        "3",
    ]);
}

#[test]
fn shards_with_break_even_options_and_a_perspective_merge_to_the_single_run() {
    three_shards_are_the_single_run(&[
        "--draws",
        "50",
        "--perspective",
        "societal",
        "--break-even-curve",
        "--break-even-state",
        "residential_care",
    ]);
}

#[test]
fn merge_writes_its_result_and_csv_atomically_like_run() {
    let dir = Dir::new("files");
    let run = ["--draws", "20", "--seed", "5"];
    let a = part(&dir, "a.json", &run, "0..13");
    let b = part(&dir, "b.json", &run, "13..20");
    let out = dir.file("merged.json");
    let single_csv = dir.file("single");
    let merged_csv = dir.file("merged");
    let whole = ok(&[
        "run",
        "--draws",
        "20",
        "--seed",
        "5",
        "--format",
        "json",
        "--csv",
        &single_csv,
    ]);
    assert!(ok(&["merge", &a, &b, "--format", "json", "-o", &out, "--csv", &merged_csv]).is_empty());
    assert!(std::fs::read(&out).unwrap() == whole);
    for name in ["streams.csv", "draws.csv", "summary.csv", "budget.csv"] {
        let single = std::fs::read(Path::new(&single_csv).join(name)).unwrap();
        let merged = std::fs::read(Path::new(&merged_csv).join(name)).unwrap();
        assert!(single == merged, "{name} differs");
    }
    // An existing file is replaced only with --force.
    refused(&["merge", &a, &b, "-o", &out], &["merged.json", "exists", "--force"]);
    refused(
        &[
            "run",
            "--draws",
            "20",
            "--seed",
            "5",
            "--draw-range",
            "0..13",
            "--out",
            &a,
        ],
        &["a.json", "exists", "--force"],
    );
    ok(&[
        "run",
        "--draws",
        "20",
        "--seed",
        "5",
        "--draw-range",
        "0..13",
        "--out",
        &a,
        "--force",
    ]);
    ok(&["merge", &a, &b, "-o", &out, "--force"]);
}

#[test]
fn parts_that_overlap_or_leave_draws_out_are_refused_naming_the_file() {
    let dir = Dir::new("cover");
    let run = ["--draws", "50", "--seed", "7"];
    let a = part(&dir, "a.json", &run, "0..7");
    let b = part(&dir, "b.json", &run, "7..30");
    let b2 = part(&dir, "b2.json", &run, "5..30");
    let b3 = part(&dir, "b3.json", &run, "8..30");
    let c = part(&dir, "c.json", &run, "30..50");
    refused(
        &["merge", &a, &b2, &c],
        &["b2.json", "draw_range", "5..30", "overlapping 0..7", "a.json"],
    );
    refused(
        &["merge", &c, &b3, &a],
        &["b3.json", "draw_range", "draws 7..8 are in no part"],
    );
    refused(
        &["merge", &b, &c],
        &["b.json", "draw_range", "draws 0..7 are in no part"],
    );
    refused(
        &["merge", &a, &b],
        &["b.json", "draw_range", "draws 30..50 are in no part"],
    );
    refused(&["merge", &a, &b, &c, &b], &["b.json", "overlapping 7..30"]);
}

#[test]
fn parts_of_different_runs_are_refused_naming_the_file_and_the_field() {
    let dir = Dir::new("runs");
    let a = part(&dir, "a.json", &["--draws", "50", "--seed", "7"], "0..7");
    let rest = |name: &str, run: &[&str]| part(&dir, name, run, "7..50");
    let varnamo = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/varnamo_tsi.toml");
    let cases: Vec<(String, [&str; 2])> = vec![
        (
            rest("scenario.json", &[varnamo, "--draws", "50", "--seed", "7"]),
            ["scenario_hash", "expected"],
        ),
        (
            rest("seed.json", &["--draws", "50", "--seed", "8"]),
            ["seed", "is 8; expected 7"],
        ),
        (
            rest("draws.json", &["--draws", "60", "--seed", "7"]),
            ["draws", "is 60; expected 50"],
        ),
        (
            rest(
                "engine.json",
                &[
                    "--draws",
                    "50",
                    "--seed",
                    "7",
                    "--engine",
                    "microsim",
                    "--children",
                    "100",
                ],
            ),
            ["engine", "is microsim; expected cohort"],
        ),
        (
            rest(
                "perspective.json",
                &["--draws", "50", "--seed", "7", "--perspective", "societal"],
            ),
            ["perspective", "is societal; expected fiscal"],
        ),
        (
            rest("curve.json", &["--draws", "50", "--seed", "7", "--break-even-curve"]),
            ["break_even_curve", "is true; expected false"],
        ),
        (
            rest(
                "state.json",
                &["--draws", "50", "--seed", "7", "--break-even-state", "foster_care"],
            ),
            ["break_even_state", "is `foster_care`; expected none"],
        ),
    ];
    for (file, words) in &cases {
        let name = Path::new(file).file_name().unwrap().to_str().unwrap();
        refused(&["merge", &a, file], &[name, words[0], words[1], "a.json"]);
    }
    let micro = [
        "--engine",
        "microsim",
        "--draws",
        "50",
        "--seed",
        "7",
        "--children",
        "100",
    ];
    let m = part(&dir, "m.json", &micro, "0..7");
    let mut other = micro;
    other[7] = "150";
    let children = part(&dir, "children.json", &other, "7..50");
    refused(
        &["merge", &m, &children],
        &["children.json", "children", "is 150; expected 100"],
    );
}

/// Rewrites a part file through its JSON.
fn edit(path: &str, to: &str, change: impl FnOnce(&mut Value)) -> String {
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    change(&mut v);
    let out = Path::new(path).with_file_name(to);
    std::fs::write(&out, serde_json::to_string(&v).unwrap()).unwrap();
    out.to_str().unwrap().to_owned()
}

#[test]
fn a_part_of_another_version_or_damaged_is_refused_naming_the_field() {
    let dir = Dir::new("damaged");
    let run = [
        "--draws",
        "20",
        "--seed",
        "7",
        "--engine",
        "microsim",
        "--children",
        "50",
    ];
    let a = part(&dir, "a.json", &run, "0..9");
    let b = part(&dir, "b.json", &run, "9..20");
    let version = edit(&b, "version.json", |v| v["version"] = "0.0.1".into());
    refused(
        &["merge", &a, &version],
        &["version.json", "version", "0.0.1", env!("CARGO_PKG_VERSION")],
    );
    let format = edit(&b, "format.json", |v| v["lifecost_part"] = 9.into());
    refused(&["merge", &a, &format], &["format.json", "lifecost_part", "is 9"]);
    let short = edit(&b, "short.json", |v| {
        v["blocks"][0]["arms"][1]["care"][2].as_array_mut().unwrap().pop();
    });
    refused(
        &["merge", &a, &short],
        &["short.json", "blocks[0].arms[1].care[2]", "expected"],
    );
    let figures = edit(&b, "figures.json", |v| {
        v["figures"].as_array_mut().unwrap().pop();
    });
    refused(&["merge", &a, &figures], &["figures.json", "figures", "expected 11"]);
    let blocks = edit(&b, "blocks.json", |v| v["blocks"][0]["first"] = 8.into());
    refused(&["merge", &a, &blocks], &["blocks.json", "blocks", "expected"]);
    let text = edit(&b, "text.json", |v| v["figures"][3]["arms"][0]["cost"] = "much".into());
    refused(&["merge", &a, &text], &["text.json", "figures[3].arms[0].cost", "much"]);
    let bins = edit(&b, "bins.json", |v| {
        v["blocks"][0]["lifetime_cost"][0]["bins"][0][0] = 99_999.into()
    });
    refused(
        &["merge", &a, &bins],
        &["bins.json", "blocks[0].lifetime_cost[0]", "bin 99999"],
    );
    let hash = edit(&b, "hash.json", |v| {
        v["scenario"]["scenario"]["name"] = "Another".into()
    });
    refused(&["merge", &a, &hash], &["hash.json", "scenario_hash"]);
    let result = dir.file("result.json");
    std::fs::write(&result, ok(&["run", "--format", "json"])).unwrap();
    refused(&["merge", &a, &result], &["result.json", "lifecost_part", "is missing"]);
    let cut = dir.file("cut.json");
    let whole = std::fs::read(&b).unwrap();
    std::fs::write(&cut, &whole[..whole.len() / 2]).unwrap();
    refused(&["merge", &a, &cut], &["cut.json", "line 1"]);
    refused(
        &["merge", &a, &dir.file("missing.json")],
        &["missing.json", "cannot read"],
    );
}

#[test]
fn draw_range_options_that_cannot_shard_are_refused() {
    let dir = Dir::new("options");
    let out = dir.file("p.json");
    refused(
        &["run", "--draw-range", "0..5", "--out", &out],
        &["--draw-range", "--draws"],
    );
    for range in ["7..3", "0..51", "5..5", "x", "1..", "3..x"] {
        refused(
            &["run", "--draws", "50", "--draw-range", range, "--out", &out],
            &["--draw-range", "expected A..B with 0 ≤ A < B ≤ 50"],
        );
    }
    refused(
        &[
            "run",
            "--draws",
            "50",
            "--precision",
            "0.01",
            "--draw-range",
            "0..5",
            "--out",
            &out,
        ],
        &["--precision", "--draw-range"],
    );
    refused(
        &[
            "run",
            "--draws",
            "50",
            "--draw-range",
            "0..5",
            "--out",
            &out,
            "--csv",
            &dir.file("csv"),
        ],
        &["--csv", "merge"],
    );
    refused(&["run", "--draws", "50", "--draw-range", "0..5"], &["--out", "missing"]);
    refused(&["run", "--draws", "50", "--out", &out], &["--out", "--draw-range"]);
    // Usage errors come from the argument parser, with its usage lines.
    let none = lifecost(&["merge"]);
    assert_eq!(none.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&none.stderr).contains("<PART>"));
    assert!(!Path::new(&out).exists());
}

#[test]
fn a_killed_shard_leaves_no_partial_part_file() {
    let dir = Dir::new("killed");
    let out = dir.file("part.json");
    for delay in [50, 200, 500] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lifecost"))
            .args([
                "run",
                "--quiet",
                "--draws",
                "20000",
                "--draw-range",
                "0..20000",
                "--out",
                &out,
            ])
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        let _ = child.kill();
        let _ = child.wait();
        for entry in std::fs::read_dir(&dir.0).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if name == "part.json" {
                // The run finished first: the file is whole.
                let part = Part::read(&out).expect("a finished part file is whole");
                assert_eq!(part.range(), 0..20_000);
                std::fs::remove_file(&out).unwrap();
            } else {
                // Only write_atomic's hidden temporary file may be left, never a piece of part.json.
                assert!(
                    name.starts_with(".part.json.tmp-"),
                    "left behind after a kill at {delay} ms: {name}"
                );
            }
        }
    }
    // Left alone, the same command writes a whole part.
    ok(&[
        "run",
        "--quiet",
        "--draws",
        "300",
        "--draw-range",
        "0..300",
        "--out",
        &out,
    ]);
    assert_eq!(Part::read(&out).unwrap().range(), 0..300);
}

#[test]
fn library_parts_merge_to_the_run_with_overrides_and_a_discount_rate() -> Result<(), lifecost::Error> {
    let scenario = Scenario::default_scenario()?;
    let hr = scenario
        .parameter("hr_placement")
        .expect("the default scenario has hr_placement");
    let sim = Simulation::new(&scenario)
        .draws(23)
        .seed(99)
        .perspective(Perspective::Societal)
        .set(hr, 0.6)
        .discount(lifecost::economics::DiscountRate::constant(0.03))
        .break_even_curve(true);
    let whole = sim.run()?;
    let mut parts = Vec::new();
    for range in [16..23, 0..1, 1..16] {
        // Through the file format, as parts travel between machines.
        parts.push(Part::from_json_str(&sim.draw_range(range)?.to_json())?);
    }
    let merged = merge(&parts)?;
    assert_eq!(merged.to_json(), whole.to_json());
    assert_eq!(merged.summary(), whole.summary());
    // One part of every draw is the run itself.
    assert_eq!(merge(&[sim.draw_range(0..23)?])?.to_json(), whole.to_json());
    Ok(())
}

#[test]
fn library_microsim_parts_merge_to_the_run() -> Result<(), lifecost::Error> {
    let scenario = Scenario::default_scenario()?;
    let sim = Simulation::new(&scenario)
        .engine(Engine::Microsim)
        .children(120)
        .draws(9)
        .seed(4);
    let parts = [sim.draw_range(4..9)?, sim.draw_range(0..4)?];
    let merged = merge(&parts)?;
    let whole = sim.run()?;
    assert_eq!(merged.to_json(), whole.to_json());
    assert_eq!(merged.distribution(), whole.distribution());
    Ok(())
}

#[test]
fn library_refuses_what_cannot_be_split() -> Result<(), lifecost::Error> {
    let scenario = Scenario::default_scenario()?;
    let message = |e: lifecost::Error| e.to_string();
    let no_draws = Simulation::new(&scenario).draw_range(0..1).map(|_| ()).map_err(message);
    assert!(no_draws.unwrap_err().starts_with("draws: is not set"));
    let sim = Simulation::new(&scenario).draws(10);
    let bad = sim.draw_range(4..11).map(|_| ()).map_err(message).unwrap_err();
    assert!(
        bad.starts_with("draw_range: is 4..11; expected A..B with 0 ≤ A < B ≤ 10"),
        "{bad}"
    );
    let precise = sim
        .clone()
        .precision(0.01)
        .draw_range(0..5)
        .map(|_| ())
        .map_err(message);
    assert!(precise.unwrap_err().starts_with("precision: is 0.01"));
    assert!(merge(&[]).map_err(message).unwrap_err().starts_with("parts: is empty"));
    let parts = [
        sim.draw_range(0..4)?.with_name("first"),
        sim.clone().seed(1).draw_range(4..10)?,
    ];
    let err = merge(&parts).map_err(message).unwrap_err();
    assert!(
        err.starts_with("part 4..10: seed: is 1; expected 20240101, as in first"),
        "{err}"
    );
    Ok(())
}

#[test]
fn adaptive_precision_ends_on_the_run_of_its_number_of_draws() -> Result<(), lifecost::Error> {
    let scenario = Scenario::default_scenario()?;
    let adaptive = Simulation::new(&scenario).draws(1).precision(0.2).seed(12).run()?;
    assert_ne!(adaptive.stop(), lifecost::Stop::Fixed);
    let n = adaptive.n_draws() as u64;
    let fixed = Simulation::new(&scenario).draws(n).seed(12).run()?;
    // The same draws summed in the same tree: every figure agrees; only the stop differs.
    let (mut a, f) = (adaptive.to_json(), fixed.to_json());
    a["stop"] = f["stop"].clone();
    assert_eq!(a, f);
    Ok(())
}

#[test]
fn the_readme_shard_commands_give_the_single_run() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = &readme[readme.find("## Shards").expect("README has a Shards section")..];
    let start = section.find("```sh\n").expect("a shell block") + "```sh\n".len();
    let script = &section[start..start + section[start..].find("```").unwrap()];
    let dir = Dir::new("readme");
    let bin = Path::new(env!("CARGO_BIN_EXE_lifecost")).parent().unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let o = Command::new("bash")
        .args(["-euc", script])
        .current_dir(&dir.0)
        .env("PATH", path)
        .output()
        .expect("run bash");
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "identical\n",
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let merged = std::fs::read(dir.0.join("merged.json")).unwrap();
    assert!(merged == std::fs::read(dir.0.join("single.json")).unwrap());
}
