//! The `lifecost` command line: exit codes, output formats, one-line errors.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

fn lifecost(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lifecost"))
        .args(args)
        .output()
        .expect("run the lifecost binary")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("stderr is UTF-8")
}

#[track_caller]
fn assert_success(o: &Output) {
    assert_eq!(
        o.status.code(),
        Some(0),
        "exit status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        stdout(o),
        stderr(o)
    );
}

/// A file with a unique name under the temp directory; removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(tag: &str, ext: &str, text: &str) -> TempFile {
        let path = TempFile::path(tag, ext);
        std::fs::write(&path, text).expect("write temp file");
        TempFile(path)
    }

    fn path(tag: &str, ext: &str) -> PathBuf {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        std::env::temp_dir().join(format!(
            "lifecost-cli-{tag}-{}-{nanos}-{}.{ext}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ))
    }

    fn arg(&self) -> &str {
        self.0.to_str().expect("temp path is UTF-8")
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The default scenario as `init` prints it.
fn init_text() -> String {
    let o = lifecost(&["init"]);
    assert_success(&o);
    stdout(&o)
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect();
    k.sort_unstable();
    k
}

fn sorted<'a>(k: &[&'a str]) -> Vec<&'a str> {
    let mut k = k.to_vec();
    k.sort_unstable();
    k
}

const ESTIMATE_KEYS: [&str; 7] = ["mean", "se", "p2_5", "p5", "p50", "p95", "p97_5"];

#[track_caller]
fn assert_estimate(v: &Value, what: &str) {
    assert_eq!(keys(v), sorted(&ESTIMATE_KEYS), "{what} is not an estimate: {v}");
    assert!(v["mean"].is_number(), "{what}.mean is not a number: {v}");
}

/// Every object with a `mean` anywhere in the tree is an estimate with exactly the seven keys.
fn all_estimates_exact(v: &Value, at: &str, found: &mut usize) {
    match v {
        Value::Object(m) => {
            if m.contains_key("mean") {
                assert_estimate(v, at);
                *found += 1;
            } else {
                for (k, x) in m {
                    all_estimates_exact(x, &format!("{at}.{k}"), found);
                }
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                all_estimates_exact(x, &format!("{at}[{i}]"), found);
            }
        }
        _ => {}
    }
}

#[test]
fn run_without_arguments_prints_a_table() {
    let o = lifecost(&["run"]);
    assert_success(&o);
    let out = stdout(&o);
    assert!(out.contains("NPV"), "no NPV in:\n{out}");
    assert!(out.contains("status_quo") && out.contains("tsi"), "{out}");
    assert!(stderr(&o).is_empty(), "stderr: {}", stderr(&o));
}

#[test]
fn no_subcommand_behaves_like_run() {
    let bare = lifecost(&[]);
    assert_success(&bare);
    let run = lifecost(&["run"]);
    assert_success(&run);
    assert!(stdout(&bare).contains("NPV"));
    assert_eq!(stdout(&bare), stdout(&run));
}

/// The top-level keys of DESIGN §7.
const TOP_LEVEL_KEYS: [&str; 9] = [
    "scenario",
    "version",
    "seed",
    "draws",
    "children",
    "engine",
    "scenario_hash",
    "arms",
    "comparisons",
];

fn run_json() -> Value {
    let o = lifecost(&["run", "--format", "json"]);
    assert_success(&o);
    serde_json::from_str(&stdout(&o)).expect("--format json prints JSON")
}

/// DESIGN §7's keys plus `stop`, which says which stop of an adaptive run applied, and
/// `flags`, the line flagging the unverified figures and assumptions the result rests on.
#[test]
fn run_json_has_exactly_the_top_level_keys_of_design_7_and_the_stop() {
    let mut expected = TOP_LEVEL_KEYS.to_vec();
    expected.extend(["stop", "flags"]);
    assert_eq!(keys(&run_json()), sorted(&expected));
}

