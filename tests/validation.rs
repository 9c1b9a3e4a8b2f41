//! Every class of scenario error: the field path, the value, what was
//! expected, and (for TOML) the line and column. None of these may panic.

use lifecost::{Error, Scenario, ScenarioError, Simulation};

const HEADER: &str = r#"[scenario]
name = "Validation base"
currency = "SEK"
price_year = 2024
start_age = 10
end_age = 30
perspective = "fiscal"

[discounting]
costs = 0.035
outcomes = 0.035
timing = "mid"
cycle_counting = "beginning"
"#;

const PAYERS: &str = r#"
[payers]
kommun = { name = "Kommun", public = true }
production = { name = "Production loss", public = false }
"#;

const PARAMETERS: &str = r#"
[parameters]
care_cost = { gamma = { mean = 500000, sd = 100000 }, price_year = 2024, source = "test", confidence = "assumption" }
p_care = { beta = { mean = 0.05, sd = 0.01 } }
hr = { lognormal = { median = 0.7, ci95 = [0.5, 0.98] } }
"#;

const STATES: &str = r#"
[[states]]
id = "at_risk"
costs = { kommun = 20000 }

[[states]]
id = "care"
costs = { kommun = "$care_cost", production = 50000 }
entry_costs = { kommun = 30000 }
outcomes = { placement_years = 1 }

[[states]]
id = "on_track"

[[states]]
id = "dead"
absorbing = true
"#;

const TRANSITIONS: &str = r#"
[[transitions]]
ages = [10, 18]
from = "at_risk"
to = { care = "$p_care", on_track = 0.10, dead = 0.001 }

[[transitions]]
ages = [18, 30]
from = "at_risk"
to = { on_track = 0.05, dead = 0.002 }

[[transitions]]
from = "care"
to = { at_risk = 0.2, dead = 0.002 }

[[transitions]]
from = "on_track"
to = { at_risk = 0.01, dead = 0.001 }
"#;

const POPULATION: &str = r#"
[[population]]
name = "Pupils"
size = 40
start = { at_risk = 0.9, on_track = 0.1 }
"#;

const INTERVENTIONS: &str = r#"
[[interventions]]
id = "tsi"
name = "TSI"
enrol = { states = ["at_risk"], uptake = 0.9 }
program = { years = 2, children_per_year = 20, fixed_costs = { kommun = 100000 } }
participant_costs = { once = { kommun = 5000 }, per_year = { kommun = 10000 }, years = 2 }

[[interventions.effects]]
from = "at_risk"
to = ["care"]
hazard_ratio = "$hr"
duration = 3
half_life = 4
"#;

/// The valid base scenario.
fn base() -> String {
    [
        HEADER,
        PAYERS,
        PARAMETERS,
        STATES,
        TRANSITIONS,
        POPULATION,
        INTERVENTIONS,
    ]
    .concat()
}

/// `base()` with exactly one occurrence of `from` replaced by `to`.
fn with(from: &str, to: &str) -> String {
    replace_in(&base(), from, to)
}

fn replace_in(src: &str, from: &str, to: &str) -> String {
    assert_eq!(
        src.matches(from).count(),
        1,
        "`{from}` must occur exactly once in the source"
    );
    src.replacen(from, to, 1)
}

