//! The published reference model (shared/reference/peer-model.md), reproduced
//! by the cohort engine to 1e-9 relative.

use lifecost::{Scenario, Simulation};

const PEER_MODEL: &str = include_str!("scenarios/peer_model.toml");

fn close(actual: f64, expected: f64, what: &str) {
    let rel = ((actual - expected) / expected).abs();
    println!("{what:<32} model {actual:>24.10}  reference {expected:>24.10}  rel {rel:.2e}");
    assert!(rel < 1e-9, "{what}: {actual} vs {expected} (relative error {rel:e})");
}

#[test]
fn peer_model_matches_published_figures() -> Result<(), lifecost::Error> {
    let scenario = Scenario::from_toml_str(PEER_MODEL)?;
    let run = Simulation::new(&scenario).run()?;
    let c = run.compare("early_intervention")?;
    close(
        run.arm_estimate(0, |a| a.cost).mean,
        257_731.462_458_579_4,
        "status quo cost",
    );
    close(
        run.arm_estimate(1, |a| a.cost).mean,
        233_688.388_182_200_2,
        "intervention cost (incl. own)",
    );
    close(
        run.arm_estimate(0, |a| a.outcomes[0]).mean,
        17.214_478_622_178_163,
        "status quo years_ok",
    );
    close(
        run.arm_estimate(1, |a| a.outcomes[0]).mean,
        18.514_336_299_538_56,
        "intervention years_ok",
    );
    close(c.savings().mean, 32_043.074_276_379_2, "savings");
    close(c.intervention_cost().mean, 8_000.0, "intervention cost");
    close(c.npv().mean, 24_043.074_276_379_2, "NPV");
    close(c.bcr().expect("cost is positive").mean, 4.005_384_284_547_4, "BCR");
    close(c.roi().expect("cost is positive").mean, 3.005_384_284_547_4, "ROI");
    Ok(())
}
