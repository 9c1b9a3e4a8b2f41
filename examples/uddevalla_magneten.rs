//! Uddevalla kommun's TSI team Magneten (autumn 2021 – autumn 2024): child,
//! family and school together for pupils who do not thrive at or go to school.
//! The seed gives no money: the team cost (about 3 posts) is an assumption.
//!
//! Runs the seed scenario `scenarios/uddevalla_magneten.toml` (built on the shipped
//! Swedish model `tsi_sweden`) with 500 draws and prints the comparison and
//! the sentences a grant application needs.
//!
//! ```sh
//! cargo run --release --example uddevalla_magneten
//! ```

use lifecost::report::text::grant_sentences;
use lifecost::{Scenario, Simulation};

fn main() -> Result<(), lifecost::Error> {
    let scenario = Scenario::from_path(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/uddevalla_magneten.toml"
    ))?;
    let run = Simulation::new(&scenario)
        .draws(500)
        .seed(2024)
        .break_even_state("residential_care")
        .run()?;
    println!(
        "Uddevalla TSI team Magneten 2021–2024, assumed ~2.0 MSEK/yr (3 posts, no cost in the seed) for 25 pupils a year aged 12 with absence; effects are wide priors, none published.\n"
    );
    for comparison in run.comparisons() {
        println!("{}", comparison.summary());
        println!("{}", grant_sentences(&comparison));
    }
    Ok(())
}
