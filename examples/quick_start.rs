//! Runs a scenario (the default one, or the file named on the command line)
//! and prints the grant table of every intervention.
//!
//! ```sh
//! cargo run --release --example quick_start -- scenarios/tsi_sweden.toml
//! ```

use lifecost::report::text::grant_sentences;
use lifecost::{Scenario, Simulation};

fn main() -> Result<(), lifecost::Error> {
    let scenario = match std::env::args().nth(1) {
        Some(path) => Scenario::from_path(path)?,
        None => Scenario::default_scenario()?,
    };
    let mut simulation = Simulation::new(&scenario).draws(500).seed(2024);
    if scenario.states().iter().any(|s| s.id == "residential_care") {
        simulation = simulation.break_even_state("residential_care");
    }
    let run = simulation.run()?;
    for comparison in run.comparisons() {
        println!("{}", comparison.summary());
        println!("{}", grant_sentences(&comparison));
    }
    Ok(())
}
