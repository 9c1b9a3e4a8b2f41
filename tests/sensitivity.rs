//! One-way sensitivity (tornado): which parameters are varied, to what, and
//! that every bar and discount point is the plain run it stands for.

use lifecost::analysis::sensitivity::{self, Bounds, DISCOUNT_RATES, Sensitivity};
use lifecost::economics::DiscountRate;
use lifecost::{Error, Perspective, Scenario, Simulation};

const PEER: &str = include_str!("scenarios/peer_model.toml");

/// The peer model with `rr` (fixed 0.70) given explicit bounds written as `bounds`.
fn peer_with_rr(bounds: &str) -> Scenario {
    let original = r#"rr = { value = 0.70, source"#;
    assert!(PEER.contains(original));
    let text = PEER.replace(original, &format!("rr = {{ value = 0.70, {bounds}, source"));
    Scenario::from_toml_str(&text).expect("peer variant is valid")
}

fn default_tornado() -> (Scenario, Sensitivity) {
    let scenario = Scenario::default_scenario().unwrap();
    let s = sensitivity::one_way(&scenario, "tsi", Perspective::Fiscal).unwrap();
    (scenario, s)
}

fn npv(sim: Simulation<'_>, intervention: &str) -> f64 {
    sim.run().unwrap().compare(intervention).unwrap().npv().mean
}

#[test]
fn bars_are_sorted_by_swing_then_name() {
    let (_, s) = default_tornado();
    assert!(s.bars.len() > 5, "{} bars", s.bars.len());
    for w in s.bars.windows(2) {
        let (a, b) = (w[0].swing(), w[1].swing());
        assert!(a > b || (a == b && w[0].parameter < w[1].parameter), "{w:?}");
    }
    assert!(s.bars[0].swing() > 0.0);
}

#[test]
fn varied_parameters_are_exactly_the_named_uncertain_or_bounded_ones() {
    let (scenario, s) = default_tornado();
    let mut expected: Vec<&str> = scenario
        .parameters()
        .iter()
        .filter(|p| p.named && (p.distribution.is_uncertain() || p.low.is_some() || p.high.is_some()))
        .map(|p| p.name.as_str())
        .collect();
    let mut got: Vec<&str> = s.bars.iter().map(|b| b.parameter.as_str()).collect();
    expected.sort_unstable();
    got.sort_unstable();
    assert_eq!(got, expected);
    // A fixed number without bounds never appears: `tsi_screening = { value = 6_100 }`.
    assert!(!got.contains(&"tsi_screening"));
    assert!(scenario.parameter("tsi_screening").is_some());
}

#[test]
fn unnamed_numbers_never_appear() {
    // An inline uncertain cost, and a fixed named parameter without bounds.
    let text = PEER.replace(
        "id = \"placed\"\ncosts = { public = 60_000 }",
        "id = \"placed\"\ncosts = { public = { gamma = { mean = 60_000, sd = 10_000 } } }",
    );
    assert_ne!(text, PEER);
    let scenario = Scenario::from_toml_str(&text).unwrap();
    assert!(
        scenario
            .parameters()
            .iter()
            .any(|p| !p.named && p.distribution.is_uncertain())
    );
    let s = sensitivity::one_way(&scenario, "early_intervention", Perspective::Fiscal).unwrap();
    assert!(s.bars.is_empty(), "{:?}", s.bars);
    assert_eq!(s.discount.len(), DISCOUNT_RATES.len());
}

#[test]
fn percentile_bounds_are_p5_and_p95() {
    let (scenario, s) = default_tornado();
    let bar = s.bars.iter().find(|b| b.parameter == "hr_placement").unwrap();
    let p = &scenario.parameters()[scenario.parameter("hr_placement").unwrap().index()];
    assert_eq!(bar.bounds, Bounds::Percentiles);
    assert_eq!((bar.low, bar.high), (p.value_at(0.05), p.value_at(0.95)));
    assert!(bar.low < p.mean() && p.mean() < bar.high);
}

