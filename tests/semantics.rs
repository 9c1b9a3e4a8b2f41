//! The cohort engine and economics against closed forms (DESIGN §2, §3).

mod common;

use common::well_sick;
use lifecost::{Scenario, Simulation};

/// A two-state model: `alive` (annual cost 1 000, entry into `dead` costs
/// 500, outcome `life_years` 1) and `dead`, constant exit probability `q`.
fn two_state(q: f64, horizon: u32, rates: (f64, f64), timing: &str, counting: &str, intervention: &str) -> Scenario {
    let toml = format!(
        r#"
[scenario]
name = "two states"
price_year = 2024
start_age = 0
end_age = {horizon}

[discounting]
costs = {}
outcomes = {}
timing = "{timing}"
cycle_counting = "{counting}"

[payers]
public = {{ public = true }}
private = {{ public = false }}

[[states]]
id = "alive"
costs = {{ public = 1000, private = 250 }}
outcomes = {{ life_years = 1 }}

[[states]]
id = "dead"
absorbing = true
entry_costs = {{ public = 500 }}

[[transitions]]
from = "alive"
to = {{ dead = {q} }}

[[population]]
size = 10
start = {{ alive = 1.0 }}

{intervention}
"#,
        rates.0, rates.1
    );
    match Scenario::from_toml_str(&toml) {
        Ok(s) => s,
        Err(e) => panic!("{e}\n{toml}"),
    }
}

fn rel_close(actual: f64, expected: f64, what: &str) {
    let scale = expected.abs().max(1e-300);
    assert!(
        ((actual - expected) / scale).abs() < 1e-12,
        "{what}: {actual} vs closed form {expected}"
    );
}

/// Σ_{t<n} a^t.
fn geometric(a: f64, n: u32) -> f64 {
    (1.0 - a.powi(n as i32)) / (1.0 - a)
}

#[test]
fn two_state_closed_form_for_every_counting_and_timing() {
    let (q, horizon, r_cost, r_out) = (0.07, 60, 0.035, 0.015);
    for (timing, tau) in [("start", 0.0), ("mid", 0.5), ("end", 1.0)] {
        for counting in ["beginning", "end", "life_table"] {
            let s = two_state(q, horizon, (r_cost, r_out), timing, counting, "");
            let run = Simulation::new(&s).run().unwrap();
            let k = match counting {
                "beginning" => 1.0,
                "end" => 1.0 - q,
                _ => (2.0 - q) / 2.0,
            };
            let (vc, vo) = (1.0 / (1.0 + r_cost), 1.0 / (1.0 + r_out));
            let occupancy_pv = |v: f64| v.powf(tau) * k * geometric(v * (1.0 - q), horizon);
            let entries_pv = vc.powf(tau) * q * geometric(vc * (1.0 - q), horizon);
            let what = format!("{timing}/{counting}");
            let fiscal = 1000.0 * occupancy_pv(vc) + 500.0 * entries_pv;
            rel_close(
                run.arm_estimate(0, |a| a.cost).mean,
                fiscal,
                &format!("{what} fiscal cost"),
            );
            rel_close(
                run.arm_estimate(0, |a| a.cost_by_payer[1]).mean,
                250.0 * occupancy_pv(vc),
                &what,
            );
            rel_close(
                run.arm_estimate(0, |a| a.outcomes[0]).mean,
                occupancy_pv(vo),
                &format!("{what} outcome"),
            );
        }
    }
}

#[test]
fn societal_perspective_adds_every_payer() {
    let s = two_state(0.05, 40, (0.03, 0.03), "mid", "beginning", "");
    let fiscal = Simulation::new(&s).run().unwrap();
    let societal = Simulation::new(&s)
        .perspective(lifecost::Perspective::Societal)
        .run()
        .unwrap();
    let by_payer = fiscal.arm_estimate(0, |a| a.cost_by_payer[0] + a.cost_by_payer[1]).mean;
    rel_close(
        societal.arm_estimate(0, |a| a.cost).mean,
        by_payer,
        "societal = all payers",
    );
    assert!(fiscal.arm_estimate(0, |a| a.cost).mean < by_payer);
}

