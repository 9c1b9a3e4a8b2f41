//! Värnamo kommun's social insatsgrupp project: a full-time project leader,
//! 750 000 SEK a year for 2022–2023, coordinating social services, school and
//! police around youths at risk of crime or leaving a criminal lifestyle.
//!
//! Runs the seed scenario `scenarios/varnamo_social_insatsgrupp.toml` (built on the shipped
//! Swedish model `tsi_sweden`) with 500 draws and prints the comparison and
//! the sentences a grant application needs.
//!
//! ```sh
//! cargo run --release --example varnamo_social_insatsgrupp
//! ```

use lifecost::report::text::grant_sentences;
use lifecost::{Scenario, Simulation};

fn main() -> Result<(), lifecost::Error> {
    let scenario = Scenario::from_path(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/varnamo_social_insatsgrupp.toml"
    ))?;
    let run = Simulation::new(&scenario)
        .draws(500)
        .seed(2024)
        .break_even_state("youth_crime")
        .run()?;
    println!(
        "Värnamo social insatsgrupp, project leader 750 000 SEK/yr for 2022–2023 (2022 kronor), 8 youths a year aged 14–15; effects are wide priors, none published.\n"
    );
    for comparison in run.comparisons() {
        println!("{}", comparison.summary());
        println!("{}", grant_sentences(&comparison));
    }
    Ok(())
}
