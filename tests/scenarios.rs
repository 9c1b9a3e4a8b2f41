//! Every shipped scenario validates and runs under both engines.

use lifecost::{Engine, Scenario, Simulation};

fn shipped() -> Vec<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("scenarios/ exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_shipped_scenario_runs_under_both_engines() {
    let files = shipped();
    assert!(!files.is_empty());
    for path in files {
        let s = Scenario::from_path(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let cohort = Simulation::new(&s)
            .run()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let micro = Simulation::new(&s)
            .engine(Engine::Microsim)
            .children(2_000)
            .run()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let psa = Simulation::new(&s)
            .draws(20)
            .seed(1)
            .run()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for run in [&cohort, &micro, &psa] {
            for c in run.comparisons() {
                assert!(
                    c.npv().mean.is_finite(),
                    "{}: NPV of {}",
                    path.display(),
                    c.intervention()
                );
            }
        }
        println!(
            "{}: NPV per child {:?}",
            path.display(),
            cohort.comparisons().map(|c| c.npv().mean).collect::<Vec<_>>()
        );
    }
}

#[test]
fn the_embedded_default_is_the_shipped_file() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/tsi_sweden.toml");
    assert_eq!(
        std::fs::read_to_string(path).unwrap(),
        lifecost::scenario::DEFAULT_SCENARIO_TOML
    );
}
