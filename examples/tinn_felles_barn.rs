//! Tinn kommune (Norway): does the cross-service model "Felles barn – felles
//! ansvar", built with a Bufdir grant, pay for itself?
//!
//! Runs `scenarios/tinn_felles_barn.toml` with 500 draws of every uncertain
//! parameter, prints the grant table and the figures a grant committee asks
//! for. The effects are wide priors: no BTI effect has been published.
//!
//! ```sh
//! cargo run --release --example tinn_felles_barn
//! ```

use lifecost::report::text::grant_sentences;
use lifecost::{Scenario, Simulation};

fn main() -> Result<(), lifecost::Error> {
    let s = Scenario::from_path(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/tinn_felles_barn.toml"))?;
    let run = Simulation::new(&s)
        .draws(500)
        .seed(2024)
        .break_even_state("institution")
        .run()?;
    let comparison = run.compare("felles_barn")?;
    println!("{}", comparison.summary());
    println!("{}", grant_sentences(&comparison));
    Ok(())
}