#[test]
fn given_bounds_are_used() {
    let scenario = peer_with_rr("low = 0.5, high = 0.9");
    let s = sensitivity::one_way(&scenario, "early_intervention", Perspective::Fiscal).unwrap();
    assert_eq!(s.bars.len(), 1);
    let bar = &s.bars[0];
    assert_eq!((bar.parameter.as_str(), bar.low, bar.high), ("rr", 0.5, 0.9));
    assert_eq!(bar.bounds, Bounds::Given);
    // A stronger effect (lower relative risk) saves more.
    assert!(
        bar.npv_low > s.base_npv && s.base_npv > bar.npv_high,
        "{bar:?} {}",
        s.base_npv
    );

    // Each bound independently: only `low` written, the high end from the distribution.
    let text = Scenario::default_scenario().unwrap().spec().clone();
    let mut spec = text;
    let lifecost::param::Quantity::Table(t) = spec.parameters.get_mut("hr_placement").unwrap() else {
        panic!("hr_placement is a table")
    };
    t.low = Some(0.5);
    let scenario = Scenario::from_spec(spec).unwrap();
    let s = sensitivity::one_way(&scenario, "tsi", Perspective::Fiscal).unwrap();
    let bar = s.bars.iter().find(|b| b.parameter == "hr_placement").unwrap();
    let p = &scenario.parameters()[scenario.parameter("hr_placement").unwrap().index()];
    assert_eq!(bar.bounds, Bounds::LowGiven);
    assert_eq!((bar.low, bar.high), (0.5, p.value_at(0.95)));
}

#[test]
fn bar_npvs_equal_direct_runs() {
    let (scenario, s) = default_tornado();
    for bar in s.bars.iter().take(3) {
        let id = scenario.parameter(&bar.parameter).unwrap();
        let at = |v| {
            npv(
                Simulation::new(&scenario).perspective(Perspective::Fiscal).set(id, v),
                "tsi",
            )
        };
        assert_eq!(bar.npv_low, at(bar.low), "{}", bar.parameter);
        assert_eq!(bar.npv_high, at(bar.high), "{}", bar.parameter);
    }
    assert_eq!(s.base_npv, npv(Simulation::new(&scenario), "tsi"));
}

#[test]
fn perspective_is_passed_to_every_run() {
    let scenario = Scenario::default_scenario().unwrap();
    let s = sensitivity::one_way(&scenario, "tsi", Perspective::Societal).unwrap();
    let societal = npv(Simulation::new(&scenario).perspective(Perspective::Societal), "tsi");
    assert_eq!(s.base_npv, societal);
    assert_ne!(s.base_npv, npv(Simulation::new(&scenario), "tsi"));
    let bar = &s.bars[0];
    let id = scenario.parameter(&bar.parameter).unwrap();
    let direct = npv(
        Simulation::new(&scenario)
            .perspective(Perspective::Societal)
            .set(id, bar.high),
        "tsi",
    );
    assert_eq!(bar.npv_high, direct);
}

#[test]
fn own_constant_rate_equals_the_plain_run() {
    // The default scenario discounts at a constant 3.5 % with timing "mid".
    let (scenario, s) = default_tornado();
    assert_eq!(s.discount.iter().map(|d| d.rate).collect::<Vec<_>>(), DISCOUNT_RATES);
    let at = s.discount.iter().find(|d| d.rate == 0.035).unwrap();
    let run = Simulation::new(&scenario).run().unwrap();
    let tsi = run.compare("tsi").unwrap();
    approx::assert_relative_eq!(at.npv, s.base_npv, max_relative = 1e-12);
    approx::assert_relative_eq!(at.bcr.unwrap(), tsi.bcr().unwrap().mean, max_relative = 1e-12);
    // Discounting less weighs the late savings more.
    let npvs: Vec<f64> = s.discount.iter().map(|d| d.npv).collect();
    assert!(npvs.windows(2).all(|w| w[0] > w[1]), "{npvs:?}");
}

