//! Cohort engine speed: one base-case evaluation of the default scenario.

use criterion::{Criterion, criterion_group, criterion_main};
use lifecost::{Scenario, Simulation};

fn cohort(c: &mut Criterion) {
    let scenario = Scenario::default_scenario().expect("the default scenario is valid");
    c.bench_function("compile default scenario", |b| {
        b.iter(|| Scenario::from_toml_str(lifecost::scenario::DEFAULT_SCENARIO_TOML).expect("valid"))
    });
    c.bench_function("cohort base case, default scenario", |b| {
        b.iter(|| Simulation::new(&scenario).run().expect("runs"))
    });
}

criterion_group!(benches, cohort);
criterion_main!(benches);