/// The scenario with its cost discount rate replaced by a schedule of `(from_year, rate)` steps.
fn with_cost_schedule(scenario: &Scenario, steps: &[(f64, f64)]) -> Scenario {
    use lifecost::scenario::spec::{RateSpec, RateStep};
    let mut spec = scenario.spec().clone();
    spec.discounting.costs = RateSpec::Schedule(
        steps
            .iter()
            .map(|&(from_year, rate)| RateStep { from_year, rate })
            .collect(),
    );
    Scenario::from_spec(spec).unwrap()
}

#[test]
fn a_one_step_schedule_equals_the_constant_rate() {
    let constant = two_state(0.05, 50, (0.035, 0.035), "mid", "beginning", "");
    let stepped = with_cost_schedule(&constant, &[(0.0, 0.035), (30.0, 0.035)]);
    let a = Simulation::new(&constant)
        .run()
        .unwrap()
        .arm_estimate(0, |a| a.cost)
        .mean;
    let b = Simulation::new(&stepped)
        .run()
        .unwrap()
        .arm_estimate(0, |a| a.cost)
        .mean;
    rel_close(b, a, "one-rate schedule");
}

#[test]
fn declining_schedule_compounds_segment_by_segment() {
    let base = two_state(0.0, 40, (0.0, 0.0), "start", "beginning", "");
    let s = with_cost_schedule(&base, &[(0.0, 0.035), (30.0, 0.03)]);
    let cost = Simulation::new(&s).run().unwrap().arm_estimate(0, |a| a.cost).mean;
    // Nobody dies (q = 0): 1 000 a year for 40 years.
    let expected: f64 = (0..40)
        .map(|t| {
            let t = f64::from(t);
            let first = t.min(30.0);
            1000.0 * 1.035f64.powf(-first) * 1.03f64.powf(-(t - first))
        })
        .sum();
    rel_close(cost, expected, "declining schedule");
}

const NO_EFFECT: &str = r#"
[[interventions]]
id = "nothing"
enrol = { states = ["alive"] }
"#;

#[test]
fn an_intervention_without_effects_or_costs_changes_nothing_exactly() {
    let s = two_state(0.07, 60, (0.035, 0.035), "mid", "life_table", NO_EFFECT);
    let run = Simulation::new(&s).run().unwrap();
    let c = run.compare("nothing").unwrap();
    assert_eq!(c.savings().mean, 0.0);
    assert_eq!(c.intervention_cost().mean, 0.0);
    assert_eq!(c.npv().mean, 0.0);
    assert!(
        c.bcr().is_none() && c.roi().is_none(),
        "BCR and ROI are undefined without cost"
    );
    assert_eq!(run.base_streams()[0].care, run.base_streams()[1].care);
    assert_eq!(c.base().incremental_outcomes, vec![0.0]);
    assert_eq!(c.base().icer, vec![None]);
}

#[test]
fn a_hazard_ratio_of_one_gives_identical_arms() {
    let with_hr = format!(
        "{NO_EFFECT}\n[[interventions.effects]]\nfrom = \"alive\"\nto = \"dead\"\nhazard_ratio = 1.0\nduration = 5\nhalf_life = 2\n"
    );
    let s = two_state(0.07, 60, (0.035, 0.035), "end", "end", &with_hr);
    let run = Simulation::new(&s).run().unwrap();
    assert_eq!(run.base_streams()[0].care, run.base_streams()[1].care);
    assert_eq!(run.base_streams()[0].occupancy, run.base_streams()[1].occupancy);
    assert_eq!(run.compare("nothing").unwrap().npv().mean, 0.0);
}

/// Cost of the arm when the exit probability is `q_of(t)` in cycle `t`.
fn pv_with_exit(q_of: impl Fn(u32) -> f64, horizon: u32, r: f64) -> f64 {
    let mut alive = 1.0;
    let mut pv = 0.0;
    for t in 0..horizon {
        let q = q_of(t);
        let d = (1.0 + r).powf(-(f64::from(t) + 0.5));
        pv += d * (1000.0 * alive + 500.0 * alive * q);
        alive *= 1.0 - q;
    }
    pv
}