#[test]
fn run_json_has_the_stable_keys() {
    let v = run_json();
    for k in TOP_LEVEL_KEYS {
        assert!(v.get(k).is_some(), "no top-level `{k}` in {:?}", keys(&v));
    }
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(v["engine"], "cohort");
    assert_eq!(v["draws"], 1);
    assert!(v["seed"].is_u64());
    assert!(v["scenario_hash"].as_str().is_some_and(|h| h.len() == 16));

    let arms = v["arms"].as_array().expect("arms is an array");
    assert!(arms.len() >= 2);
    assert_eq!(arms[0]["id"], "status_quo");
    for arm in arms {
        assert_eq!(keys(arm), sorted(&["id", "cost", "cost_by_payer", "outcomes"]));
        assert_estimate(&arm["cost"], "arm.cost");
        for (payer, e) in arm["cost_by_payer"].as_object().unwrap() {
            assert_estimate(e, &format!("cost_by_payer.{payer}"));
        }
        for (name, e) in arm["outcomes"].as_object().unwrap() {
            assert_estimate(e, &format!("outcomes.{name}"));
        }
    }

    let comparisons = v["comparisons"].as_array().expect("comparisons is an array");
    assert_eq!(comparisons.len(), arms.len() - 1);
    for c in comparisons {
        assert_eq!(
            keys(c),
            sorted(&[
                "intervention",
                "perspective",
                "savings",
                "intervention_cost",
                "npv",
                "bcr",
                "roi",
                "prob_npv_positive",
                "prob_npv_positive_se",
                "payback_year",
                "by_payer",
                "incremental_outcomes",
                "icer",
                "break_even",
                "program",
                "adjustments"
            ])
        );
        assert!(c["intervention"].is_string());
        assert_eq!(c["perspective"], "fiscal");
        for k in ["savings", "intervention_cost", "npv"] {
            assert_estimate(&c[k], k);
        }
        for k in ["bcr", "roi"] {
            if !c[k].is_null() {
                assert_estimate(&c[k], k);
            }
        }
        assert!(c["prob_npv_positive"].is_number());
        assert!(c["prob_npv_positive_se"].is_number());
        assert_eq!(keys(&c["payback_year"]), sorted(&["discounted", "undiscounted"]));
        for k in ["discounted", "undiscounted"] {
            let p = &c["payback_year"][k];
            assert!(p.is_number() || p.is_null(), "payback_year.{k} = {p}");
        }
        // DESIGN §7's break-even keys, with what the analysis adds: the answer, the named state, the curve.
        assert_eq!(
            keys(&c["break_even"]),
            sorted(&[
                "effect_scale",
                "children",
                "effect_answer",
                "state",
                "excess_cost",
                "curve"
            ])
        );
        for (payer, f) in c["by_payer"].as_object().unwrap() {
            assert_eq!(
                keys(f),
                sorted(&["cost", "savings", "net", "payback_year"]),
                "by_payer.{payer}"
            );
            assert_eq!(keys(&f["payback_year"]), sorted(&["discounted", "undiscounted"]));
        }
        for (name, e) in c["incremental_outcomes"].as_object().unwrap() {
            assert_estimate(e, &format!("incremental_outcomes.{name}"));
        }
        for (name, x) in c["icer"].as_object().unwrap() {
            assert!(x.is_number() || x.is_null(), "icer.{name} = {x}");
        }
        assert!(c["program"].is_object());
    }

    let mut found = 0;
    all_estimates_exact(&v, "", &mut found);
    assert!(found > 10, "only {found} estimates");
}

#[test]
fn run_options_are_accepted() {
    let o = lifecost(&["run", "--engine", "cohort"]);
    assert_success(&o);
    assert!(stdout(&o).contains("NPV"));

    let o = lifecost(&[
        "run",
        "--engine",
        "cohort",
        "--perspective",
        "societal",
        "--seed",
        "7",
        "--format",
        "json",
    ]);
    assert_success(&o);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["seed"], 7);
    assert_eq!(v["engine"], "cohort");
    assert_eq!(v["comparisons"][0]["perspective"], "societal");
}

#[test]
fn init_prints_the_default_scenario() {
    let text = init_text();
    assert_eq!(text, lifecost::scenario::DEFAULT_SCENARIO_TOML);
    let s = lifecost::Scenario::from_toml_str(&text).expect("init output is a valid scenario");
    assert!(!s.interventions().is_empty());
}

#[test]
fn validate_accepts_a_valid_file() {
    let f = TempFile::new("valid", "toml", &init_text());
    let o = lifecost(&["validate", f.arg()]);
    assert_success(&o);
    let out = stdout(&o);
    assert!(out.contains("valid"), "{out}");
    assert!(stderr(&o).is_empty(), "stderr: {}", stderr(&o));

    // The default, with no file named.
    assert_success(&lifecost(&["validate"]));
}

#[test]
fn run_reads_toml_and_json_files_alike() {
    let text = init_text();
    let toml = TempFile::new("run", "toml", &text);
    let spec = lifecost::Scenario::from_toml_str(&text).unwrap();
    let json = TempFile::new("run", "json", &serde_json::to_string_pretty(spec.spec()).unwrap());
    let a = lifecost(&["run", toml.arg(), "--format", "json"]);
    let b = lifecost(&["run", json.arg(), "--format", "json"]);
    assert_success(&a);
    assert_success(&b);
    assert_eq!(stdout(&a), stdout(&b));
    // And the same as the embedded default.
    assert_eq!(stdout(&a), stdout(&lifecost(&["run", "--format", "json"])));
}

