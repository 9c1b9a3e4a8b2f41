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

fn show(e: &ScenarioError) {
    eprintln!("PATH={:?} LOC={:?}\n  MSG={}", e.path, e.location, e.message);
}

#[test]
fn explore() {
    let cases: Vec<(&str, String)> = vec![
        (
            "unknown field",
            with("id = \"care\"\n", "id = \"care\"\ncolour = \"red\"\n"),
        ),
        ("wrong type", with("size = 40", "size = \"forty\"")),
        (
            "beta mean mode",
            with(
                "beta = { mean = 0.05, sd = 0.01 }",
                "beta = { mean = 0.05, mode = 0.01 }",
            ),
        ),
        (
            "dist unknown arg",
            with(
                "beta = { mean = 0.05, sd = 0.01 }",
                "beta = { mean = 0.05, sdev = 0.01 }",
            ),
        ),
        ("effect zero", with("hazard_ratio = \"$hr\"\n", "")),
        ("sum", with("on_track = 0.10", "on_track = 0.96")),
        ("shares", with("on_track = 0.1 }", "on_track = 0.2 }")),
        ("rate str", with("costs = 0.035", "costs = \"high\"")),
        ("nan", with("on_track = 0.10", "on_track = nan")),
        (
            "confidence",
            with("confidence = \"assumption\"", "confidence = \"sure\""),
        ),
        ("timing", with("timing = \"mid\"", "timing = \"middle\"")),
        ("empty", String::new()),
    ];
    for (name, src) in cases {
        eprintln!("== {name}");
        show(&toml_err(&src));
    }
}
