//! The microsimulation's two kernels — the event kernel (moves drawn in one
//! go per stretch of cycles) and the step kernel (one random number per
//! cycle) — give the same joint law of the arms' paths: the same expected
//! occupancy, entries and costs of every arm, and, under common random
//! numbers, the same spread of the difference between arms.

use lifecost::Scenario;
use lifecost::economics::{Frame, valuation};
use lifecost::engine::ArmStreams;
use lifecost::engine::microsim::{Kernel, MicrosimOptions, MicrosimOutput, run_with};
use lifecost::model::Model;

const PEER_MODEL: &str = include_str!("scenarios/peer_model.toml");

fn peer_with(changes: &[(&str, &str)], extra: &str) -> Scenario {
    let mut text = PEER_MODEL.to_owned();
    for (from, to) in changes {
        assert!(text.contains(from), "`{from}` not in the peer model");
        text = text.replace(from, to);
    }
    Scenario::from_toml_str(&format!("{text}{extra}")).unwrap()
}

fn simulate(scenario: &Scenario, kernel: Kernel, children: u64, seed: u64, crn: bool) -> MicrosimOutput {
    let model = Model::compile_lean(scenario, &scenario.base_values()).unwrap();
    let frame = Frame::new(scenario, scenario.perspective());
    let options = MicrosimOptions {
        seed,
        draw: 0,
        children,
        common_random_numbers: crn,
    };
    run_with(&model, &valuation(&frame, &model), options, kernel, None).unwrap()
}

/// Named figures of one set of arm streams: per arm, years and entries in
/// each state, care and intervention costs; per intervention, its care
/// cost minus the status quo's.
fn figures(streams: &[ArmStreams]) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    for (a, s) in streams.iter().enumerate() {
        for state in 0..s.occupancy.nrows() {
            out.push((format!("arm {a} years in {state}"), s.occupancy.row(state).sum()));
            out.push((format!("arm {a} entries to {state}"), s.entries.row(state).sum()));
        }
        out.push((format!("arm {a} care"), s.care.sum()));
        out.push((format!("arm {a} intervention"), s.intervention.sum()));
        if a > 0 {
            out.push((format!("arm {a} − arm 0 care"), s.care.sum() - streams[0].care.sum()));
        }
    }
    out
}

/// Each figure's mean (over all children) and its standard error from the replicates.
fn estimates(out: &MicrosimOutput) -> Vec<(String, f64, f64)> {
    let total = figures(&out.streams);
    let per_replicate: Vec<Vec<(String, f64)>> = out.replicates.iter().map(|(_, s)| figures(s)).collect();
    let r = per_replicate.len() as f64;
    total
        .into_iter()
        .enumerate()
        .map(|(i, (name, mean))| {
            let values: Vec<f64> = per_replicate.iter().map(|f| f[i].1).collect();
            let m = values.iter().sum::<f64>() / r;
            let var = values.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (r - 1.0);
            (name, mean, (var / r).sqrt())
        })
        .collect()
}

/// Every figure of the two kernels differs by less than 4 standard errors of the difference.
fn kernels_agree(name: &str, scenario: &Scenario, children: u64, crn: bool) {
    let events = estimates(&simulate(scenario, Kernel::Events, children, 5, crn));
    let steps = estimates(&simulate(scenario, Kernel::Steps, children, 6, crn));
    let mut checked = 0;
    for ((what, e, se_e), (_, s, se_s)) in events.iter().zip(&steps) {
        let se = se_e.hypot(*se_s);
        if se == 0.0 {
            assert_eq!(e, s, "{name} {what}: exact in both kernels");
            continue;
        }
        let z = (e - s) / se;
        println!("{name:<18} {what:<28} events {e:>14.4}  steps {s:>14.4}  z {z:+.2}");
        assert!(z.abs() < 4.0, "{name} {what}: events {e} vs steps {s} (z = {z})");
        checked += 1;
    }
    assert!(checked > 10, "{name}: only {checked} figures with a spread");
}

#[test]
fn kernels_agree_on_the_peer_model() {
    kernels_agree("peer", &peer_with(&[], ""), 200_000, true);
}