/// The 1-based line of the first line of `text` that starts with `prefix`.
fn line_starting_with(text: &str, prefix: &str) -> usize {
    text.lines()
        .position(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starts with `{prefix}`"))
        + 1
}

#[test]
fn validate_reports_a_bad_file_on_one_line() {
    let text = init_text().replacen("costs = 0.035", "costs = 1.5", 1);
    let line = line_starting_with(&text, "costs = 1.5");
    let f = TempFile::new("bad", "toml", &text);
    let o = lifecost(&["validate", f.arg()]);
    assert_eq!(o.status.code(), Some(2), "stderr: {}", stderr(&o));
    assert!(o.stdout.is_empty(), "stdout: {}", stdout(&o));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "not one line:\n{err}");
    assert!(err.ends_with('\n'));
    let first = err.lines().next().unwrap();
    assert!(first.starts_with("error: "), "{first}");
    assert!(first.contains("discounting.costs"), "no field path: {first}");
    assert!(first.contains("is 1.5"), "no value: {first}");
    assert!(
        first.contains(&format!("(line {line}, column 9)")),
        "no line {line}: {first}"
    );

    // `run` refuses the same file the same way.
    let o = lifecost(&["run", f.arg()]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o), err);
}

#[test]
fn validate_reports_a_read_error_on_one_line() {
    // A misspelt key: refused while reading, with its path and line.
    let text = init_text().replacen("\ncurrency = ", "\ncurency = ", 1);
    let line = line_starting_with(&text, "curency = ");
    let f = TempFile::new("typo", "toml", &text);
    let o = lifecost(&["validate", f.arg()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "not one line:\n{err}");
    assert!(err.starts_with("error: scenario.curency: unknown field"), "{err}");
    assert!(err.contains(&format!("(line {line}, column 1)")), "{err}");
}

#[test]
fn validate_reports_a_multiline_parser_message_on_one_line() {
    let f = TempFile::new("syntax", "toml", "[scenario\nname = 1\n");
    let o = lifecost(&["validate", f.arg()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "not one line:\n{err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains("(line 1, column"), "{err}");
}

#[test]
fn missing_file_exits_2() {
    let path = TempFile::path("missing", "toml");
    let p = path.to_str().unwrap();
    for cmd in ["validate", "run"] {
        let o = lifecost(&[cmd, p]);
        assert_eq!(o.status.code(), Some(2), "{cmd}");
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "not one line:\n{err}");
        assert!(err.starts_with("error: cannot read"), "{err}");
        assert!(err.contains(p), "{err}");
        assert!(o.stdout.is_empty());
    }
}

#[test]
fn non_utf8_and_empty_files_exit_2() {
    let path = TempFile::path("binary", "toml");
    std::fs::write(&path, b"\xff\xfe\x00garbage").unwrap();
    let f = TempFile(path);
    let o = lifecost(&["validate", f.arg()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).starts_with("error: "));
    assert!(stderr(&o).contains("not UTF-8"));

    let f = TempFile::new("empty", "toml", "");
    let o = lifecost(&["validate", f.arg()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("missing field `scenario`"), "{}", stderr(&o));
}

#[test]
fn unknown_flag_exits_2() {
    for args in [
        &["run", "--bogus"][..],
        &["--bogus"][..],
        &["run", "--engine", "warp-drive"][..],
        &["run", "--format", "xml"][..],
        &["frobnicate"][..],
    ] {
        let o = lifecost(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("error"), "{args:?}");
        assert!(o.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn help_and_version_exit_0() {
    let o = lifecost(&["--help"]);
    assert_success(&o);
    assert!(stdout(&o).contains("validate"));
    let o = lifecost(&["--version"]);
    assert_success(&o);
    assert!(stdout(&o).contains(env!("CARGO_PKG_VERSION")));
}

#[test]
fn out_of_range_program_start_year_is_bad_input_not_a_panic() {
    let text = init_text();
    let needle = "program = {";
    assert!(text.contains(needle), "the default has a program table");
    let text = text.replacen(needle, "program = { start_year = 2147483647,", 1);
    let line = text
        .lines()
        .position(|l| l.contains("start_year = 2147483647"))
        .unwrap()
        + 1;
    let f = TempFile::new("start-year", "toml", &text);
    let o = lifecost(&["run", f.arg(), "--format", "json"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.lines().count(), 1, "not one line:\n{err}");
    assert!(
        err.starts_with("error: interventions[0].program.start_year: is 2147483647"),
        "{err}"
    );
    assert!(err.contains(&format!("(line {line}, column")), "{err}");
}

#[test]
fn psa_json_is_byte_identical_on_one_and_two_threads() {
    let on = |threads: &str| {
        let o = Command::new(env!("CARGO_BIN_EXE_lifecost"))
            .args(["run", "--draws", "200", "--seed", "7", "--format", "json"])
            .env("RAYON_NUM_THREADS", threads)
            .output()
            .expect("the binary runs");
        assert!(o.status.success());
        o.stdout
    };
    let one = on("1");
    assert_eq!(one, on("2"));
    assert_eq!(one, on("2"), "two runs");
    let v: Value = serde_json::from_slice(&one).unwrap();
    assert_eq!(v["draws"], 200);
    assert!(v["comparisons"][0]["npv"]["se"].as_f64().is_some_and(|se| se > 0.0));
}

#[test]
fn sensitivity_and_voi_subcommands_print_their_analyses() {
    let o = lifecost(&["sensitivity", "--format", "json"]);
    assert_success(&o);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["intervention"], "tsi");
    assert!(v["bars"].as_array().is_some_and(|b| !b.is_empty()));
    assert_eq!(v["discount"].as_array().map(Vec::len), Some(4));
    let o = lifecost(&["sensitivity", "--intervention", "nobody"]);
    assert_eq!(o.status.code(), Some(2));

    let o = lifecost(&[
        "voi",
        "--draws",
        "60",
        "--seed",
        "2",
        "--evppi",
        "hr_placement",
        "--format",
        "json",
        "-q",
    ]);
    assert_success(&o);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    for perspective in ["fiscal", "societal"] {
        assert!(
            v[perspective]["evpi"]["per_child"].as_f64().is_some_and(|x| x >= 0.0),
            "{v}"
        );
        assert_eq!(v[perspective]["evppi"].as_array().map(Vec::len), Some(1));
    }
    let o = lifecost(&["voi", "--draws", "20", "--evppi", "no_such_parameter", "-q"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("voi.parameters[0]"), "{}", stderr(&o));
}

#[test]
fn sweep_writes_csv_atomically_and_never_overwrites_without_force() {
    let o = lifecost(&[
        "sweep",
        "--vary",
        "hr_placement=0.5:1.0:3",
        "--vary",
        "tsi_uptake=0.5,0.9",
    ]);
    assert_success(&o);
    let csv = stdout(&o);
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("hr_placement,tsi_uptake,intervention,npv"),
        "{}",
        lines[0]
    );
    assert_eq!(lines.len(), 1 + 3 * 2);

    let dir = std::env::temp_dir().join(format!("lifecost-sweep-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("grid.csv");
    let file_arg = file.to_str().unwrap();
    assert_success(&lifecost(&["sweep", "--vary", "hr_placement=0.7", "-o", file_arg]));
    let first = std::fs::read_to_string(&file).unwrap();
    let again = lifecost(&["sweep", "--vary", "hr_placement=0.8", "-o", file_arg]);
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("--force"), "{}", stderr(&again));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        first,
        "the existing file is untouched"
    );
    assert_success(&lifecost(&[
        "sweep",
        "--vary",
        "hr_placement=0.8",
        "-o",
        file_arg,
        "--force",
    ]));
    assert_ne!(std::fs::read_to_string(&file).unwrap(), first);
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "no temporary file left: {names:?}");
    std::fs::remove_dir_all(&dir).unwrap();

    let bad = lifecost(&["sweep", "--vary", "hr_placement=0.5:1"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("--vary[0]"), "{}", stderr(&bad));
}

#[test]
fn assumptions_lists_every_parameter_and_runs_flag_unverified_figures() {
    let o = lifecost(&["assumptions", "--format", "json"]);
    assert_success(&o);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let n = lifecost::Scenario::default_scenario().unwrap().parameters().len();
    assert_eq!(v["parameters"].as_array().map(Vec::len), Some(n));
    let text = stdout(&lifecost(&["assumptions"]));
    assert!(text.contains("unverified or assumptions"), "{text}");
    let run = stdout(&lifecost(&["run"]));
    assert!(
        run.contains("unverified figures"),
        "the run flags what it rests on:\n{run}"
    );
    let json = run_json();
    assert!(json["flags"].as_str().is_some_and(|f| f.contains("assumptions")));
}

#[test]
fn every_analysis_flags_the_unverified_figures_it_rests_on() {
    for args in [&["sensitivity"][..], &["voi", "--draws", "20", "-q"][..]] {
        let text = stdout(&lifecost(args));
        assert!(text.starts_with("! Uses "), "{args:?}:\n{text}");
        let mut json_args = args.to_vec();
        json_args.extend(["--format", "json"]);
        let v: Value = serde_json::from_str(&stdout(&lifecost(&json_args))).unwrap();
        assert!(
            v["flags"].as_str().is_some_and(|f| f.contains("unverified")),
            "{args:?}"
        );
    }
}