/// 1-based line and column (in characters) of the only occurrence of `needle`.
fn pos(src: &str, needle: &str) -> (usize, usize) {
    assert_eq!(
        src.matches(needle).count(),
        1,
        "`{needle}` must occur exactly once in the source"
    );
    let at = src.find(needle).unwrap();
    let before = &src[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap().chars().count() + 1;
    (line, column)
}

/// The scenario error of a TOML source that must be refused.
fn toml_err(src: &str) -> ScenarioError {
    match Scenario::from_toml_str(src) {
        Ok(_) => panic!("scenario was accepted:\n{src}"),
        Err(Error::Scenario(e)) => e,
        Err(other) => panic!("expected Error::Scenario, got {other:?}"),
    }
}

fn json_err(src: &str) -> ScenarioError {
    match Scenario::from_json_str(src) {
        Ok(_) => panic!("scenario was accepted:\n{src}"),
        Err(Error::Scenario(e)) => e,
        Err(other) => panic!("expected Error::Scenario, got {other:?}"),
    }
}
/// 1-based line and column just after the only occurrence of `prefix`.
fn pos_after(src: &str, prefix: &str) -> (usize, usize) {
    let (line, column) = pos(src, prefix);
    (line, column + prefix.chars().count())
}

/// 1-based line and column of the last occurrence of `needle`.
fn pos_last(src: &str, needle: &str) -> (usize, usize) {
    let at = src.rfind(needle).expect("needle present");
    let before = &src[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap().chars().count() + 1;
    (line, column)
}

/// Asserts the path, that the message contains every fragment, and the location.
#[track_caller]
fn check(e: &ScenarioError, path: &str, fragments: &[&str], at: Option<(usize, usize)>) {
    assert_eq!(e.path, path, "wrong path in {e}");
    for f in fragments {
        assert!(e.message.contains(f), "message lacks `{f}`: {e}");
    }
    if let Some((line, column)) = at {
        let loc = e.location.unwrap_or_else(|| panic!("no location in {e}"));
        assert_eq!((loc.line, loc.column), (line, column), "wrong location in {e}");
        let shown = e.to_string();
        assert!(
            shown.contains(&format!("(line {line}, column {column})")),
            "Display lacks the location: {shown}"
        );
    }
    if !path.is_empty() {
        assert!(
            e.to_string().starts_with(&format!("{path}: ")),
            "Display lacks the path: {e}"
        );
    }
}

/// Asserts only the line of the location (for errors whose column depends on the TOML parser).
#[track_caller]
fn check_line(e: &ScenarioError, line: usize) {
    let loc = e.location.unwrap_or_else(|| panic!("no location in {e}"));
    assert_eq!(loc.line, line, "wrong line in {e}");
}

/// A unique path under the temp directory; removed when dropped.
struct TempFile(std::path::PathBuf);

impl TempFile {
    fn new(tag: &str, ext: &str, bytes: &[u8]) -> TempFile {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let name = format!(
            "lifecost-validation-{tag}-{}-{nanos}-{}.{ext}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(name);
        std::fs::write(&path, bytes).expect("write temp file");
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

// ───────────────────────────── the valid base ──────────────────────────────

#[test]
fn base_scenario_is_valid() {
    let s = Scenario::from_toml_str(&base()).expect("base scenario is valid");
    assert_eq!(s.states().len(), 4);
    assert_eq!(s.payers().len(), 2);
    assert!(s.payers()[0].public && !s.payers()[1].public);
    assert!(s.states()[3].absorbing);
    assert_eq!(s.interventions().len(), 1);
    assert_eq!(s.interventions()[0].effects.len(), 1);
    assert!(s.parameter("care_cost").is_some());
    assert_eq!(s.population_size(), 40.0);
    let run = Simulation::new(&s).run().expect("base scenario runs");
    let npv = run.compare("tsi").expect("tsi").npv().mean;
    assert!(npv.is_finite(), "npv {npv}");
}

#[test]
fn toml_and_json_give_bit_identical_results() {
    let toml = Scenario::from_toml_str(&base()).unwrap();
    let json_text = serde_json::to_string(toml.spec()).unwrap();
    let json = Scenario::from_json_str(&json_text).expect("JSON form of the base is valid");
    assert_eq!(toml.hash(), json.hash());
    let a = Simulation::new(&toml).run().unwrap().to_json();
    let b = Simulation::new(&json).run().unwrap().to_json();
    assert_eq!(a, b);
    // Compare the text too, so that every float is bit-identical.
    assert_eq!(a.to_string(), b.to_string());

    // The same through files, chosen by extension.
    let pretty = serde_json::to_string_pretty(toml.spec()).unwrap();
    let jf = TempFile::new("parity", "json", pretty.as_bytes());
    let tf = TempFile::new("parity", "toml", base().as_bytes());
    let from_json = Scenario::from_path(&jf.0).unwrap();
    let from_toml = Scenario::from_path(&tf.0).unwrap();
    assert_eq!(
        Simulation::new(&from_json).run().unwrap().to_json().to_string(),
        Simulation::new(&from_toml).run().unwrap().to_json().to_string()
    );
}

// ───────────────────────────── unknown ids ──────────────────────────────────

#[test]
fn unknown_state_in_transition_from() {
    let src = with("from = \"care\"", "from = \"kare\"");
    let e = toml_err(&src);
    check(
        &e,
        "transitions[2].from",
        &[
            "`kare`",
            "is not a state",
            "expected one of: at_risk, care, on_track, dead",
        ],
        Some(pos(&src, "\"kare\"")),
    );
}

#[test]
fn unknown_state_in_transition_to() {
    let src = with("to = { at_risk = 0.2,", "to = { at_rsk = 0.2,");
    let e = toml_err(&src);
    check(
        &e,
        "transitions[2].to.at_rsk",
        &["`at_rsk`", "is not a state", "expected one of"],
        Some(pos_last(&src, "0.2, dead")),
    );
}

#[test]
fn unknown_state_in_population_start() {
    let src = with("on_track = 0.1 }", "on_trak = 0.1 }");
    let e = toml_err(&src);
    check(
        &e,
        "population[0].start.on_trak",
        &["`on_trak`", "is not a state", "expected one of"],
        Some(pos(&src, "0.1 }")),
    );
}

#[test]
fn unknown_state_in_enrol_states() {
    let src = with("states = [\"at_risk\"]", "states = [\"at-risk\"]");
    let e = toml_err(&src);
    check(
        &e,
        "interventions[0].enrol.states[0]",
        &["`at-risk`", "is not a state", "expected one of"],
        Some(pos(&src, "\"at-risk\"")),
    );
}

#[test]
fn unknown_state_in_effect_to() {
    let src = with("to = [\"care\"]", "to = [\"care\", \"prison\"]");
    let e = toml_err(&src);
    check(
        &e,
        "interventions[0].effects[0].to[1]",
        &["`prison`", "is not a state", "expected one of"],
        Some(pos(&src, "\"prison\"")),
    );
    // A single id rather than a list: the path has no index.
    let src = with("to = [\"care\"]", "to = \"prison\"");
    let e = toml_err(&src);
    check(
        &e,
        "interventions[0].effects[0].to",
        &["`prison`", "is not a state"],
        Some(pos(&src, "\"prison\"")),
    );
}

#[test]
fn unknown_state_in_effect_from() {
    let src = with(
        "from = \"at_risk\"\nto = [\"care\"]",
        "from = \"school\"\nto = [\"care\"]",
    );
    let e = toml_err(&src);
    check(
        &e,
        "interventions[0].effects[0].from",
        &["`school`", "is not a state"],
        Some(pos(&src, "\"school\"")),
    );
}

#[test]
fn unknown_payer_in_state_costs() {
    let src = with("costs = { kommun = 20000 }", "costs = { region = 20000 }");
    let e = toml_err(&src);
    check(
        &e,
        "states[0].costs.region",
        &["`region`", "is not a payer", "expected one of: kommun, production"],
        Some(pos(&src, "20000 }")),
    );
}

#[test]
fn unknown_payer_in_entry_costs() {
    let src = with("entry_costs = { kommun = 30000 }", "entry_costs = { komun = 30000 }");
    let e = toml_err(&src);
    check(
        &e,
        "states[1].entry_costs.komun",
        &["`komun`", "is not a payer", "expected one of: kommun, production"],
        Some(pos(&src, "30000 }")),
    );
}

#[test]
fn unknown_payer_in_fixed_costs() {
    let src = with("fixed_costs = { kommun = 100000 }", "fixed_costs = { state = 100000 }");
    let e = toml_err(&src);
    check(
        &e,
        "interventions[0].program.fixed_costs.state",
        &["`state`", "is not a payer", "expected one of"],
        Some(pos_after(&src, "fixed_costs = { state = ")),
    );
}

#[test]
fn unknown_payer_in_participant_costs() {
    let src = with("once = { kommun = 5000 }", "once = { school = 5000 }");
    let e = toml_err(&src);
    check(
        &e,
        "interventions[0].participant_costs.once.school",
        &["`school`", "is not a payer"],
        Some(pos(&src, "5000 }")),
    );
    let src = with("per_year = { kommun = 10000 }", "per_year = { school = 10000 }");
    let e = toml_err(&src);
    check(
        &e,
        "interventions[0].participant_costs.per_year.school",
        &["`school`", "is not a payer"],
        Some(pos(&src, "10000 }")),
    );
}

// ───────────────────────────── duplicates ───────────────────────────────────

#[test]
fn duplicate_state_ids() {
    let src = with("id = \"on_track\"", "id = \"care\"");
    let e = toml_err(&src);
    check(
        &e,
        "states[2].id",
        &["`care`", "used by two states", "expected unique ids"],
        Some({
            let (line, column) = pos_last(&src, "id = \"care\"");
            (line, column + 5)
        }),
    );
}

#[test]
fn duplicate_intervention_ids() {
    let src = base() + "\n[[interventions]]\nid = \"tsi\"\nenrol = { states = [\"care\"] }\n";
    let e = toml_err(&src);
    check(
        &e,
        "interventions[1].id",
        &["`tsi`", "used by two interventions", "expected unique ids"],
        Some(pos_last(&src, "\"tsi\"")),
    );
}

#[test]
fn duplicate_keys_are_a_toml_error() {
    let src = with(
        "production = { name = \"Production loss\", public = false }",
        "production = { name = \"Production loss\", public = false }\nkommun = { public = true }",
    );
    let e = toml_err(&src);
    assert!(e.message.contains("duplicate key"), "{e}");
    check_line(&e, pos(&src, "kommun = { public = true }").0);
}

// ───────────────────────────── probabilities ────────────────────────────────

#[test]
fn transition_row_summing_above_one() {
    let src = with("on_track = 0.10", "on_track = 0.96");
    let e = toml_err(&src);
    check(
        &e,
        "transitions[0].to",
        &["`at_risk`", "ages 10–18", "sum to 1.011", "expected at most 1"],
        Some(pos(&src, "{ care = \"$p_care\"")),
    );
}

#[test]
fn negative_probability() {
    let src = with("on_track = 0.10", "on_track = -0.1");
    let e = toml_err(&src);
    check(
        &e,
        "transitions[0].to.on_track",
        &["is -0.1", "expected a probability in [0, 1]"],
        Some(pos(&src, "-0.1")),
    );
}

#[test]
fn probability_above_one() {
    let src = with("on_track = 0.10", "on_track = 1.5");
    let e = toml_err(&src);
    check(
        &e,
        "transitions[0].to.on_track",
        &["is 1.5", "expected a probability in [0, 1]"],
        Some(pos(&src, "1.5")),
    );
}

#[test]
fn uptake_outside_unit_interval() {
    let src = with("uptake = 0.9", "uptake = 1.2");
    let e = toml_err(&src);
    check(
        &e,
        "interventions[0].enrol.uptake",
        &["is 1.2", "expected a probability in [0, 1]"],
        Some(pos(&src, "1.2")),
    );
}

#[test]
fn population_share_outside_unit_interval() {
    let src = with(
        "start = { at_risk = 0.9, on_track = 0.1 }",
        "start = { at_risk = 1.1, on_track = -0.1 }",
    );
    let e = toml_err(&src);
    check(
        &e,
        "population[0].start.at_risk",
        &["is 1.1", "expected a share in [0, 1]"],
        Some(pos(&src, "1.1")),
    );
}

// ───────────────────────────── NaN and infinity ─────────────────────────────

#[test]
fn nan_probability() {
    let src = with("on_track = 0.10", "on_track = nan");
    let e = toml_err(&src);
    check(
        &e,
        "transitions[0].to.on_track",
        &["is NaN", "expected a probability in [0, 1]"],
        Some(pos(&src, "nan")),
    );
}

#[test]
fn infinite_cost() {
    let src = with("costs = { kommun = 20000 }", "costs = { kommun = inf }");
    let e = toml_err(&src);
    check(
        &e,
        "states[0].costs.kommun",
        &["is inf", "expected an amount ≥ 0"],
        Some(pos(&src, "inf }")),
    );
    let src = with("costs = { kommun = 20000 }", "costs = { kommun = -inf }");
    let e = toml_err(&src);
    check(
        &e,
        "states[0].costs.kommun",
        &["is -inf", "expected an amount ≥ 0"],
        Some(pos(&src, "-inf")),
    );
}

#[test]
fn nan_and_inf_elsewhere() {
    // In a named parameter's value.
    let src = with("hr = {", "x = { value = nan }\nhr = {");
    let e = toml_err(&src);
    check(
        &e,
        "parameters.x.value",
        &["is NaN", "expected a finite number"],
        Some(pos(&src, "nan")),
    );
    // In a distribution argument.
    let src = with(
        "gamma = { mean = 500000, sd = 100000 }",
        "gamma = { mean = inf, sd = 100000 }",
    );
    let e = toml_err(&src);
    check(
        &e,
        "parameters.care_cost.gamma",
        &["gamma.mean is inf", "expected a finite number > 0"],
        None,
    );
    check_line(&e, pos(&src, "gamma = {").0);
    // In the population size and a share.
    let src = with("size = 40", "size = nan");
    let e = toml_err(&src);
    check(
        &e,
        "population[0].size",
        &["is NaN", "expected a number of children > 0"],
        Some(pos(&src, "nan")),
    );
    let src = with("on_track = 0.1 }", "on_track = nan }");
    let e = toml_err(&src);
    check(
        &e,
        "population[0].start.on_track",
        &["is NaN", "expected a share in [0, 1]"],
        Some(pos(&src, "nan")),
    );
    // In an effect duration.
    let src = with("duration = 3", "duration = inf");
    let e = toml_err(&src);
    check(
        &e,
        "interventions[0].effects[0].duration",
        &["is inf", "expected years ≥ 0"],
        Some(pos(&src, "inf")),
    );
    // In an effect's ratio.
    let src = with("hazard_ratio = \"$hr\"", "hazard_ratio = nan");
    let e = toml_err(&src);
    check(
        &e,
        "interventions[0].effects[0].hazard_ratio",
        &["is NaN", "expected a ratio ≥ 0"],
        Some(pos(&src, "nan")),
    );
}

// ───────────────────────────── costs ────────────────────────────────────────

#[test]
fn negative_state_cost() {
    let src = with("production = 50000", "production = -5");
    let e = toml_err(&src);
    check(
        &e,
        "states[1].costs.production",
        &["is -5", "expected an amount ≥ 0"],
        Some(pos(&src, "-5")),
    );
}

#[test]
fn negative_costs_everywhere() {
    for (from, to, path) in [
        (
            "entry_costs = { kommun = 30000 }",
            "entry_costs = { kommun = -1 }",
            "states[1].entry_costs.kommun",
        ),
        (
            "fixed_costs = { kommun = 100000 }",
            "fixed_costs = { kommun = -1 }",
            "interventions[0].program.fixed_costs.kommun",
        ),
        (
            "once = { kommun = 5000 }",
            "once = { kommun = -1 }",
            "interventions[0].participant_costs.once.kommun",
        ),
        (
            "per_year = { kommun = 10000 }",
            "per_year = { kommun = -1 }",
            "interventions[0].participant_costs.per_year.kommun",
        ),
    ] {
        let src = with(from, to);
        let e = toml_err(&src);
        check(&e, path, &["is -1", "expected an amount ≥ 0"], Some(pos(&src, "-1 }")));
    }
}

// ───────────────────────────── distributions ────────────────────────────────

#[test]
fn normal_used_as_a_cost() {
    let src = with(
        "costs = { kommun = 20000 }",
        "costs = { kommun = { normal = { mean = 20000, sd = 5000 } } }",
    );
    let e = toml_err(&src);
    check(
        &e,
        "states[0].costs.kommun",
        &[
            "normal mean 20000, sd 5000",
            "can take values in [-inf, inf]",
            "expected an amount ≥ 0",
        ],
        Some(pos(&src, "{ normal")),
    );
}

#[test]
fn lognormal_used_as_a_probability() {
    let src = with(
        "on_track = 0.10",
        "on_track = { lognormal = { mean = 0.1, sd = 0.02 } }",
    );
    let e = toml_err(&src);
    check(
        &e,
        "transitions[0].to.on_track",
        &[
            "lognormal",
            "can take values in [0, inf]",
            "expected a probability in [0, 1]",
        ],
        Some(pos(&src, "{ lognormal = { mean = 0.1")),
    );
}

#[test]
fn named_parameter_whose_support_does_not_fit() {
    // A gamma cost used as a probability: the message names the reference.
    let src = with("care = \"$p_care\"", "care = \"$care_cost\"");
    let src = replace_in(&src, "costs = { kommun = \"$care_cost\",", "costs = { kommun = 1,");
    let e = toml_err(&src);
    check(
        &e,
        "transitions[0].to.care",
        &["`$care_cost`", "gamma", "expected a probability in [0, 1]"],
        Some(pos(&src, "\"$care_cost\"")),
    );
    // A uniform reaching above 1 used as a probability.
    let src = with("on_track = 0.10", "on_track = { uniform = { min = 0, max = 2 } }");
    let e = toml_err(&src);
    check(
        &e,
        "transitions[0].to.on_track",
        &["uniform 0–2", "[0, 2]", "expected a probability"],
        None,
    );
}

#[test]
fn impossible_beta() {
    let src = with("beta = { mean = 0.05, sd = 0.01 }", "beta = { mean = 0.5, sd = 0.6 }");
    let e = toml_err(&src);
    check(
        &e,
        "parameters.p_care.beta",
        &["mean 0.5 and sd 0.6 is impossible", "expected sd < sqrt(mean·(1−mean))"],
        Some(pos(&src, "{ mean = 0.5")),
    );
    let src = with("beta = { mean = 0.05, sd = 0.01 }", "beta = { mean = 1.5, sd = 0.1 }");
    let e = toml_err(&src);
    check(
        &e,
        "parameters.p_care.beta",
        &["beta.mean is 1.5", "expected a number in (0, 1)"],
        None,
    );
}

#[test]
fn gamma_with_sd_not_positive() {
    for sd in ["0", "-100"] {
        let src = with("sd = 100000 }", &format!("sd = {sd} }}"));
        let e = toml_err(&src);
        check(
            &e,
            "parameters.care_cost.gamma",
            &[&format!("gamma.sd is {sd}"), "expected a finite number > 0"],
            Some(pos(&src, "{ mean = 500000")),
        );
    }
}

#[test]
fn lognormal_interval_not_around_median() {
    let src = with("ci95 = [0.5, 0.98]", "ci95 = [0.8, 0.98]");
    let e = toml_err(&src);
    check(
        &e,
        "parameters.hr.lognormal",
        &["ci95 [0.8, 0.98]", "median 0.7", "expected ci95[0] < median < ci95[1]"],
        Some(pos(&src, "{ median = 0.7")),
    );
}

#[test]
fn triangular_min_above_max() {
    let src = with(
        "hr = {",
        "tri = { triangular = { min = 10, mode = 5, max = 1 } }\nhr = {",
    );
    let e = toml_err(&src);
    check(
        &e,
        "parameters.tri.triangular",
        &["min 10, mode 5, max 1", "expected min ≤ mode ≤ max"],
        Some(pos(&src, "{ min = 10")),
    );
    let src = with("hr = {", "u = { uniform = { min = 3, max = 1 } }\nhr = {");
    let e = toml_err(&src);
    check(
        &e,
        "parameters.u.uniform",
        &["min 3 is not below max 1", "expected min < max"],
        None,
    );
    let src = with("hr = {", "p = { pert = { min = 0, mode = 5, max = 1 } }\nhr = {");
    let e = toml_err(&src);
    check(&e, "parameters.p.pert", &["mode 5", "expected min ≤ mode ≤ max"], None);
}

#[test]
fn wrong_distribution_arguments() {
    // `mode` is a known argument name, but not of a beta.
    let src = with(
        "beta = { mean = 0.05, sd = 0.01 }",
        "beta = { mean = 0.05, mode = 0.01 }",
    );
    let e = toml_err(&src);
    check(
        &e,
        "parameters.p_care.beta",
        &[
            "`mode` is not an argument of beta",
            "expected beta = { mean, sd }",
            "{ alpha, beta }",
        ],
        Some(pos(&src, "{ mean = 0.05")),
    );
    // A name no distribution takes: refused while reading, with its own path.
    let src = with(
        "beta = { mean = 0.05, sd = 0.01 }",
        "beta = { mean = 0.05, sdev = 0.01 }",
    );
    let e = toml_err(&src);
    check(
        &e,
        "parameters.p_care.beta.sdev",
        &["unknown field `sdev`", "expected one of"],
        Some(pos(&src, "sdev")),
    );
    // Extra arguments next to a complete form.
    let src = with(
        "gamma = { mean = 500000, sd = 100000 }",
        "gamma = { shape = 2, scale = 3, mode = 1 }",
    );
    let e = toml_err(&src);
    check(
        &e,
        "parameters.care_cost.gamma",
        &["`mode` is not an argument of gamma", "expected"],
        None,
    );
    // An unknown distribution.
    let src = with(
        "beta = { mean = 0.05, sd = 0.01 }",
        "weibull = { shape = 1, scale = 1 }",
    );
    let e = toml_err(&src);
    assert_eq!(e.path, "parameters.p_care.weibull", "{e}");
    assert!(e.message.contains("unknown field `weibull`"), "{e}");
    check_line(&e, pos(&src, "weibull").0);
}

#[test]
fn two_distributions_in_one_parameter() {
    let src = with(
        "p_care = { beta = { mean = 0.05, sd = 0.01 } }",
        "p_care = { beta = { mean = 0.05, sd = 0.01 }, uniform = { min = 0, max = 0.1 } }",
    );
    let e = toml_err(&src);
    check(
        &e,
        "parameters.p_care",
        &[
            "gives 2 of value and distributions",
            "expected exactly one of value, beta",
        ],
        Some(pos(&src, "{ beta = { mean = 0.05")),
    );
    // A value next to a distribution, and neither.
    let src = with("p_care = { beta", "p_care = { value = 0.05, beta");
    let e = toml_err(&src);
    check(&e, "parameters.p_care", &["gives 2 of value and distributions"], None);
    let src = with(
        "p_care = { beta = { mean = 0.05, sd = 0.01 } }",
        "p_care = { source = \"nothing\" }",
    );
    let e = toml_err(&src);
    check(&e, "parameters.p_care", &["gives 0 of value and distributions"], None);
}

// ───────────────────────────── age bands ────────────────────────────────────

#[test]
fn age_bands_overlapping() {
    let src = with("ages = [18, 30]", "ages = [17, 30]");
    let e = toml_err(&src);
    check(
        &e,
        "transitions[1].ages",
        &[
            "[17, 30]",
            "overlapping [10, 18]",
            "`at_risk`",
            "expected age bands that do not overlap",
        ],
        Some(pos(&src, "[17, 30]")),
    );
}

#[test]
fn age_bands_leaving_a_gap() {
    let src = with("ages = [18, 30]", "ages = [19, 30]");
    let e = toml_err(&src);
    check(
        &e,
        "transitions[1].ages",
        &[
            "[19, 30]",
            "leaving ages 18–19",
            "`at_risk`",
            "expected bands covering 10–30",
        ],
        Some(pos(&src, "[19, 30]")),
    );
    // A band that starts after start_age.
    let src = with("ages = [10, 18]", "ages = [11, 18]");
    let e = toml_err(&src);
    check(
        &e,
        "transitions[0].ages",
        &["leaving ages 10–11"],
        Some(pos(&src, "[11, 18]")),
    );
}

#[test]
fn age_bands_not_reaching_end_age() {
    let src = with("ages = [18, 30]", "ages = [18, 29]");
    let e = toml_err(&src);
    check(
        &e,
        "transitions[1].ages",
        &["`at_risk`", "end at age 29", "expected bands covering 10–30"],
        Some(pos(&src, "[18, 29]")),
    );
}

#[test]
fn age_band_reversed() {
    let src = with("ages = [18, 30]", "ages = [30, 18]");
    let e = toml_err(&src);
    check(
        &e,
        "transitions[1].ages",
        &["is [30, 18]", "expected [from, to) with from < to"],
        Some(pos(&src, "[30, 18]")),
    );
}

// ───────────────────────────── references ───────────────────────────────────

#[test]
fn undefined_reference_in_state_cost() {
    let src = with("\"$care_cost\"", "\"$care_costs\"");
    let e = toml_err(&src);
    check(
        &e,
        "states[1].costs.kommun",
        &[
            "`$care_costs`",
            "not defined",
            "expected the name of a [parameters] entry",
        ],
        Some(pos(&src, "\"$care_costs\"")),
    );
}

#[test]
fn undefined_reference_in_parameter_alias() {
    let src = with("hr = {", "alias = { value = \"$x\", source = \"copied\" }\nhr = {");
    let e = toml_err(&src);
    check(
        &e,
        "parameters.alias",
        &["`$x`", "not defined", "expected the name of a [parameters] entry"],
        Some(pos(&src, "{ value = \"$x\"")),
    );
    // Written directly.
    let src = with("hr = {", "alias = \"$x\"\nhr = {");
    let e = toml_err(&src);
    check(
        &e,
        "parameters.alias",
        &["`$x`", "not defined"],
        Some(pos(&src, "\"$x\"")),
    );
}

#[test]
fn alias_to_a_defined_parameter_is_accepted() {
    let src = with("hr = {", "a = \"$b\"\nb = { value = \"$care_cost\" }\nhr = {");
    let src = replace_in(&src, "kommun = \"$care_cost\"", "kommun = \"$a\"");
    let s = Scenario::from_toml_str(&src).expect("alias chain is valid");
    let a = Scenario::from_toml_str(&base()).unwrap();
    // The alias resolves to the very parameter it names.
    assert_eq!(s.states()[1].costs, a.states()[1].costs);
    let run = |s: &Scenario| Simulation::new(s).run().unwrap().to_json()["comparisons"].to_string();
    assert_eq!(run(&s), run(&a));
}

#[test]
fn cyclic_references() {
    let src = with("hr = {", "a = \"$b\"\nb = { value = \"$a\" }\nhr = {");
    let e = toml_err(&src);
    check(
        &e,
        "parameters.a",
        &["refers to itself", "a → b → a", "expected a chain ending in a value"],
        Some(pos(&src, "\"$b\"")),
    );
}

#[test]
fn self_reference() {
    let src = with("hr = {", "me = \"$me\"\nhr = {");
    let e = toml_err(&src);
    check(
        &e,
        "parameters.me",
        &["refers to itself", "me → me"],
        Some(pos(&src, "\"$me\"")),
    );
}

#[test]
fn reference_inside_an_inline_table() {
    let src = with(
        "costs = { kommun = 20000 }",
        "costs = { kommun = { value = \"$care_cost\" } }",
    );
    let e = toml_err(&src);
    check(
        &e,
        "states[0].costs.kommun.value",
        &["reference inside an inline table"],
        None,
    );
    check_line(&e, pos(&src, "{ value").0);
}

// ───────────────────────────── reading ──────────────────────────────────────

#[test]
fn unknown_field() {
    // Inside an inline number table.
    let src = with(
        "costs = { kommun = 20000 }",
        "costs = { kommun = { gama = { mean = 1, sd = 1 } } }",
    );
    let e = toml_err(&src);
    check(
        &e,
        "states[0].costs.kommun.gama",
        &["unknown field `gama`", "expected one of `value`, `beta`, `gamma`"],
        Some(pos(&src, "gama")),
    );
    // A misspelt array-of-tables name.
    let src = with("[[interventions.effects]]", "[[interventions.effect]]");
    let e = toml_err(&src);
    assert_eq!(e.path, "interventions[0].effect", "{e}");
    assert!(e.message.contains("unknown field `effect`"), "{e}");
    check_line(&e, pos(&src, "[[interventions.effect]]").0);
    let src = with("id = \"care\"\n", "id = \"care\"\ncolour = \"red\"\n");
    let e = toml_err(&src);
    check(
        &e,
        "states[1].colour",
        &["unknown field `colour`", "expected one of `id`, `name`, `costs`"],
        Some(pos(&src, "colour")),
    );
    // In the header.
    let src = with("perspective = \"fiscal\"", "perspective = \"fiscal\"\nhorizon = 70");
    let e = toml_err(&src);
    check(
        &e,
        "scenario.horizon",
        &["unknown field `horizon`"],
        Some(pos(&src, "horizon")),
    );
    // In an inline table.
    let src = with("{ years = 2,", "{ yrs = 2,");
    let e = toml_err(&src);
    check(
        &e,
        "interventions[0].program.yrs",
        &["unknown field `yrs`"],
        Some(pos(&src, "yrs")),
    );
}

#[test]
fn wrong_type() {
    let src = with("size = 40", "size = \"forty\"");
    let e = toml_err(&src);
    check(
        &e,
        "population[0].size",
        &["\"forty\"", "expected f64"],
        Some(pos(&src, "\"forty\"")),
    );
    // A string that is not a reference where a number is expected.
    let src = with("costs = { kommun = 20000 }", "costs = { kommun = \"20000\" }");
    let e = toml_err(&src);
    check(
        &e,
        "states[0].costs.kommun",
        &["\"20000\"", "expected a number or a \"$name\" reference"],
        Some(pos(&src, "\"20000\"")),
    );
    // A float where an integer is expected.
    let src = with("start_age = 10", "start_age = 10.5");
    let e = toml_err(&src);
    check(
        &e,
        "scenario.start_age",
        &["10.5", "expected u32"],
        Some(pos(&src, "10.5")),
    );
    // A negative age.
    let src = with("start_age = 10", "start_age = -1");
    let e = toml_err(&src);
    check(&e, "scenario.start_age", &["-1", "expected u32"], Some(pos(&src, "-1")));
    // An unknown variant.
    let src = with("timing = \"mid\"", "timing = \"middle\"");
    let e = toml_err(&src);
    check(
        &e,
        "discounting.timing",
        &["unknown variant `middle`", "expected one of `start`, `mid`, `end`"],
        Some(pos(&src, "\"middle\"")),
    );
}

#[test]
fn toml_syntax_error_has_a_location() {
    let src = with("size = 40", "size = = 40");
    let e = toml_err(&src);
    assert_eq!(e.path, "");
    check_line(&e, pos(&src, "size = = 40").0);
}

#[test]
fn missing_required_field() {
    let src = with("size = 40\n", "");
    let e = toml_err(&src);
    assert_eq!(e.path, "population[0]", "{e}");
    assert!(e.message.contains("missing field `size`"), "{e}");
    assert!(e.location.is_some(), "{e}");
}

// ───────────────────────────── population and header ────────────────────────

#[test]
fn population_shares_not_summing_to_one() {
    let src = with("on_track = 0.1 }", "on_track = 0.2 }");
    let e = toml_err(&src);
    check(
        &e,
        "population[0].start",
        &["shares sum to 1.1", "expected 1"],
        Some(pos(&src, "{ at_risk = 0.9")),
    );
    let src = with("on_track = 0.1 }", "on_track = 0.05 }");
    let e = toml_err(&src);
    check(&e, "population[0].start", &["shares sum to 0.95", "expected 1"], None);
}

#[test]
fn population_size_not_positive() {
    let src = with("size = 40", "size = 0");
    let e = toml_err(&src);
    check(
        &e,
        "population[0].size",
        &["is 0", "expected a number of children > 0"],
        Some(pos(&src, "0\nstart")),
    );
}

#[test]
fn end_age_not_above_start_age() {
    for end in ["10", "5"] {
        let src = with("end_age = 30", &format!("end_age = {end}"));
        let e = toml_err(&src);
        check(
            &e,
            "scenario.end_age",
            &[&format!("is {end}"), "expected an age above start_age 10"],
            Some(pos(&src, &format!("{end}\nperspective"))),
        );
    }
}

#[test]
fn horizon_too_long() {
    let src = with("end_age = 30", "end_age = 1000");
    let e = toml_err(&src);
    check(
        &e,
        "scenario.end_age",
        &["is 1000", "horizon of 990 years", "expected at most 150"],
        Some(pos(&src, "1000\nperspective")),
    );
}

#[test]
fn price_year_not_a_year() {
    let src = with("price_year = 2024\nstart_age", "price_year = 24\nstart_age");
    let e = toml_err(&src);
    check(
        &e,
        "scenario.price_year",
        &["is 24", "expected a calendar year"],
        Some(pos(&src, "24\nstart_age")),
    );
}

// ───────────────────────────── transitions and effects ──────────────────────

#[test]
fn transitions_out_of_an_absorbing_state() {
    let src = with(
        "\n[[population]]",
        "\n[[transitions]]\nfrom = \"dead\"\nto = { at_risk = 0.1 }\n\n[[population]]",
    );
    let e = toml_err(&src);
    check(
        &e,
        "transitions[4].from",
        &["`dead` is absorbing", "expected no transitions out of it"],
        Some(pos(&src, "\"dead\"\nto")),
    );
}

#[test]
fn transition_into_the_same_state() {
    let src = with("to = { at_risk = 0.2,", "to = { care = 0.2,");
    let e = toml_err(&src);
    check(
        &e,
        "transitions[2].to.care",
        &["into the state itself"],
        Some(pos(&src, "0.2, dead")),
    );
}

#[test]
fn effect_with_no_measure() {
    let src = with("hazard_ratio = \"$hr\"\n", "");
    let e = toml_err(&src);
    check(
        &e,
        "interventions[0].effects[0]",
        &[
            "gives 0 effect measures",
            "expected exactly one of hazard_ratio, relative_risk, odds_ratio, effect_size_d",
        ],
        None,
    );
    check_line(&e, pos(&src, "[[interventions.effects]]").0);
}

#[test]
fn effect_with_two_measures() {
    let src = with("hazard_ratio = \"$hr\"", "hazard_ratio = \"$hr\"\nodds_ratio = 0.8");
    let e = toml_err(&src);
    check(
        &e,
        "interventions[0].effects[0]",
        &["gives 2 effect measures", "expected exactly one of"],
        None,
    );
    check_line(&e, pos(&src, "[[interventions.effects]]").0);
}

#[test]
fn effect_out_of_an_absorbing_state_or_into_itself() {
    let src = with(
        "from = \"at_risk\"\nto = [\"care\"]",
        "from = \"dead\"\nto = [\"care\"]",
    );
    let e = toml_err(&src);
    check(
        &e,
        "interventions[0].effects[0].from",
        &["`dead` is absorbing"],
        Some(pos(&src, "\"dead\"\nto")),
    );
    let src = with("to = [\"care\"]", "to = [\"at_risk\"]");
    let e = toml_err(&src);
    check(
        &e,
        "interventions[0].effects[0].to",
        &["`at_risk`", "the state the effect starts from", "expected destinations"],
        Some({
            let (line, column) = pos(&src, "to = [\"at_risk\"]");
            (line, column + 5)
        }),
    );
}

#[test]
fn negative_ratio_and_bad_timing_of_an_effect() {
    let src = with("hazard_ratio = \"$hr\"", "hazard_ratio = -0.5");
    let e = toml_err(&src);
    check(
        &e,
        "interventions[0].effects[0].hazard_ratio",
        &["is -0.5", "expected a ratio ≥ 0"],
        Some(pos(&src, "-0.5")),
    );
    let src = with("half_life = 4", "half_life = 0");
    let e = toml_err(&src);
    check(
        &e,
        "interventions[0].effects[0].half_life",
        &["is 0", "expected years > 0"],
        Some(pos_after(&src, "half_life = ")),
    );
    let src = with("duration = 3", "duration = -3");
    let e = toml_err(&src);
    check(
        &e,
        "interventions[0].effects[0].duration",
        &["is -3", "expected years ≥ 0"],
        Some(pos(&src, "-3")),
    );
}

#[test]
fn relative_risk_pushing_a_row_above_one_at_run_time() {
    let src = with("hazard_ratio = \"$hr\"", "relative_risk = 20");
    let s = Scenario::from_toml_str(&src).expect("a relative risk ≥ 0 passes the check");
    let e = match Simulation::new(&s).run() {
        Ok(_) => panic!("a relative risk of 20 on p = 0.05 must fail at run time"),
        Err(Error::Scenario(e)) => e,
        Err(other) => panic!("expected Error::Scenario, got {other:?}"),
    };
    check(
        &e,
        "interventions[0].effects[0]",
        &[
            "`at_risk`",
            "at age 10",
            "arm `tsi`",
            "sum to 1.101",
            "expected at most 1",
        ],
        None,
    );
    check_line(&e, pos(&src, "[[interventions.effects]]").0);
}

// ───────────────────────────── discounting ──────────────────────────────────

#[test]
fn discount_rate_out_of_range() {
    for (rate, shown) in [("1.5", "1.5"), ("-0.01", "-0.01"), ("nan", "NaN"), ("1", "1")] {
        let src = with("costs = 0.035", &format!("costs = {rate}"));
        let e = toml_err(&src);
        check(
            &e,
            "discounting.costs",
            &[&format!("is {shown};"), "expected an annual rate in [0, 1)"],
            Some(pos(&src, &format!("{rate}\noutcomes"))),
        );
    }
    let src = with("outcomes = 0.035", "outcomes = 2");
    let e = toml_err(&src);
    check(
        &e,
        "discounting.outcomes",
        &["is 2", "expected an annual rate"],
        Some(pos(&src, "2\ntiming")),
    );
}

#[test]
fn bad_discount_schedule() {
    // The first step must start at year 0.
    let src = with("costs = 0.035", "costs = [{ from_year = 5, rate = 0.035 }]");
    let e = toml_err(&src);
    check(
        &e,
        "discounting.costs[0].from_year",
        &["is 5", "expected 0 for the first step and increasing years"],
        Some(pos(&src, "5, rate")),
    );
    // Years must increase.
    let src = with(
        "costs = 0.035",
        "costs = [{ from_year = 0, rate = 0.035 }, { from_year = 0, rate = 0.03 }]",
    );
    let e = toml_err(&src);
    check(
        &e,
        "discounting.costs[1].from_year",
        &["is 0", "increasing years"],
        Some(pos(&src, "0, rate = 0.03 ")),
    );
    // A rate out of range in a step.
    let src = with(
        "costs = 0.035",
        "costs = [{ from_year = 0, rate = 0.035 }, { from_year = 30, rate = 1.2 }]",
    );
    let e = toml_err(&src);
    check(
        &e,
        "discounting.costs[1].rate",
        &["is 1.2", "expected an annual rate in [0, 1)"],
        Some(pos(&src, "1.2")),
    );
    // An empty schedule.
    let src = with("costs = 0.035", "costs = []");
    let e = toml_err(&src);
    check(&e, "discounting.costs", &["empty schedule"], Some(pos(&src, "[]")));
    // A valid schedule is accepted.
    let src = with(
        "costs = 0.035",
        "costs = [{ from_year = 0, rate = 0.035 }, { from_year = 30, rate = 0.03 }]",
    );
    Scenario::from_toml_str(&src).expect("a declining schedule is valid");
}

#[test]
fn discount_rate_of_the_wrong_shape() {
    let src = with("costs = 0.035", "costs = \"high\"");
    let e = toml_err(&src);
    check(
        &e,
        "discounting.costs",
        &["\"high\"", "expected a rate such as 0.035, or a schedule"],
        Some(pos(&src, "\"high\"")),
    );
    let src = with("costs = 0.035", "costs = [0.035]");
    let e = toml_err(&src);
    assert!(e.path.starts_with("discounting.costs"), "{e}");
    check_line(&e, pos(&src, "[0.035]").0);
}

// ───────────────────────────── empty sections and ids ───────────────────────

#[test]
fn empty_payers() {
    let src = [
        HEADER,
        "\n[payers]\n",
        PARAMETERS,
        STATES,
        TRANSITIONS,
        POPULATION,
        INTERVENTIONS,
    ]
    .concat();
    let e = toml_err(&src);
    check(&e, "payers", &["is empty", "expected at least one payer"], None);
    check_line(&e, pos(&src, "[payers]").0);
}

#[test]
fn empty_states() {
    let src = [
        "states = []\n",
        HEADER,
        PAYERS,
        PARAMETERS,
        TRANSITIONS,
        POPULATION,
        INTERVENTIONS,
    ]
    .concat();
    let e = toml_err(&src);
    check(
        &e,
        "states",
        &["is empty", "expected at least one state"],
        Some((1, 10)),
    );
}

#[test]
fn empty_population() {
    let src = [
        "population = []\n",
        HEADER,
        PAYERS,
        PARAMETERS,
        STATES,
        TRANSITIONS,
        INTERVENTIONS,
    ]
    .concat();
    let e = toml_err(&src);
    check(
        &e,
        "population",
        &["is empty", "expected at least one [[population]] group"],
        Some((1, 14)),
    );
}

#[test]
fn empty_enrol_states() {
    let src = with("states = [\"at_risk\"]", "states = []");
    let e = toml_err(&src);
    check(
        &e,
        "interventions[0].enrol.states",
        &["is empty"],
        Some(pos(&src, "[]")),
    );
}

#[test]
fn invalid_id_characters() {
    let src = with("id = \"at_risk\"", "id = \"at risk\"");
    let e = toml_err(&src);
    check(
        &e,
        "states[0].id",
        &[
            "`at risk` is not a valid id",
            "expected 1–64 ASCII letters, digits, `_` or `-`",
        ],
        Some(pos(&src, "\"at risk\"")),
    );
    let src = with("id = \"tsi\"", "id = \"tsi/2\"");
    let e = toml_err(&src);
    check(
        &e,
        "interventions[0].id",
        &["`tsi/2` is not a valid id"],
        Some(pos(&src, "\"tsi/2\"")),
    );
    let src = with("id = \"on_track\"", "id = \"\"");
    let e = toml_err(&src);
    check(&e, "states[2].id", &["`` is not a valid id"], Some(pos(&src, "\"\"\n")));
    let src = with("hr = {", "\"bad name\" = 1\nhr = {");
    let e = toml_err(&src);
    check(&e, "parameters.bad name", &["`bad name` is not a valid id"], None);
    let src = with("kommun = { name", "\"kommun+\" = { name");
    let e = toml_err(&src);
    check(
        &e,
        "payers.kommun+",
        &["`kommun+` is not a valid id"],
        Some(pos(&src, "{ name = \"Kommun\"")),
    );
    let src = with("placement_years = 1", "\"placement years\" = 1");
    let e = toml_err(&src);
    check(
        &e,
        "states[1].outcomes.placement years",
        &["`placement years` is not a valid id"],
        None,
    );
    let long = "x".repeat(65);
    let src = with("id = \"on_track\"", &format!("id = \"{long}\""));
    let e = toml_err(&src);
    check(&e, "states[2].id", &["is not a valid id"], None);
}

#[test]
fn status_quo_is_a_reserved_intervention_id() {
    let src = with("id = \"tsi\"", "id = \"status_quo\"");
    let e = toml_err(&src);
    check(
        &e,
        "interventions[0].id",
        &["`status_quo`", "expected another id"],
        Some(pos(&src, "\"status_quo\"")),
    );
}

#[test]
fn program_and_participant_years() {
    let src = with("{ years = 2,", "{ years = 0,");
    let e = toml_err(&src);
    check(
        &e,
        "interventions[0].program.years",
        &["is 0", "expected 1–100 program years"],
        None,
    );
    let src = with("years = 2 }", "years = 0 }");
    let e = toml_err(&src);
    check(
        &e,
        "interventions[0].participant_costs.years",
        &["is 0", "expected 1–150 years"],
        None,
    );
    let src = with("children_per_year = 20", "children_per_year = -20");
    let e = toml_err(&src);
    check(
        &e,
        "interventions[0].program.children_per_year",
        &["is -20", "expected a number of children > 0"],
        None,
    );
}

// ───────────────────────────── JSON ─────────────────────────────────────────

fn base_json() -> serde_json::Value {
    let s = Scenario::from_toml_str(&base()).unwrap();
    serde_json::to_value(s.spec()).unwrap()
}

#[test]
fn json_read_error_has_path_and_location() {
    let mut v = base_json();
    v["population"][0]["size"] = serde_json::json!("forty");
    let text = serde_json::to_string_pretty(&v).unwrap();
    let e = json_err(&text);
    assert_eq!(e.path, "population[0].size", "{e}");
    assert!(
        e.message.contains("\"forty\"") && e.message.contains("expected f64"),
        "{e}"
    );
    check_line(&e, pos(&text, "\"forty\"").0);
    // serde_json's location is not repeated in the message.
    assert!(!e.message.contains(" at line "), "{e}");
}

#[test]
fn json_unknown_field_and_syntax_error() {
    let mut v = base_json();
    v["states"][1]["colour"] = serde_json::json!("red");
    let text = serde_json::to_string_pretty(&v).unwrap();
    let e = json_err(&text);
    assert_eq!(e.path, "states[1].colour", "{e}");
    assert!(e.message.contains("unknown field `colour`"), "{e}");
    check_line(&e, pos(&text, "\"colour\"").0);

    let e = json_err("{\n  \"scenario\": {\n    \"name\": \"x\",\n  }\n}");
    assert!(e.location.is_some(), "{e}");
    check_line(&e, 4);

    let e = json_err("{} trailing");
    assert!(e.location.is_some(), "{e}");
}

#[test]
fn json_check_error_has_the_same_path_as_toml() {
    let mut v = base_json();
    v["states"][1]["costs"]["production"] = serde_json::json!(-5);
    let e = json_err(&v.to_string());
    check(
        &e,
        "states[1].costs.production",
        &["is -5", "expected an amount ≥ 0"],
        None,
    );

    let mut v = base_json();
    v["transitions"][0]["to"]["on_track"] = serde_json::json!(0.96);
    let e = json_err(&v.to_string());
    check(
        &e,
        "transitions[0].to",
        &["`at_risk`", "ages 10–18", "sum to 1.011"],
        None,
    );

    let mut v = base_json();
    v["parameters"]["me"] = serde_json::json!("$me");
    let e = json_err(&v.to_string());
    check(&e, "parameters.me", &["me → me"], None);
}

#[test]
fn json_number_out_of_range_for_an_integer() {
    let mut v = base_json();
    v["scenario"]["start_age"] = serde_json::json!(u64::MAX);
    let e = json_err(&v.to_string());
    assert_eq!(e.path, "scenario.start_age", "{e}");
    assert!(e.location.is_some());
}

#[test]
fn json_duplicate_keys_are_refused() {
    // serde_json would let the last key win; TOML refuses a duplicate key, so JSON must too.
    let v = base_json();
    let text = v.to_string().replacen(
        "\"costs\":{\"kommun\":20000.0}",
        "\"costs\":{\"kommun\":-5.0,\"kommun\":20000.0}",
        1,
    );
    assert_ne!(text, v.to_string(), "replacement must apply");
    let e = json_err(&text);
    check(&e, "states[0].costs", &["duplicate key `kommun`"], None);
    assert!(e.location.is_some(), "{e}");
}

// ───────────────────────────── files ────────────────────────────────────────

#[test]
fn non_utf8_file() {
    let f = TempFile::new("non-utf8", "toml", b"[scenario]\nname = \"\xff\xfe\"\n");
    let e = match Scenario::from_path(&f.0) {
        Err(Error::Scenario(e)) => e,
        other => panic!("expected Error::Scenario, got {other:?}"),
    };
    assert_eq!(e.path, "");
    assert!(e.message.contains("is not UTF-8 text"), "{e}");
    assert!(e.message.contains(&f.0.display().to_string()), "{e}");
    let loc = e.location.expect("location of the first bad byte");
    assert_eq!((loc.line, loc.column), (2, 9), "{e}");
}

#[test]
fn empty_file() {
    let f = TempFile::new("empty", "toml", b"");
    let e = match Scenario::from_path(&f.0) {
        Err(Error::Scenario(e)) => e,
        other => panic!("expected Error::Scenario, got {other:?}"),
    };
    assert!(e.message.contains("missing field `scenario`"), "{e}");
    let e = toml_err("");
    assert!(e.message.contains("missing field `scenario`"), "{e}");
    let e = toml_err("   \n# only a comment\n");
    assert!(e.message.contains("missing field `scenario`"), "{e}");

    let f = TempFile::new("empty", "json", b"");
    assert!(matches!(Scenario::from_path(&f.0), Err(Error::Scenario(_))));
    let e = json_err("");
    assert!(e.message.contains("EOF"), "{e}");
}

#[test]
fn missing_file() {
    let path = std::env::temp_dir().join(format!("lifecost-validation-missing-{}.toml", std::process::id()));
    match Scenario::from_path(&path) {
        Err(Error::Io { path: p, source }) => {
            assert_eq!(p, path);
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("expected Error::Io, got {other:?}"),
    }
    let shown = Scenario::from_path(&path).unwrap_err().to_string();
    assert!(
        shown.contains("cannot read") && shown.contains(&path.display().to_string()),
        "{shown}"
    );
}

#[test]
fn directory_instead_of_a_file() {
    assert!(matches!(
        Scenario::from_path(std::env::temp_dir()),
        Err(Error::Io { .. })
    ));
}

// ───────────────────────────── run-time robustness ──────────────────────────

#[test]
fn program_start_year_out_of_range() {
    // Once a panic: `start_year + y` overflowed in RunResult::to_json.
    let src = with(
        "program = { years = 2,",
        "program = { start_year = 2147483647, years = 2,",
    );
    let e = toml_err(&src);
    check(
        &e,
        "interventions[0].program.start_year",
        &["is 2147483647", "expected a calendar year"],
        Some(pos(&src, "2147483647")),
    );
    // A valid start year is kept.
    let src = with("program = { years = 2,", "program = { start_year = 2026, years = 2,");
    let s = Scenario::from_toml_str(&src).expect("a valid start year");
    assert_eq!(s.interventions()[0].program.start_year, 2026);
}

#[test]
fn overflowing_distribution_parameters_are_refused() {
    // Once accepted with a NaN mean, so that the run silently gave NaN.
    let src = with(
        "gamma = { mean = 500000, sd = 100000 }",
        "gamma = { mean = 1e300, sd = 1e-300 }",
    );
    let e = toml_err(&src);
    check(
        &e,
        "parameters.care_cost.gamma",
        &["no finite mean or variance", "expected"],
        Some(pos(&src, "{ mean = 1e300")),
    );
    let src = with(
        "lognormal = { median = 0.7, ci95 = [0.5, 0.98] }",
        "lognormal = { mean = 1, sd = 1e300 }",
    );
    let e = toml_err(&src);
    check(
        &e,
        "parameters.hr.lognormal",
        &["no finite mean or variance", "expected"],
        Some(pos(&src, "{ mean = 1, sd")),
    );
}

#[test]
fn huge_effect_size_is_refused() {
    // Once accepted: exp(1.65·d) overflowed and the run silently gave NaN.
    let src = with("hazard_ratio = \"$hr\"", "effect_size_d = 1000");
    let e = toml_err(&src);
    check(
        &e,
        "interventions[0].effects[0].effect_size_d",
        &["is 1000", "expected an effect size d"],
        Some(pos(&src, "1000\n")),
    );
    // An ordinary effect size is accepted and runs.
    let src = with("hazard_ratio = \"$hr\"", "effect_size_d = -0.3");
    let s = Scenario::from_toml_str(&src).expect("d = -0.3 is valid");
    assert!(
        Simulation::new(&s)
            .run()
            .unwrap()
            .compare("tsi")
            .unwrap()
            .npv()
            .mean
            .is_finite()
    );
}

/// Every numeric literal of the base replaced by hostile values, and the
/// source cut at every line: reading, checking, running and reporting
/// return, never panic.
#[test]
fn hostile_inputs_never_panic() {
    let src = base();
    let mut variants: Vec<String> = Vec::new();
    for (i, _) in src.match_indices('\n') {
        variants.push(src[..i].to_owned());
    }
    // Numbers: runs of digits, `.`, `-`, `e` preceded by `= ` or `, ` or `[`.
    let bytes = src.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let starts = bytes[i].is_ascii_digit() && i > 0 && matches!(bytes[i - 1], b' ' | b'[');
        if starts {
            let j = (i..bytes.len())
                .find(|&j| !(bytes[j].is_ascii_digit() || bytes[j] == b'.'))
                .unwrap_or(bytes.len());
            spans.push((i, j));
            i = j;
        } else {
            i += 1;
        }
    }
    assert!(spans.len() > 30, "found {} numbers", spans.len());
    for &(a, b) in &spans {
        for hostile in [
            "-1",
            "0",
            "nan",
            "inf",
            "-inf",
            "1e308",
            "4294967296",
            "\"x\"",
            "{}",
            "[]",
        ] {
            variants.push(format!("{}{hostile}{}", &src[..a], &src[b..]));
        }
    }
    for v in &variants {
        let outcome = std::panic::catch_unwind(|| {
            if let Ok(s) = Scenario::from_toml_str(v)
                && let Ok(r) = Simulation::new(&s).run()
            {
                let _ = r.to_json();
                let _ = r.summary();
                // An accepted scenario gives finite figures, never a silent NaN.
                if let Ok(c) = r.compare("tsi") {
                    for x in [c.npv().mean, c.savings().mean, c.intervention_cost().mean] {
                        assert!(x.is_finite(), "non-finite figure {x}");
                    }
                }
            }
        });
        assert!(outcome.is_ok(), "panicked on:\n{v}");
    }
}

#[test]
fn effect_targets_of_the_wrong_type() {
    let src = with("to = [\"care\"]", "to = 5");
    let e = toml_err(&src);
    assert_eq!(e.path, "interventions[0].effects[0].to", "{e}");
    check_line(&e, pos(&src, "to = 5").0);
}

#[test]
fn effect_targets_of_the_wrong_type_name_value_and_expectation() {
    let src = with("to = [\"care\"]", "to = 5");
    let e = toml_err(&src);
    assert!(
        !e.message.contains("untagged enum"),
        "serde internals in the message: {e}"
    );
    assert!(e.message.contains('5'), "value not named: {e}");
    assert!(e.message.contains("state"), "expectation not named: {e}");
}
