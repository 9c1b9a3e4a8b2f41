//! Runs a scenario (the default one, or the file named on the command line)
//! and prints the grant table of every intervention.
//!
//! ```sh
//! cargo run --example quick_start -- scenarios/tsi_sweden.toml
//! ```

use lifecost::{Scenario, Simulation};

fn main() -> Result<(), lifecost::Error> {
    let scenario = match std::env::args().nth(1) {
        Some(path) => Scenario::from_path(path)?,
        None => Scenario::default_scenario()?,
    };
    let run = Simulation::new(&scenario).run()?;
    for comparison in run.comparisons() {
        println!("{}", comparison.summary());
        let npv = comparison.npv().mean;
        println!("NPV per child: {npv:.0} {}", scenario.currency());
    }
    Ok(())
}
