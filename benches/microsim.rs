//! Speed of the microsimulation's two kernels, in person-years (children ×
//! cycles × arms) per second: the event kernel, which draws the wait to the
//! next move in one go, against the step kernel, one number per cycle.
//!
//! `cargo bench --bench microsim`; CI only builds it (`cargo bench --no-run`).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use lifecost::Scenario;
use lifecost::economics::{Frame, valuation};
use lifecost::engine::microsim::{Kernel, MicrosimOptions, run_with};
use lifecost::model::Model;

const PEER_MODEL: &str = include_str!("../tests/scenarios/peer_model.toml");

fn kernels(c: &mut Criterion) {
    let mut group = c.benchmark_group("microsim kernel, person-years");
    group.sample_size(20);
    for (name, text, children) in [
        ("peer model", PEER_MODEL, 50_000u64),
        ("default scenario", lifecost::scenario::DEFAULT_SCENARIO_TOML, 10_000),
    ] {
        let scenario = Scenario::from_toml_str(text).expect("valid");
        let model = Model::compile_lean(&scenario, &scenario.base_values()).expect("compiles");
        let value = valuation(&Frame::new(&scenario, scenario.perspective()), &model);
        let person_years = children * model.n_cycles() as u64 * model.arms.len() as u64;
        group.throughput(Throughput::Elements(person_years));
        for (kernel, label) in [(Kernel::Events, "events"), (Kernel::Steps, "steps")] {
            let options = MicrosimOptions {
                seed: 1,
                draw: 0,
                children,
                common_random_numbers: true,
            };
            group.bench_function(BenchmarkId::new(label, name), |b| {
                b.iter(|| run_with(&model, &value, options, kernel, None).expect("runs"))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, kernels);
criterion_main!(benches);
