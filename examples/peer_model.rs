//! The peer reference model, timed at the sizes the peer scripts use, with
//! figures printed in the same form: a cohort base case, a cohort PSA of
//! 1 000 draws, and a microsimulation of 100 000 children × 80 cycles × 2
//! arms. Run it beside the peers' own scripts (`../shared/peers/`) on the
//! same machine and compare the ratios.
//!
//! ```sh
//! cargo run --release --example peer_model
//! ```

use std::time::Instant;

use lifecost::{Engine, Scenario, Simulation};

fn main() -> Result<(), lifecost::Error> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/scenarios/peer_model_psa.toml");
    let scenario = Scenario::from_path(path)?;
    let quick = std::env::args().any(|a| a == "--quick");
    let (reps, draws, children) = if quick { (10, 50, 2_000) } else { (200, 1_000, 100_000) };

    let start = Instant::now();
    let mut cost = 0.0;
    for _ in 0..reps {
        cost = Simulation::new(&scenario).run()?.arm_estimate(0, |a| a.cost).mean;
    }
    let per_run = start.elapsed().as_secs_f64() / f64::from(reps);
    println!("cohort base case: {per_run:.5} s per run (mean of {reps}); status quo cost {cost:.4}");

    let start = Instant::now();
    let psa = Simulation::new(&scenario).draws(draws).seed(1).run()?;
    let t = start.elapsed().as_secs_f64();
    println!(
        "cohort PSA {draws} draws: {t:.3} s ({:.3} ms/draw); mean status quo cost {:.0}",
        1e3 * t / draws as f64,
        psa.arm_estimate(0, |a| a.cost).mean
    );

    let start = Instant::now();
    let micro = Simulation::new(&scenario)
        .engine(Engine::Microsim)
        .children(children)
        .run()?;
    let t = start.elapsed().as_secs_f64();
    let person_cycles = (children * 80 * 2) as f64;
    println!(
        "microsim {children} indiv x 80 cycles x 2 strategies: {t:.3} s, {:.2} ns/person-cycle; status quo cost {:.1}",
        1e9 * t / person_cycles,
        micro.arm_estimate(0, |a| a.cost).mean
    );
    Ok(())
}
