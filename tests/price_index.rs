//! Amounts of other price years are converted through the scenario's price index.

mod common;

use lifecost::{Scenario, Simulation};

fn scenario(parameters: &str, index: &str) -> Result<Scenario, lifecost::Error> {
    Scenario::from_toml_str(&common::placed_at_cost(2023, 10, parameters, index))
}

fn cost(s: &Scenario) -> f64 {
    Simulation::new(s).run().unwrap().arm_estimate(0, |a| a.cost).mean
}

#[test]
fn an_amount_of_2015_is_converted_by_kpi() {
    let s = scenario(
        r#"cost = { gamma = { mean = 1000, sd = 100 }, price_year = 2015, source = "test", confidence = "sourced" }"#,
        "[price_index]\nname = \"kpi_sweden\"",
    )
    .unwrap();
    let factor = 403.70 / 313.35;
    let p = &s.parameters()[0];
    assert!((p.price_factor - factor).abs() < 1e-12);
    assert!((p.mean() - 1000.0 * factor).abs() < 1e-9, "{}", p.mean());
    assert!((cost(&s) - 10.0 * 1000.0 * factor).abs() < 1e-6);
}

#[test]
fn an_amount_in_the_scenario_year_needs_no_index() {
    let s = scenario(r#"cost = { value = 1000, price_year = 2023 }"#, "").unwrap();
    assert_eq!(cost(&s), 10_000.0);
}

#[test]
fn own_levels_extend_a_shipped_index() {
    let s = scenario(
        r#"cost = { value = 1000, price_year = 2009 }"#,
        "[price_index]\nname = \"kpi_sweden\"\nlevels = { \"2009\" = 299.66 }",
    )
    .unwrap();
    assert!((cost(&s) - 10.0 * 1000.0 * 403.70 / 299.66).abs() < 1e-6);
}

#[test]
fn a_year_missing_from_the_index_is_an_error_naming_the_amount() {
    let e = scenario(
        r#"cost = { value = 1000, price_year = 2007 }"#,
        "[price_index]\nname = \"kpi_sweden\"",
    )
    .unwrap_err();
    let lifecost::Error::Scenario(e) = e else { panic!("{e}") };
    assert_eq!(e.path, "parameters.cost.price_year");
    assert!(e.message.contains("2007") && e.message.contains("kpi_sweden"), "{e}");
    assert_eq!(e.location.map(|l| l.line), Some(16), "the line of `cost = …`");
}

#[test]
fn another_year_without_an_index_is_an_error() {
    let e = scenario(r#"cost = { value = 1000, price_year = 2020 }"#, "").unwrap_err();
    let lifecost::Error::Scenario(e) = e else { panic!("{e}") };
    assert_eq!(e.path, "parameters.cost.price_year");
    assert!(e.message.contains("[price_index]"), "{e}");
}

#[test]
fn unknown_index_and_bad_levels_are_errors() {
    let e = scenario(r#"cost = 1000"#, "[price_index]\nname = \"cpi_mars\"").unwrap_err();
    let lifecost::Error::Scenario(e) = e else { panic!("{e}") };
    assert_eq!(e.path, "price_index.name");
    let e = scenario(r#"cost = 1000"#, "[price_index]\nlevels = { \"twenty\" = 3.0 }").unwrap_err();
    let lifecost::Error::Scenario(e) = e else { panic!("{e}") };
    assert_eq!(e.path, "price_index.levels.twenty");
}