#[test]
fn each_effect_measure_changes_the_exit_probability_as_defined() {
    let q: f64 = 0.07;
    let cases = [
        ("hazard_ratio = 0.6", 1.0 - (1.0 - q).powf(0.6)),
        ("relative_risk = 0.6", 0.6 * q),
        ("odds_ratio = 0.6", 0.6 * q / (1.0 - q + 0.6 * q)),
        ("effect_size_d = -0.3", {
            let or = (1.65f64 * -0.3).exp();
            or * q / (1.0 - q + or * q)
        }),
    ];
    for (measure, q_new) in cases {
        let iv = format!("{NO_EFFECT}\n[[interventions.effects]]\nfrom = \"alive\"\nto = \"dead\"\n{measure}\n");
        let s = two_state(q, 50, (0.035, 0.035), "mid", "beginning", &iv);
        let run = Simulation::new(&s).run().unwrap();
        rel_close(
            run.arm_estimate(1, |a| a.cost).mean,
            pv_with_exit(|_| q_new, 50, 0.035),
            measure,
        );
    }
}

#[test]
fn duration_then_half_life_fading() {
    let q: f64 = 0.1;
    let iv = format!(
        "{NO_EFFECT}\n[[interventions.effects]]\nfrom = \"alive\"\nto = \"dead\"\nhazard_ratio = 0.5\nduration = 3\nhalf_life = 2\n"
    );
    let s = two_state(q, 30, (0.035, 0.035), "mid", "beginning", &iv);
    let run = Simulation::new(&s).run().unwrap();
    let hr = |t: u32| {
        let t = f64::from(t);
        if t < 3.0 {
            0.5
        } else {
            0.5f64.powf(0.5f64.powf((t - 3.0) / 2.0))
        }
    };
    let expected = pv_with_exit(|t| 1.0 - (1.0 - q).powf(hr(t)), 30, 0.035);
    rel_close(
        run.arm_estimate(1, |a| a.cost).mean,
        expected,
        "duration 3, half-life 2",
    );

    let stop = format!(
        "{NO_EFFECT}\n[[interventions.effects]]\nfrom = \"alive\"\nto = \"dead\"\nrelative_risk = 0.5\nduration = 4\n"
    );
    let s = two_state(q, 30, (0.035, 0.035), "mid", "beginning", &stop);
    let run = Simulation::new(&s).run().unwrap();
    let expected = pv_with_exit(|t| if t < 4 { 0.5 * q } else { q }, 30, 0.035);
    rel_close(run.arm_estimate(1, |a| a.cost).mean, expected, "duration 4, then stop");
}

#[test]
fn uptake_mixes_participants_and_the_rest() {
    let q: f64 = 0.08;
    let iv = r#"
[[interventions]]
id = "tsi"
enrol = { states = ["alive"], uptake = 0.3 }
participant_costs = { once = { public = 2000 }, per_year = { public = 100 }, years = 3 }

[[interventions.effects]]
from = "alive"
to = "dead"
relative_risk = 0.5
"#;
    let s = two_state(q, 40, (0.035, 0.035), "mid", "beginning", iv);
    let run = Simulation::new(&s).run().unwrap();
    let c = run.compare("tsi").unwrap();
    let d = |t: f64| 1.035f64.powf(-(t + 0.5));
    // Per-year costs in cycles 0, 1, 2 for participants still alive at the start of each.
    let own = 0.3
        * (2000.0 * d(0.0)
            + (0..3)
                .map(|t| 100.0 * (1.0 - 0.5 * q).powi(t) * d(f64::from(t)))
                .sum::<f64>());
    rel_close(c.intervention_cost().mean, own, "participant costs");
    let care = 0.3 * pv_with_exit(|_| 0.5 * q, 40, 0.035) + 0.7 * pv_with_exit(|_| q, 40, 0.035);
    rel_close(run.arm_estimate(1, |a| a.cost).mean, care + own, "mixture of arms");
    assert_eq!(run.base_streams()[1].participants, 0.3);
}