#[test]
fn kernels_agree_with_independent_streams() {
    kernels_agree("independent", &peer_with(&[], ""), 100_000, false);
}

#[test]
fn kernels_agree_on_the_default_scenario() {
    kernels_agree("default", &Scenario::default_scenario().unwrap(), 50_000, true);
}

#[test]
fn kernels_agree_with_fading_effects_paid_years_and_entry_costs() {
    let s = peer_with(
        &[
            (
                "relative_risk = \"$rr\"",
                "hazard_ratio = 0.5\nduration = 3\nhalf_life = 4",
            ),
            ("uptake = 1.0", "uptake = 0.6"),
            (
                "costs = { public = 60_000 }",
                "costs = { public = 60_000 }\nentry_costs = { public = 40_000 }",
            ),
            (
                "participant_costs = { once = { public = 8_000 } }",
                "participant_costs = { once = { public = 8_000 }, per_year = { public = 2_000 }, years = 3 }",
            ),
        ],
        "",
    );
    kernels_agree("fading", &s, 200_000, true);
}

#[test]
fn kernels_agree_with_history_rules() {
    let rules = "\n[[history]]\nfrom = [\"on_track\", \"at_risk\"]\nto = \"neet\"\never_in = \"placed\"\nhazard_ratio = 2.0\n\
                 \n[[history]]\nfrom = \"neet\"\nto = [\"on_track\", \"at_risk\"]\nmin_years_in_state = 2\nhazard_ratio = 0.5\n";
    kernels_agree("history", &peer_with(&[], rules), 200_000, true);
}

#[test]
fn kernels_agree_with_an_enrolment_window_and_end_and_life_table_counting() {
    let window = [
        ("cycle_counting = \"beginning\"", "cycle_counting = \"end\""),
        (
            "enrol = { states = [\"at_risk\", \"on_track\", \"placed\", \"neet\"], uptake = 1.0 }",
            "enrol = { states = [\"neet\"], uptake = 0.8, ages = [5, 30] }",
        ),
        (
            "from = \"at_risk\"\nto = [\"placed\", \"neet\"]",
            "from = \"neet\"\nto = [\"on_track\", \"at_risk\"]",
        ),
        ("relative_risk = \"$rr\"", "hazard_ratio = 1.5"),
    ];
    kernels_agree("window, end", &peer_with(&window, ""), 200_000, true);
    let life_table = [("cycle_counting = \"beginning\"", "cycle_counting = \"life_table\"")];
    kernels_agree("life table", &peer_with(&life_table, ""), 100_000, true);
}

/// Under common random numbers both kernels couple the arms the same way,
/// so the difference between arms has the same spread (its standard
/// error, averaged over seeds to steady it).
#[test]
fn kernels_couple_the_arms_alike() {
    let s = peer_with(&[], "");
    let se_of_difference = |kernel: Kernel| {
        let seeds = 1..=4;
        let n = seeds.clone().count() as f64;
        seeds
            .map(|seed| {
                let e = estimates(&simulate(&s, kernel, 100_000, seed, true));
                e.iter().find(|(w, ..)| w == "arm 1 − arm 0 care").unwrap().2
            })
            .sum::<f64>()
            / n
    };
    let (events, steps) = (se_of_difference(Kernel::Events), se_of_difference(Kernel::Steps));
    let ratio = events / steps;
    println!("SE of the care difference: events {events:.4}, steps {steps:.4}, ratio {ratio:.3}");
    assert!(
        (0.8..1.25).contains(&ratio),
        "the kernels couple the arms differently: {ratio}"
    );
}

/// An arm that surely stays where it is (a relative risk of 0 on every
/// way out of `at_risk`) leaves the other arm moving at its own pace: the
/// joint wait is that of the arm most likely to move.
#[test]
fn kernels_agree_when_an_arm_surely_stays() {
    let s = peer_with(
        &[(
            "to = [\"placed\", \"neet\"]\nrelative_risk = \"$rr\"",
            "to = [\"on_track\", \"placed\", \"neet\", \"dead\"]\nrelative_risk = 0.0",
        )],
        "",
    );
    kernels_agree("surely stays", &s, 100_000, true);
}
