//! The shipped scenarios: valid, runnable, and every shipped number sourced.

use lifecost::param::Value;
use lifecost::{Scenario, Simulation};

fn scenario() -> Scenario {
    Scenario::default_scenario().expect("the embedded default scenario is valid")
}

fn shipped() -> Vec<(String, Scenario)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| (p.display().to_string(), Scenario::from_path(&p).unwrap()))
        .collect()
}

#[test]
fn every_parameter_of_every_shipped_scenario_carries_its_provenance() {
    for (name, s) in shipped() {
        provenance(&name, &s);
    }
}

fn provenance(name: &str, s: &Scenario) {
    let mut money = Vec::new();
    for state in s.states() {
        money.extend(state.costs.iter().chain(&state.entry_costs).copied());
    }
    for iv in s.interventions() {
        money.extend(
            iv.once_costs
                .iter()
                .chain(&iv.yearly_costs)
                .chain(&iv.program.fixed_costs)
                .copied(),
        );
    }
    let mut missing = Vec::new();
    for (i, p) in s.parameters().iter().enumerate() {
        let used_as_money = money.iter().any(|v| matches!(v, Value::Param(id) if id.index() == i));
        if p.source.as_deref().is_none_or(str::is_empty) || p.confidence.is_none() {
            missing.push(format!("{}: source or confidence", p.name));
        }
        if used_as_money && p.price_year.is_none() {
            missing.push(format!("{}: price_year", p.name));
        }
    }
    assert!(
        missing.is_empty(),
        "{name}: parameters without provenance:\n{}",
        missing.join("\n")
    );
    let d = &s.spec().discounting;
    assert!(
        d.source.is_some() && d.confidence.is_some(),
        "{name}: the discount rates carry their source"
    );
}

#[test]
fn no_unsourced_literal_in_costs_probabilities_or_effects() {
    let s = scenario();
    let mut literals = Vec::new();
    for state in s.states() {
        for (k, v) in state.costs.iter().chain(&state.entry_costs).enumerate() {
            if let Value::Const(x) = v
                && *x != 0.0
            {
                literals.push(format!("states.{} cost #{k} = {x}", state.id));
            }
        }
    }
    for band in s.transitions() {
        for (to, v) in &band.to {
            if let Value::Const(x) = v {
                literals.push(format!(
                    "transition {} → {} = {x}",
                    s.states()[band.from].id,
                    s.states()[*to].id
                ));
            }
        }
    }
    for iv in s.interventions() {
        for e in &iv.effects {
            if let Value::Const(x) = e.value {
                literals.push(format!("{} effect = {x}", iv.id));
            }
        }
        if let Value::Const(x) = iv.uptake {
            literals.push(format!("{} uptake = {x}", iv.id));
        }
    }
    assert!(
        literals.is_empty(),
        "numbers without a source:\n{}",
        literals.join("\n")
    );
}

#[test]
fn default_run_gives_finite_plausible_figures() {
    let s = scenario();
    let run = Simulation::new(&s).run().unwrap();
    let sq = run.arm_estimate(0, |a| a.cost).mean;
    println!("status quo lifetime public cost per child: {sq:.0} {}", s.currency());
    assert!(sq > 100_000.0 && sq < 20_000_000.0, "status quo lifetime cost {sq}");
    let tsi = run.compare("tsi").unwrap();
    for (what, x) in [
        ("savings", tsi.savings().mean),
        ("cost", tsi.intervention_cost().mean),
        ("npv", tsi.npv().mean),
    ] {
        assert!(x.is_finite(), "{what} = {x}");
    }
    assert!(tsi.intervention_cost().mean > 0.0);
    println!("{}", run.summary());
}