#[test]
fn enrolment_window_reaches_children_when_they_enter_a_target_state() {
    // Children start in `well`, move to `sick` with probability 0.2 a year;
    // the intervention enrols the sick at ages [2, 5).
    let toml = well_sick(
        10,
        "costs = 0.0\noutcomes = 0.0",
        r#"enrol = { states = ["sick"], uptake = 1.0, ages = [2, 5] }
participant_costs = { once = { kommun = 10 } }"#,
    );
    let s = Scenario::from_toml_str(&toml).unwrap();
    let run = Simulation::new(&s).run().unwrap();
    // Sick at the start of cycle 4 (age 4), the last cycle of the window: 1 − 0.8⁴.
    let participants = 1.0 - 0.8f64.powi(4);
    rel_close(run.base_streams()[1].participants, participants, "participants");
    rel_close(
        run.compare("tsi").unwrap().intervention_cost().mean,
        10.0 * participants,
        "once costs",
    );
}

#[test]
fn program_view_scales_cohorts_and_places_fixed_costs_in_calendar_years() {
    let iv = r#"
[[interventions]]
id = "tsi"
enrol = { states = ["alive"] }
program = { years = 3, children_per_year = 20, fixed_costs = { public = 30000 }, start_year = 2025 }
participant_costs = { once = { public = 1000 } }

[[interventions.effects]]
from = "alive"
to = "dead"
hazard_ratio = 0.8
"#;
    let s = two_state(0.05, 30, (0.0, 0.0), "mid", "beginning", iv);
    let run = Simulation::new(&s).run().unwrap();
    let c = run.compare("tsi").unwrap();
    let p = &c.base().program;
    assert_eq!(p.children, 60.0);
    // Per child: 1 000 once + 30 000 / 20 fixed.
    rel_close(c.intervention_cost().mean, 2500.0, "per-child cost");
    // Undiscounted, the program is 60 children.
    rel_close(p.cost, 60.0 * 2500.0, "program cost");
    rel_close(p.npv, 60.0 * c.npv().mean, "program NPV");
    assert_eq!(p.budget.len(), 3 + 29);
    // Fixed costs and each cohort's enrolment cost fall in the three program years.
    for year in 0..3 {
        rel_close(p.budget[year][0].cost, 30000.0 + 20.0 * 1000.0, "yearly program cost");
    }
    assert_eq!(p.budget[3][0].cost, 0.0);
    let total_savings: f64 = p.budget.iter().map(|y| y[0].savings).sum();
    rel_close(total_savings, p.savings, "budget adds up");
}

#[test]
fn program_view_discounts_each_cohort_in_its_calendar_year() {
    let iv = r#"
[[interventions]]
id = "tsi"
enrol = { states = ["alive"] }
program = { years = 2, children_per_year = 10 }
participant_costs = { once = { public = 1000 } }
"#;
    let s = two_state(0.05, 30, (0.05, 0.05), "start", "beginning", iv);
    let run = Simulation::new(&s).run().unwrap();
    let p = &run.compare("tsi").unwrap().base().program;
    rel_close(p.cost, 10.0 * 1000.0 * (1.0 + 1.0 / 1.05), "second cohort a year later");
}

/// The intervention halves the risk of falling sick (0.2 → 0.1) for a one-off 25 per child.
fn halving_sickness() -> Scenario {
    let intervention = r#"enrol = { states = ["well"] }
participant_costs = { once = { kommun = 25 } }

[[interventions.effects]]
from = "well"
to = "sick"
relative_risk = 0.5"#;
    Scenario::from_toml_str(&well_sick(20, "costs = 0.05\ntiming = \"start\"", intervention)).unwrap()
}
#[test]
fn payback_year_interpolates_cumulative_savings() {
    let s = halving_sickness();
    let c = Simulation::new(&s).run().unwrap();
    let c = c.compare("tsi").unwrap();
    // Savings in cycle t: 100·(0.9^t − 0.8^t), against 25 paid in cycle 0.
    let crossing = |discount: f64| {
        let mut cumulative = -25.0;
        for t in 0..20 {
            let x = 100.0 * (0.9f64.powi(t) - 0.8f64.powi(t)) * discount.powi(-t);
            if cumulative + x >= 0.0 {
                return f64::from(t) + (-cumulative) / x;
            }
            cumulative += x;
        }
        panic!("no payback")
    };
    let (discounted, undiscounted) = c.payback_year();
    rel_close(discounted.unwrap(), crossing(1.05), "discounted payback");
    rel_close(undiscounted.unwrap(), crossing(1.0), "undiscounted payback");
    assert!(discounted > undiscounted);
}

