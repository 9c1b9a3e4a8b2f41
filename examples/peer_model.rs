//! The peer reference model, timed at the sizes the peer scripts use, with
//! figures printed in the same form: a cohort base case, a cohort PSA of
//! 1 000 draws (the median of 101 runs), and a microsimulation of 100 000
//! children × 80 cycles × 2 arms (the median of 11 runs). The cohort
//! parts time what the peers time: the tables, trace and costs of both
//! arms (each arm's discounted cost by payer and its outcomes, where the
//! peers compute each arm's cost); in the PSA, for parameters drawn
//! before the clock starts, the draws side by side as a PSA runs them.
//! Beside it, a whole `Simulation::run`: the base case adds the
//! comparisons and break-even searches, which run the cohort many times
//! more, and a PSA run also draws the parameters, keeps every figure of
//! every draw (the comparisons and paybacks too) and the expected
//! streams, and summarises them. Run it beside
//! the peers' own scripts (`../shared/peers/`) on the same machine and
//! compare the ratios; `scripts/peer_compare.sh` does both in one go and
//! prints the table.
//!
//! ```sh
//! cargo run --release --example peer_model                 # all parts, printed as the peers print
//! cargo run --release --example peer_model -- --json micro # one part, as one JSON object
//! ```
//!
//! Options: `--quick` (small sizes, for a smoke test), `--json` (print one JSON
//! object with the same figures instead of the lines). Parts, as in the peer
//! scripts: `cohort`, `cohort_psa`, `micro` (default: all three).

use std::error::Error;
use std::time::Instant;

use lifecost::economics::{self, ArmFigures, Frame};
use lifecost::engine::cohort;
use lifecost::model::Model;
use lifecost::{Engine, RunResult, Scenario, Simulation, draw_values};
use rayon::prelude::*;
use serde_json::{Map, Value, json};

const CYCLES: u64 = 80;
const PARTS: [&str; 3] = ["cohort", "cohort_psa", "micro"];
/// Runs of the PSA, whose median is reported.
const PSA_RUNS: usize = 101;
/// Runs of the microsimulation, whose median is reported.
const MICRO_RUNS: usize = 11;

/// Mean discounted cost per child of each arm, keyed by arm id.
fn mean_costs(result: &RunResult) -> Map<String, Value> {
    result
        .arm_ids()
        .enumerate()
        .map(|(i, id)| (id.to_owned(), json!(result.arm_estimate(i, |a| a.cost).mean)))
        .collect()
}

