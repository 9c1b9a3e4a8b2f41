//! Värnamo kommun's TSI coordinator: 1 130 000 SEK for 2022–2023 (HUV funds
//! 185 000 SEK/yr inside it) to reduce, shorten and avoid external placements,
//! for pupils flagged under TSI and children in open support at placement risk.
//!
//! Runs the seed scenario `scenarios/varnamo_tsi.toml` (built on the shipped
//! Swedish model `tsi_sweden`) with 500 draws and prints the comparison and
//! the sentences a grant application needs.
//!
//! ```sh
//! cargo run --release --example varnamo_tsi
//! ```

use lifecost::report::text::grant_sentences;
use lifecost::{Scenario, Simulation};

fn main() -> Result<(), lifecost::Error> {
    let scenario = Scenario::from_path(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/varnamo_tsi.toml"))?;
    let run = Simulation::new(&scenario)
        .draws(500)
        .seed(2024)
        .break_even_state("residential_care")
        .run()?;
    println!(
        "Värnamo TSI coordinator, 565 000 SEK/yr for 2022–2023 (2022 kronor): fewer and shorter external placements; effects are wide priors, none published.\n"
    );
    for comparison in run.comparisons() {
        println!("{}", comparison.summary());
        println!("{}", grant_sentences(&comparison));
    }
    Ok(())
}