#[test]
fn a_pure_cost_never_pays_back() {
    let iv = format!("{NO_EFFECT}participant_costs = {{ once = {{ public = 1000 }} }}\n");
    let s = two_state(0.05, 30, (0.0, 0.0), "mid", "beginning", &iv);
    let run = Simulation::new(&s).run().unwrap();
    let c = run.compare("nothing").unwrap();
    assert_eq!(c.payback_year(), (None, None));
    assert_eq!(c.npv().mean, -1000.0);
}

#[test]
fn break_even_effect_scale_zeroes_the_npv() {
    let s = halving_sickness();
    let run = Simulation::new(&s).run().unwrap();
    let c = run.compare("tsi").unwrap();
    let scale = c.base().break_even.effect_scale.expect("the full effect pays back");
    assert!(scale > 0.0 && scale < 1.0, "{scale}");
    // NPV with the relative risk 0.5^scale, from the closed form of the two-state chain.
    let p = 0.2 * 0.5f64.powf(scale);
    let npv: f64 = (0..20)
        .map(|t| 100.0 * ((1.0 - p).powi(t) - 0.8f64.powi(t)) * 1.05f64.powi(-t))
        .sum::<f64>()
        - 25.0;
    println!("break-even effect scale {scale}, NPV there {npv:e}");
    assert!(npv.abs() < 1e-6 * 25.0, "NPV at the break-even scale is {npv}");
}

#[test]
fn break_even_children_divide_the_program_cost_by_the_excess_cost_of_the_state() {
    let s = halving_sickness();
    let run = Simulation::new(&s).break_even_state("sick").run().unwrap();
    let b = &run.compare("tsi").unwrap().base().break_even;
    // Sick from age 0 costs 100 a year; a well child falls sick with 0.2 a year: the excess is
    // Σ 100·0.8^t·1.05^−t over 20 years. The program (one child, 25 once) costs 25.
    let excess: f64 = (0..20).map(|t| 100.0 * 0.8f64.powi(t) * 1.05f64.powi(-t)).sum();
    rel_close(b.excess_cost.unwrap(), excess, "excess cost of falling sick");
    rel_close(b.children.unwrap(), 25.0 / excess, "break-even children");
    assert_eq!(b.state.as_deref(), Some("sick"));
    let e = Simulation::new(&s).break_even_state("nowhere").run().unwrap_err();
    assert!(
        e.to_string().contains("break_even_state") && e.to_string().contains("well, sick"),
        "{e}"
    );
}

#[test]
fn break_even_beyond_the_assumed_effect_and_never() {
    // At 150 per child, a hazard ratio of 0.8 is not enough: the program needs a stronger effect.
    let text = well_sick(
        20,
        "costs = 0.05\ntiming = \"start\"",
        "enrol = { states = [\"well\"] }\nparticipant_costs = { once = { kommun = 150 } }\n\n[[interventions.effects]]\nfrom = \"well\"\nto = \"sick\"\nhazard_ratio = 0.8",
    );
    let s = Scenario::from_toml_str(&text).unwrap();
    let c = Simulation::new(&s).run().unwrap();
    let scale = c.compare("tsi").unwrap().base().break_even.effect_scale;
    assert!(scale.is_none_or(|x| x > 1.0), "{scale:?}");
    let text = well_sick(
        20,
        "costs = 0.05",
        "enrol = { states = [\"well\"] }\nparticipant_costs = { once = { kommun = 1 } }",
    );
    let s = Scenario::from_toml_str(&text).unwrap();
    let c = Simulation::new(&s).run().unwrap();
    assert_eq!(
        c.compare("tsi").unwrap().base().break_even.effect_scale,
        None,
        "no effect: never positive"
    );
}
