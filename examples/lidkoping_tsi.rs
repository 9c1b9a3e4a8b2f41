//! Lidköping kommun's TSI project pot (1.5 MSEK a year since 2012), charged in
//! full to a SkolFam-type team for foster children aged 10 and split between
//! school and social services (the "stuprör" the pot was meant to bridge).
//!
//! Runs the seed scenario `scenarios/lidkoping_tsi.toml` (built on the shipped
//! Swedish model `tsi_sweden`) with 500 draws and prints the comparison and
//! the sentences a grant application needs.
//!
//! ```sh
//! cargo run --release --example lidkoping_tsi
//! ```

use lifecost::report::text::grant_sentences;
use lifecost::{Scenario, Simulation};

fn main() -> Result<(), lifecost::Error> {
    let scenario = Scenario::from_path(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/lidkoping_tsi.toml"))?;
    let run = Simulation::new(&scenario)
        .draws(500)
        .seed(2024)
        .break_even_state("residential_care")
        .run()?;
    println!(
        "Lidköping TSI pot, 1 500 000 SEK/yr (2012 kronor) on SkolFam-type school support for 15 foster children a year; effects are wide priors anchored on SkolFam2, none published.\n"
    );
    for comparison in run.comparisons() {
        println!("{}", comparison.summary());
        println!("{}", grant_sentences(&comparison));
    }
    Ok(())
}