#[test]
fn zero_rate_is_the_undiscounted_sum_of_the_streams() {
    let scenario = peer_with_rr("low = 0.5, high = 0.9");
    let s = sensitivity::one_way(&scenario, "early_intervention", Perspective::Fiscal).unwrap();
    let run = Simulation::new(&scenario).run().unwrap();
    let streams = run.base_streams();
    // The peer model has one payer, public, so the fiscal perspective sums every row.
    assert_eq!(scenario.payers().len(), 1);
    let (sq, arm) = (&streams[0], &streams[1]);
    let undiscounted = (sq.care.sum() - arm.care.sum()) - arm.intervention.sum();
    let zero = &s.discount[0];
    assert_eq!(zero.rate, 0.0);
    approx::assert_relative_eq!(zero.npv, undiscounted, max_relative = 1e-12);
    let direct = npv(
        Simulation::new(&scenario).discount(DiscountRate::constant(0.0)),
        "early_intervention",
    );
    assert_eq!(zero.npv, direct);
}

/// Two states: placed (100 000 a year) and home (free); a placed child goes
/// home with probability 0.2 a year, 0.3 with the intervention (relative
/// risk 1.5), which costs 50 000 once. Over 20 years, undiscounted:
/// NPV = 100 000 · Σ_{t<20} (0.8^t − 0.7^t) − 50 000.
const TWO_STATE: &str = r#"
[scenario]
name = "two states"
price_year = 2024
start_age = 0
end_age = 20

[discounting]
costs = 0.035
outcomes = 0.035
timing = "mid"

[payers]
public = { name = "Public", public = true }

[parameters]
rr_home = { lognormal = { median = 1.5, ci95 = [1.2, 1.8] } }

[[states]]
id = "placed"
costs = { public = 100_000 }

[[states]]
id = "home"
absorbing = true

[[transitions]]
from = "placed"
to = { home = 0.2 }

[[population]]
size = 1
start = { placed = 1.0 }

[[interventions]]
id = "support"
enrol = { states = ["placed"], uptake = 1.0 }
participant_costs = { once = { public = 50_000 } }

[[interventions.effects]]
from = "placed"
to = ["home"]
relative_risk = 1.5
"#;

#[test]
fn zero_rate_matches_the_two_state_closed_form() {
    let scenario = Scenario::from_toml_str(TWO_STATE).unwrap();
    let s = sensitivity::one_way(&scenario, "support", Perspective::Fiscal).unwrap();
    let closed: f64 = 100_000.0 * (0..20).map(|t| 0.8f64.powi(t) - 0.7f64.powi(t)).sum::<f64>() - 50_000.0;
    approx::assert_relative_eq!(s.discount[0].npv, closed, max_relative = 1e-12);
    // `rr_home` is named and uncertain but unused: it is varied, and moves nothing.
    assert_eq!(s.bars.len(), 1);
    assert_eq!(s.bars[0].swing(), 0.0);
}

#[test]
fn identical_on_one_and_two_threads() {
    let scenario = Scenario::default_scenario().unwrap();
    let on = |n: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .unwrap()
            .install(|| sensitivity::one_way(&scenario, "tsi", Perspective::Fiscal).unwrap())
    };
    let (one, two) = (on(1), on(2));
    assert_eq!(one, two);
    assert_eq!(one.to_json().to_string(), two.to_json().to_string());
    assert_eq!(one.to_text(), two.to_text());
}

