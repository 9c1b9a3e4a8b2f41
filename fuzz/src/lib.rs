//! The path every fuzz target drives, shared with `tests/fuzz_regressions.rs`
//! (which includes this file with `#[path]`), so a saved crash replays
//! exactly as the fuzzer found it.
//!
//! bytes → UTF-8 (others are skipped) → `Scenario::from_toml_str` or
//! `from_json_str` (parse, validate, compile) → the scenario's JSON tree read
//! back → a cohort run → `to_json()` and `summary()`; for inputs of even
//! length also a microsimulation of [`MICROSIM_CHILDREN`] children. Errors
//! are formatted (their line and column are computed) and dropped: only a
//! panic, an abort or a hang is a finding.

use lifecost::{Engine, Scenario, Simulation};

/// Which reader the bytes go through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Toml,
    Json,
}

/// Children simulated by the microsimulation step.
pub const MICROSIM_CHILDREN: u64 = 50;

/// Largest cohort workload run, in state-pair updates (see [`cohort_work`]).
/// The shipped `tsi_sweden` is about 2·10⁶; above the cap a run is
/// legitimately slow, so it is skipped and a timeout means a real hang.
pub const MAX_COHORT_WORK: f64 = 2.0e7;

/// Largest microsimulation workload run, in child-state-years (see [`microsim_work`]).
pub const MAX_MICROSIM_WORK: f64 = 2.0e7;

/// What the cohort engine does, at most: every group, every arm, every cycle,
/// up to one sub-cohort per enrolment cycle, a dense states × states step each.
pub fn cohort_work(s: &Scenario) -> f64 {
    let horizon = f64::from(s.end_age().saturating_sub(s.spec().scenario.start_age).max(1));
    let states = s.states().len().max(1) as f64;
    let payers = s.payers().len().max(1) as f64;
    let groups = s.groups().len().max(1) as f64;
    let arms = (s.interventions().len() + 1) as f64;
    groups * arms * horizon * (horizon + 1.0) * states * (states + payers)
}

/// What the microsimulation does, at most: every child of every group in every
/// arm, every cycle, a walk over a row of the table and the history rules.
pub fn microsim_work(s: &Scenario) -> f64 {
    let horizon = f64::from(s.end_age().saturating_sub(s.spec().scenario.start_age).max(1));
    let states = s.states().len().max(1) as f64;
    let payers = s.payers().len().max(1) as f64;
    let groups = s.groups().len().max(1) as f64;
    let arms = (s.interventions().len() + 1) as f64;
    let rules = (s.history().len() + 1) as f64;
    MICROSIM_CHILDREN as f64 * groups * arms * horizon * (states + payers) * rules
}

/// Drives `data` through the whole path; panics only where the crate does.
pub fn exercise(data: &[u8], format: Format) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = match format {
        Format::Toml => Scenario::from_toml_str(text),
        Format::Json => Scenario::from_json_str(text),
    };
    let scenario = match parsed {
        Ok(s) => s,
        Err(e) => {
            std::hint::black_box(e.to_string());
            return;
        }
    };
    std::hint::black_box(scenario.hash());
    if format == Format::Toml {
        // The same tree as JSON must read back without a panic (an error is allowed).
        if let Ok(json) = serde_json::to_string(scenario.spec()) {
            let back = Scenario::from_json_str(&json);
            std::hint::black_box(back.map(|s| s.hash()).map_err(|e| e.to_string()).ok());
        }
    }
    if cohort_work(&scenario) <= MAX_COHORT_WORK {
        match Simulation::new(&scenario).run() {
            Ok(run) => {
                std::hint::black_box(run.to_json().to_string());
                std::hint::black_box(run.summary());
            }
            Err(e) => {
                std::hint::black_box(e.to_string());
            }
        }
    }
    if data.len().is_multiple_of(2) && microsim_work(&scenario) <= MAX_MICROSIM_WORK {
        let micro = Simulation::new(&scenario)
            .engine(Engine::Microsim)
            .children(MICROSIM_CHILDREN)
            .run();
        match micro {
            Ok(run) => {
                std::hint::black_box(run.to_json().to_string());
                std::hint::black_box(run.summary());
            }
            Err(e) => {
                std::hint::black_box(e.to_string());
            }
        }
    }
}
