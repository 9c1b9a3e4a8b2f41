//! Speed of the engines: scenario compilation, one cohort draw, a PSA, the
//! microsimulation per person-year, and the random streams it draws from.
//!
//! `cargo bench` runs them; CI only builds them (`cargo bench --no-run`).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use lifecost::economics::{self, Frame};
use lifecost::engine::{cohort, rng};
use lifecost::model::Model;
use lifecost::{Engine, Scenario, Simulation};
use rand::{Rng, SeedableRng};

const PEER_MODEL: &str = include_str!("../tests/scenarios/peer_model.toml");
const PEER_MODEL_PSA: &str = include_str!("scenarios/peer_model_psa.toml");

fn compile(c: &mut Criterion) {
    let default = Scenario::default_scenario().expect("the default scenario is valid");
    c.bench_function("read and check the default scenario", |b| {
        b.iter(|| Scenario::from_toml_str(lifecost::scenario::DEFAULT_SCENARIO_TOML).expect("valid"))
    });
    let values = default.base_values();
    c.bench_function("compile the default scenario for one draw", |b| {
        b.iter(|| Model::compile(&default, &values).expect("compiles"))
    });
}

fn cohort_draw(c: &mut Criterion) {
    let mut group = c.benchmark_group("cohort, one draw");
    for (name, text) in [
        ("peer model", PEER_MODEL),
        ("default scenario", lifecost::scenario::DEFAULT_SCENARIO_TOML),
    ] {
        let scenario = Scenario::from_toml_str(text).expect("valid");
        let values = scenario.base_values();
        group.bench_function(name, |b| {
            b.iter(|| {
                let model = Model::compile(&scenario, &values).expect("compiles");
                cohort::run(&model, 1.0).expect("runs")
            })
        });
    }
    group.finish();
}

/// The pieces of one cohort PSA draw, each on its own: sampling the
/// parameters, compiling the model, running the engine, the economics.
fn draw_parts(c: &mut Criterion) {
    let mut group = c.benchmark_group("a PSA draw, by part");
    for (name, text) in [
        ("peer model", PEER_MODEL_PSA),
        ("default scenario", lifecost::scenario::DEFAULT_SCENARIO_TOML),
    ] {
        let scenario = Scenario::from_toml_str(text).expect("valid");
        let mut draw = 0u64;
        group.bench_function(format!("{name}: sample the parameters"), |b| {
            b.iter(|| {
                draw += 1;
                lifecost::draw_values(&scenario, 1, draw)
            })
        });
        let values = lifecost::draw_values(&scenario, 1, 1);
        group.bench_function(format!("{name}: compile"), |b| {
            b.iter(|| Model::compile(&scenario, &values).expect("compiles"))
        });
        group.bench_function(format!("{name}: compile lean"), |b| {
            b.iter(|| Model::compile_lean(&scenario, &values).expect("compiles"))
        });
        let model = Model::compile_lean(&scenario, &values).expect("compiles");
        group.bench_function(format!("{name}: cohort engine"), |b| {
            b.iter(|| cohort::run(&model, 1.0).expect("runs"))
        });
        // As a PSA runs its draws: side by side where they have one shape, each
        // compiled into the memory of the one before. Per iteration, LANES draws.
        let draws: Vec<Vec<f64>> = (0..cohort::LANES as u64)
            .map(|d| lifecost::draw_values(&scenario, 1, d))
            .collect();
        let mut models: Vec<Model> = draws
            .iter()
            .map(|v| Model::compile_lean(&scenario, v).expect("compiles"))
            .collect();
        group.bench_function(
            format!("{name}: recompile and run {} draws side by side", cohort::LANES),
            |b| {
                b.iter(|| {
                    Model::recompile_many(&mut models, &scenario, &draws).expect("compiles");
                    for streams in cohort::run_many(&models, 1.0) {
                        cohort::recycle(streams.expect("runs"));
                    }
                })
            },
        );
        let streams = cohort::run(&model, 1.0).expect("runs");
        let frame = Frame::new(&scenario, scenario.perspective());
        let start_years = scenario.start_years();
        group.bench_function(format!("{name}: economics"), |b| {
            b.iter(|| economics::draw_figures(&frame, &streams, &start_years, false))
        });
    }
    group.finish();
}

fn psa(c: &mut Criterion) {
    let mut group = c.benchmark_group("PSA, 100 draws");
    group.sample_size(10);
    for (name, text) in [
        ("peer model", PEER_MODEL),
        ("default scenario", lifecost::scenario::DEFAULT_SCENARIO_TOML),
    ] {
        let scenario = Scenario::from_toml_str(text).expect("valid");
        group.bench_function(name, |b| {
            b.iter(|| Simulation::new(&scenario).draws(100).seed(1).run().expect("runs"))
        });
    }
    group.finish();
}

fn microsim(c: &mut Criterion) {
    let scenario = Scenario::from_toml_str(PEER_MODEL).expect("valid");
    let children = 20_000u64;
    let mut group = c.benchmark_group("microsim, person-years");
    group.sample_size(10);
    // Two arms of 80 cycles each.
    group.throughput(Throughput::Elements(children * 80 * 2));
    group.bench_with_input(BenchmarkId::new("peer model", children), &children, |b, &n| {
        b.iter(|| {
            Simulation::new(&scenario)
                .engine(Engine::Microsim)
                .children(n)
                .run()
                .expect("runs")
        })
    });
    group.finish();
}

fn streams(c: &mut Criterion) {
    let mut group = c.benchmark_group("a child's stream: select it and draw 82 numbers");
    group.bench_function("xoshiro256++ seeded by SplitMix64 (used)", |b| {
        let mut child = 0u64;
        b.iter(|| {
            child += 1;
            let mut s = rng::child_stream(7, 0, child, None);
            (0..82).map(|_| rng::uniform(&mut s)).sum::<f64>()
        })
    });
    group.bench_function("ChaCha8 with the child as stream", |b| {
        let mut child = 0u64;
        b.iter(|| {
            child += 1;
            let mut s = rand_chacha::ChaCha8Rng::seed_from_u64(7);
            s.set_stream(child);
            (0..82)
                .map(|_| (s.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64))
                .sum::<f64>()
        })
    });
    group.finish();
}

criterion_group!(benches, compile, cohort_draw, draw_parts, psa, microsim, streams);
criterion_main!(benches);