/// Runs `run` `runs` times (at least once), each timed whole: the median
/// time, every time in increasing order, and the last run's result.
fn timed<T>(
    runs: usize,
    mut run: impl FnMut() -> Result<T, Box<dyn Error>>,
) -> Result<(f64, Vec<f64>, T), Box<dyn Error>> {
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        last = Some(run()?);
        times.push(start.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    Ok((median, times, last.ok_or("no run")?))
}

/// The peers' work for the draws of parameter `values`: the tables, trace
/// and costs of both arms in `frame` (each arm's discounted cost by payer
/// and outcomes, as the peers compute each arm's cost); each draw's status
/// quo cost. The draws run side by side, as a PSA runs them
/// ([`cohort::run_many`]).
fn peers_work(scenario: &Scenario, frame: &Frame, values: &[Vec<f64>]) -> Result<Vec<f64>, Box<dyn Error>> {
    let mut models: Vec<Model> = Vec::with_capacity(cohort::LANES);
    let mut costs = Vec::with_capacity(values.len());
    for values in values.chunks(cohort::LANES) {
        // Each draw compiled into the memory of the draw before, as a PSA compiles them.
        Model::recompile_many(&mut models, scenario, values)?;
        for streams in cohort::run_many(&models[..values.len()], 1.0) {
            let streams = streams?;
            let arms: Vec<ArmFigures> = streams.iter().map(|s| economics::arm_figures(frame, s)).collect();
            cohort::recycle(streams);
            costs.push(arms[0].cost);
        }
    }
    Ok(costs)
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut quick = false;
    let mut as_json = false;
    let mut parts = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--quick" => quick = true,
            "--json" => as_json = true,
            p if PARTS.contains(&p) => parts.push(arg),
            other => {
                eprintln!(
                    "unknown argument `{other}`; usage: peer_model [--quick] [--json] [cohort|cohort_psa|micro ...]"
                );
                std::process::exit(2);
            }
        }
    }
    if parts.is_empty() {
        parts = PARTS.iter().map(|p| p.to_string()).collect();
    }
    let wants = |part: &str| parts.iter().any(|p| p == part);

    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/scenarios/peer_model_psa.toml");
    let scenario = Scenario::from_path(path)?;
    let (reps, draws, children) = if quick { (10, 50, 2_000) } else { (200, 1_000, 100_000) };
    let mut out = Map::new();
    out.insert("tool".into(), json!("lifecost"));
    out.insert("lifecost_version".into(), json!(env!("CARGO_PKG_VERSION")));
    out.insert("threads".into(), json!(rayon::current_num_threads()));

    if wants("cohort") {
        // The peers' work: the base case's tables, trace and costs of both arms.
        let values = [scenario.base_values()];
        let frame = Frame::new(&scenario, scenario.perspective());
        let start = Instant::now();
        let mut cost = f64::NAN;
        for _ in 0..reps {
            cost = peers_work(&scenario, &frame, &values)?[0];
        }
        let per_run = start.elapsed().as_secs_f64() / f64::from(reps);
        // A whole run adds the break-even searches and the result's tables.
        let start = Instant::now();
        let mut base = None;
        for _ in 0..reps {
            base = Some(Simulation::new(&scenario).run()?);
        }
        let whole = start.elapsed().as_secs_f64() / f64::from(reps);
        let base = base.ok_or("no run")?;
        out.insert(
            "cohort".into(),
            json!({ "seconds": per_run, "reps": reps, "mean_cost": mean_costs(&base), "whole_run_seconds": whole }),
        );
        if !as_json {
            println!(
                "cohort base case: {per_run:.6} s per run (mean of {reps}); status quo cost {cost:.4}; whole run with break-even searches {whole:.5} s"
            );
        }
    }

    if wants("cohort_psa") {
        // The peers' work: the parameters drawn before the clock starts, as the
        // peer scripts draw them, then each draw's tables, trace and costs of
        // both arms, the draws in parallel.
        let sampled: Vec<Vec<f64>> = (0..draws).map(|d| draw_values(&scenario, 1, d)).collect();
        let frame = Frame::new(&scenario, scenario.perspective());
        // Runs of about a millisecond on a shared machine, where a burst of load lasts
        // longer: the median of 101, some 0.1 s in all, each timed whole.
        let (t, times, costs) = timed(PSA_RUNS, || {
            let costs = sampled
                // Blocks of 16 draws to a task, as a PSA hands them out.
                .par_chunks(16)
                .map(|values| peers_work(&scenario, &frame, values).map_err(|e| e.to_string()))
                .collect::<Result<Vec<Vec<f64>>, String>>()?;
            Ok(costs.concat())
        })?;
        let mean_cost = costs.iter().sum::<f64>() / costs.len() as f64;
        // A whole PSA run adds the parameter draws, every figure of every
        // draw, the expected streams and the result's summaries.
        let (whole, whole_times, psa) = timed(PSA_RUNS, || {
            Ok(Simulation::new(&scenario).draws(draws).seed(1).run()?)
        })?;
        let ms_per_draw = 1e3 * t / draws as f64;
        let whole_ms_per_draw = 1e3 * whole / draws as f64;
        out.insert(
            "cohort_psa".into(),
            json!({
                "draws": draws, "seconds": t, "ms_per_draw": ms_per_draw, "mean_cost": mean_costs(&psa),
                "runs": PSA_RUNS, "all_seconds": times,
                "whole_run": { "seconds": whole, "ms_per_draw": whole_ms_per_draw, "all_seconds": whole_times },
            }),
        );
        if !as_json {
            println!(
                "cohort PSA {draws} draws: {t:.4} s ({ms_per_draw:.4} ms/draw); mean status quo cost {mean_cost:.0}; whole run with parameter draws and summaries {whole_ms_per_draw:.4} ms/draw (mean status quo cost {:.0})",
                psa.arm_estimate(0, |a| a.cost).mean
            );
        }
    }

    if wants("micro") {
        // A run of some ten milliseconds: the median of 11, each timed whole.
        let (t, times, micro) = timed(MICRO_RUNS, || {
            let micro = Simulation::new(&scenario).engine(Engine::Microsim).children(children);
            Ok(micro.run()?)
        })?;
        let person_cycles = children * CYCLES * 2;
        let ns = 1e9 * t / person_cycles as f64;
        let se: Map<String, Value> = micro
            .arm_ids()
            .enumerate()
            .map(|(i, id)| (id.to_owned(), json!(micro.arm_estimate(i, |a| a.cost).se)))
            .collect();
        out.insert(
            "micro".into(),
            json!({
                "individuals": children, "cycles": CYCLES, "seconds": t, "person_cycles": person_cycles,
                "ns_per_person_cycle": ns, "mean_cost": mean_costs(&micro), "se_cost": se,
                "runs": MICRO_RUNS, "all_seconds": times,
            }),
        );
        if !as_json {
            println!(
                "microsim {children} indiv x {CYCLES} cycles x 2 strategies: {t:.3} s, {ns:.2} ns/person-cycle; status quo cost {:.1}",
                micro.arm_estimate(0, |a| a.cost).mean
            );
        }
    }

    if as_json {
        println!("{}", serde_json::to_string_pretty(&Value::Object(out))?);
    }
    Ok(())
}