#[test]
fn json_has_the_specified_keys() {
    let (_, s) = default_tornado();
    let j = s.to_json();
    let keys = |v: &serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        keys(&j),
        [
            "intervention",
            "perspective",
            "currency",
            "base_npv",
            "bars",
            "discount"
        ]
    );
    assert_eq!(j["intervention"], "tsi");
    assert_eq!(j["perspective"], "fiscal");
    assert_eq!(j["base_npv"].as_f64().unwrap(), s.base_npv);
    let bars = j["bars"].as_array().unwrap();
    assert_eq!(bars.len(), s.bars.len());
    assert_eq!(
        keys(&bars[0]),
        ["parameter", "low", "high", "bounds", "npv_low", "npv_high", "swing"]
    );
    assert_eq!(bars[0]["parameter"], s.bars[0].parameter.as_str());
    assert_eq!(bars[0]["swing"].as_f64().unwrap(), s.bars[0].swing());
    assert!(bars.iter().all(|b| b["bounds"] == "percentiles"));
    let discount = j["discount"].as_array().unwrap();
    assert_eq!(discount.len(), 4);
    assert_eq!(keys(&discount[0]), ["rate", "npv", "bcr"]);
    assert_eq!(discount[2]["rate"].as_f64().unwrap(), 0.035);

    let given = peer_with_rr("low = 0.5, high = 0.9");
    let j = sensitivity::one_way(&given, "early_intervention", Perspective::Fiscal)
        .unwrap()
        .to_json();
    assert_eq!(j["bars"][0]["bounds"], "given");
}

#[test]
fn json_writes_non_finite_numbers_as_null() {
    let (_, mut s) = default_tornado();
    s.base_npv = f64::NAN;
    s.bars[0].npv_high = f64::INFINITY;
    s.discount[0].bcr = None;
    let j = s.to_json();
    assert!(j["base_npv"].is_null());
    assert!(j["bars"][0]["npv_high"].is_null());
    assert!(j["bars"][0]["swing"].is_null());
    assert!(j["discount"][0]["bcr"].is_null());
}

#[test]
fn unknown_intervention_is_an_error() {
    let scenario = Scenario::default_scenario().unwrap();
    let e = sensitivity::one_way(&scenario, "no_such_program", Perspective::Fiscal).unwrap_err();
    assert!(matches!(e, Error::UnknownIntervention { .. }), "{e}");
    assert!(e.to_string().contains("tsi"), "{e}");
}

#[test]
fn a_bound_that_breaks_a_row_is_an_error_naming_the_parameter() {
    // rr = 8 pushes the moves out of `at_risk` to 0.15 + 8·(0.06 + 0.085) + 0.005 > 1.
    let scenario = peer_with_rr("low = 0.5, high = 8");
    let e = sensitivity::one_way(&scenario, "early_intervention", Perspective::Fiscal).unwrap_err();
    let Error::Scenario(inner) = &e else { panic!("{e}") };
    assert_eq!(inner.path, "parameters.rr.high");
    let text = e.to_string();
    assert!(text.contains("is 8") && text.contains("at_risk"), "{text}");
}

#[test]
fn a_bound_the_file_could_not_hold_is_an_error_naming_the_parameter() {
    // A negative ratio: the engine would take it, the scenario's rules do not.
    let scenario = peer_with_rr("low = -0.5, high = 0.9");
    let e = sensitivity::one_way(&scenario, "early_intervention", Perspective::Fiscal).unwrap_err();
    let Error::Scenario(inner) = &e else { panic!("{e}") };
    assert_eq!(inner.path, "parameters.rr.low", "{e}");
    assert!(e.to_string().contains("ratio ≥ 0"), "{e}");
}

#[test]
fn text_shows_the_tornado_and_the_discount_table() {
    let (_, s) = default_tornado();
    let text = s.to_text();
    assert!(
        text.starts_with("One-way sensitivity of NPV per child, tsi, fiscal perspective\n"),
        "{text}"
    );
    let first = text.lines().find(|l| l.starts_with(&s.bars[0].parameter)).unwrap();
    assert!(
        first.contains('→') && first.contains('█') && first.contains('│'),
        "{first}"
    );
    assert!(
        first.contains(&lifecost::report::text::amount(s.bars[0].swing())),
        "{first}"
    );
    assert!(text.contains("Discount rate"), "{text}");
    for r in ["0.0 %", "1.5 %", "3.5 %", "4.0 %"] {
        assert!(text.contains(r), "{r} in {text}");
    }
    println!("{text}");
}
