//! Scenarios built on a base scenario (`[scenario] base = "tsi_sweden"`).

use lifecost::{Scenario, Simulation};

const SEED: &str = r#"
[scenario]
base = "tsi_sweden"
name = "A smaller TSI program"

[[population]]
name = "Pupils with early signs"
size = 25
start = { school_difficulties = 1.0 }

[[interventions]]
id = "tsi"
enrol = { states = ["school_difficulties"], uptake = 0.8 }
program = { years = 1, children_per_year = 25 }
participant_costs = { once = { kommun_social = 20_000 } }

[[interventions.effects]]
from = "school_difficulties"
to = ["foster_care", "residential_care"]
hazard_ratio = 0.8
"#;

#[test]
fn a_seed_keeps_the_base_model_and_brings_its_own_program() {
    let base = Scenario::default_scenario().unwrap();
    let seed = Scenario::from_toml_str(SEED).unwrap();
    assert_eq!(seed.name(), "A smaller TSI program");
    assert_eq!(seed.states(), base.states(), "states come from the base");
    assert_eq!(seed.payers(), base.payers());
    assert_eq!(seed.price_year(), base.price_year());
    assert_eq!(seed.population_size(), 25.0);
    assert_eq!(seed.interventions().len(), 1);
    assert!(seed.spec().scenario.base.is_none(), "the base is merged away");
    let run = Simulation::new(&seed).run().unwrap();
    let c = run.compare("tsi").unwrap();
    // Enrolment at the start age, discounted to mid-year at the base's 3.5 %.
    let once = 0.8 * 20_000.0 * 1.035f64.powf(-0.5);
    assert!(
        (c.intervention_cost().mean - once).abs() < 1e-6,
        "{}",
        c.intervention_cost().mean
    );
    // The merged tree reads back as a plain scenario with the same result.
    let json = serde_json::to_string(seed.spec()).unwrap();
    let again = Scenario::from_json_str(&json).unwrap();
    assert_eq!(Simulation::new(&again).run().unwrap().to_json(), run.to_json());
}

#[test]
fn errors_point_into_the_file_that_writes_the_field() {
    let e = Scenario::from_toml_str(&SEED.replace("uptake = 0.8", "uptake = 1.8")).unwrap_err();
    let lifecost::Error::Scenario(e) = e else { panic!("{e}") };
    assert_eq!(e.path, "interventions[0].enrol.uptake");
    assert_eq!(e.location.map(|l| l.line), Some(13), "{e}");
    assert!(!e.message.contains("in base"), "{e}");

    let e = Scenario::from_toml_str(&SEED.replace("hazard_ratio = 0.8", "hazard_ratio = \"$hr_nothing\"")).unwrap_err();
    assert!(e.to_string().contains("hr_nothing"), "{e}");

    let e = Scenario::from_toml_str(&SEED.replace("base = \"tsi_sweden\"", "base = \"atlantis\"")).unwrap_err();
    let lifecost::Error::Scenario(e) = e else { panic!("{e}") };
    assert_eq!(e.path, "scenario.base");
    assert!(e.message.contains("tsi_sweden"), "{e}");
    assert_eq!(e.location.map(|l| l.line), Some(3));
}

#[test]
fn base_files_beside_the_scenario_and_cycles() {
    let dir = std::env::temp_dir().join(format!("lifecost-base-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("model.toml"), lifecost::scenario::DEFAULT_SCENARIO_TOML).unwrap();
    std::fs::write(
        dir.join("seed.toml"),
        SEED.replace("base = \"tsi_sweden\"", "base = \"model.toml\""),
    )
    .unwrap();
    let seed = Scenario::from_path(dir.join("seed.toml")).unwrap();
    assert_eq!(seed.population_size(), 25.0);

    std::fs::write(dir.join("a.toml"), "[scenario]\nbase = \"b.toml\"\nname = \"a\"\n").unwrap();
    std::fs::write(dir.join("b.toml"), "[scenario]\nbase = \"a.toml\"\nname = \"b\"\n").unwrap();
    let e = Scenario::from_path(dir.join("a.toml")).unwrap_err();
    assert!(
        e.to_string().contains("scenario.base") && e.to_string().contains("cycle"),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
