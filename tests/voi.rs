//! Value of information: EVPI and EVPPI on the peer reference model with uncertain parameters.

use lifecost::analysis::voi::{self, Method, Voi};
use lifecost::{Error, RunResult, Scenario, Simulation};

const PEER_MODEL: &str = include_str!("scenarios/peer_model.toml");
const RR: &str = r#"rr = { value = 0.70, source = "reference/peer-model.md", confidence = "sourced" }"#;
const COST: &str = "participant_costs = { once = { public = 8_000 } }";

/// The peer model with `rr` and the intervention cost uncertain (NPV < 0 in about one draw in
/// seven), a parameter `noise` that nothing refers to, and a fixed parameter `fixed_one`.
fn uncertain() -> Scenario {
    peer_with(&[
        (
            RR,
            "rr = { lognormal = { mean = 0.7, sd = 0.15 } }\n\
             cost = { gamma = { mean = 12_000, sd = 4_000 } }\n\
             noise = { normal = { mean = 1, sd = 0.2 } }\n\
             fixed_one = { value = 1 }",
        ),
        (COST, r#"participant_costs = { once = { public = "$cost" } }"#),
    ])
}

/// The peer model with `rr` uniform on [0.5, 0.8]: the intervention pays in every draw.
fn always_positive() -> Scenario {
    peer_with(&[(RR, "rr = { uniform = { min = 0.5, max = 0.8 } }")])
}

/// [`uncertain`] with a second, cheaper intervention acting on placements only.
fn two_interventions() -> Scenario {
    let base = uncertain_text();
    let text = base.replace(
        "fixed_one = { value = 1 }",
        "fixed_one = { value = 1 }\nrr2 = { lognormal = { mean = 0.8, sd = 0.1 } }",
    ) + r#"
[[interventions]]
id = "light_touch"
enrol = { states = ["at_risk", "on_track", "placed", "neet"], uptake = 1.0 }
participant_costs = { once = { public = 4_000 } }

[[interventions.effects]]
from = "at_risk"
to = ["placed"]
relative_risk = "$rr2"
"#;
    Scenario::from_toml_str(&text).unwrap()
}

fn uncertain_text() -> String {
    let mut text = PEER_MODEL.to_owned();
    for (from, to) in [
        (
            RR,
            "rr = { lognormal = { mean = 0.7, sd = 0.15 } }\n\
             cost = { gamma = { mean = 12_000, sd = 4_000 } }\n\
             noise = { normal = { mean = 1, sd = 0.2 } }\n\
             fixed_one = { value = 1 }",
        ),
        (COST, r#"participant_costs = { once = { public = "$cost" } }"#),
    ] {
        assert!(text.contains(from), "`{from}` not in the peer model");
        text = text.replace(from, to);
    }
    text
}

fn peer_with(changes: &[(&str, &str)]) -> Scenario {
    let mut text = PEER_MODEL.to_owned();
    for (from, to) in changes {
        assert!(text.contains(from), "`{from}` not in the peer model");
        text = text.replace(from, to);
    }
    Scenario::from_toml_str(&text).unwrap()
}

fn psa(scenario: &Scenario, draws: u64, seed: u64) -> RunResult {
    Simulation::new(scenario).draws(draws).seed(seed).run().unwrap()
}

fn scenario_error(e: Error) -> lifecost::ScenarioError {
    match e {
        Error::Scenario(e) => e,
        other => panic!("expected a scenario error, got {other}"),
    }
}

#[test]
fn evpi_matches_a_hand_computation_and_is_positive_when_the_choice_is_uncertain() {
    let scenario = uncertain();
    let run = psa(&scenario, 1000, 3);
    let npv: Vec<f64> = run.draws().iter().map(|d| d.comparisons[0].npv).collect();
    let negative = npv.iter().filter(|&&x| x < 0.0).count();
    assert!((50..500).contains(&negative), "{negative} draws with NPV < 0");
    let n = npv.len() as f64;
    let mean = npv.iter().sum::<f64>() / n;
    let hand = npv.iter().map(|&x| x.max(0.0)).sum::<f64>() / n - mean.max(0.0);

    let e = voi::evpi(&run).unwrap();
    assert!(hand > 0.0);
    assert!((e.per_child - hand).abs() <= 1e-9 * hand, "{} vs {hand}", e.per_child);
    assert_eq!(e.draws, 1000);
    assert_eq!(e.choice, "early_intervention");
    let children = run.compare("early_intervention").unwrap().base().program.children;
    assert_eq!(e.children, children);
    assert_eq!(e.population, e.per_child * children);
    assert_eq!(e.perspective, run.perspective());

    // One intervention: the binary EVPI is the same number.
    let per = voi::evpi_per_comparison(&run);
    assert_eq!(per.len(), 1);
    assert_eq!(per[0].0, "early_intervention");
    assert!((per[0].1 - e.per_child).abs() <= 1e-9 * hand);
}

#[test]
fn evpi_with_three_options_matches_a_hand_computation() {
    let scenario = two_interventions();
    let run = psa(&scenario, 1000, 5);
    let draws = run.draws();
    let n = draws.len() as f64;
    let nb = |d: &lifecost::Figures| [0.0, d.comparisons[0].npv, d.comparisons[1].npv];
    let mean_max = draws
        .iter()
        .map(|d| nb(d).into_iter().fold(f64::MIN, f64::max))
        .sum::<f64>()
        / n;
    let means: Vec<f64> = (0..3)
        .map(|k| draws.iter().map(|d| nb(d)[k]).sum::<f64>() / n)
        .collect();
    let best = means.iter().copied().fold(f64::MIN, f64::max);
    let hand = mean_max - best;
    let arg = means.iter().position(|&m| m == best).unwrap();

    let e = voi::evpi(&run).unwrap();
    assert!(e.per_child >= 0.0);
    assert!(
        (e.per_child - hand).abs() <= 1e-9 * hand.abs().max(1.0),
        "{} vs {hand}",
        e.per_child
    );
    assert_eq!(e.choice, ["status_quo", "early_intervention", "light_touch"][arg]);

    // Each binary EVPI (that intervention or the status quo), by hand.
    let per = voi::evpi_per_comparison(&run);
    for (k, (id, v)) in per.iter().enumerate() {
        assert_eq!(id, ["early_intervention", "light_touch"][k]);
        let x: Vec<f64> = draws.iter().map(|d| d.comparisons[k].npv).collect();
        let m = x.iter().sum::<f64>() / n;
        let h = x.iter().map(|v| v.max(0.0)).sum::<f64>() / n - m.max(0.0);
        assert!((v - h).abs() <= 1e-9 * h.abs().max(1.0), "{id}: {v} vs {h}");
        assert!(*v >= 0.0);
    }
}

#[test]
fn evpi_and_evppi_are_zero_when_every_draw_picks_the_same_option() {
    let scenario = always_positive();
    let run = psa(&scenario, 500, 1);
    assert!(run.draws().iter().all(|d| d.comparisons[0].npv > 0.0));
    let e = voi::evpi(&run).unwrap();
    assert_eq!(e.per_child, 0.0);
    assert_eq!(e.population, 0.0);
    assert_eq!(e.choice, "early_intervention");
    assert_eq!(
        voi::evpi_per_comparison(&run),
        vec![("early_intervention".to_owned(), 0.0)]
    );
    let p = voi::evppi(&scenario, &run, &["rr"]).unwrap();
    assert_eq!(p.per_child, 0.0);
}

#[test]
fn evppi_of_one_parameter_lies_between_zero_and_evpi() {
    let scenario = uncertain();
    let run = psa(&scenario, 1000, 3);
    let evpi = voi::evpi(&run).unwrap().per_child;
    let tol = 1e-9 * evpi;
    for name in ["rr", "cost"] {
        let p = voi::evppi(&scenario, &run, &[name]).unwrap();
        println!("EVPPI({name}) = {} of EVPI {evpi}", p.per_child);
        assert!(
            p.per_child >= -tol && p.per_child <= evpi + tol,
            "{name}: {}",
            p.per_child
        );
        assert_eq!(p.method, Method::Binning { bins: 32 });
        assert_eq!(p.parameters, vec![name.to_owned()]);
    }
    // rr drives most of the decision uncertainty.
    let rr = voi::evppi(&scenario, &run, &["rr"]).unwrap().per_child;
    let cost = voi::evppi(&scenario, &run, &["cost"]).unwrap().per_child;
    assert!(rr > cost, "rr {rr}, cost {cost}");
    assert!(rr > 0.3 * evpi, "rr {rr}, EVPI {evpi}");
}

#[test]
fn evppi_of_a_parameter_that_affects_nothing_is_about_zero() {
    let scenario = uncertain();
    let run = psa(&scenario, 1000, 3);
    let evpi = voi::evpi(&run).unwrap().per_child;
    let noise = voi::evppi(&scenario, &run, &["noise"]).unwrap();
    println!("EVPPI(noise) = {} of EVPI {evpi}", noise.per_child);
    // Binning bias only: at most 2 % of the EVPI.
    assert!(
        noise.per_child >= 0.0 && noise.per_child <= 0.02 * evpi,
        "{}",
        noise.per_child
    );
}

#[test]
fn evppi_of_every_uncertain_parameter_approaches_evpi() {
    let scenario = uncertain();
    let run = psa(&scenario, 1000, 3);
    let evpi = voi::evpi(&run).unwrap().per_child;
    let all = voi::evppi(&scenario, &run, &["rr", "cost", "noise"]).unwrap();
    println!("EVPPI(all) = {} of EVPI {evpi}", all.per_child);
    assert_eq!(all.method, Method::Regression { terms: 10 });
    // NB is a smooth function of (rr, cost) in the cohort engine: the quadratic fit recovers
    // the EVPI to within 10 %.
    assert!(
        (all.per_child - evpi).abs() <= 0.10 * evpi,
        "{} vs {evpi}",
        all.per_child
    );
    let pair = voi::evppi(&scenario, &run, &["rr", "cost"]).unwrap();
    assert_eq!(pair.method, Method::Regression { terms: 6 });
    assert!(
        (pair.per_child - evpi).abs() <= 0.10 * evpi,
        "{} vs {evpi}",
        pair.per_child
    );
    assert!(pair.per_child <= evpi * 1.02);
}

#[test]
fn regression_drops_terms_when_draws_are_few() {
    let scenario = uncertain();
    // 3 parameters: 10 terms need n > 20, 7 need n > 14, 4 need n > 8.
    for (draws, terms) in [(21, 10), (20, 7), (15, 7), (14, 4), (9, 4)] {
        let run = psa(&scenario, draws, 2);
        let p = voi::evppi(&scenario, &run, &["rr", "cost", "noise"]).unwrap();
        assert_eq!(p.method, Method::Regression { terms }, "{draws} draws");
    }
    let run = psa(&scenario, 8, 2);
    let e = scenario_error(voi::evppi(&scenario, &run, &["rr", "cost", "noise"]).unwrap_err());
    assert_eq!(e.path, "voi.parameters");
}

#[test]
fn errors_name_the_parameter_path() {
    let scenario = uncertain();
    let run = psa(&scenario, 200, 1);
    let e = scenario_error(voi::evppi(&scenario, &run, &["rr", "nope"]).unwrap_err());
    assert_eq!(e.path, "voi.parameters[1]");
    assert!(e.message.contains("nope"), "{}", e.message);
    assert!(e.to_string().starts_with("voi.parameters[1]: "), "{e}");

    let e = scenario_error(voi::evppi(&scenario, &run, &["fixed_one"]).unwrap_err());
    assert_eq!(e.path, "voi.parameters[0]");
    assert!(e.message.contains("fixed"), "{}", e.message);

    let e = scenario_error(voi::evppi(&scenario, &run, &["rr", "rr"]).unwrap_err());
    assert_eq!(e.path, "voi.parameters[1]");

    let e = scenario_error(voi::evppi(&scenario, &run, &[]).unwrap_err());
    assert_eq!(e.path, "voi.parameters");

    // The base case has one draw: no EVPI, and EVPPI is an error.
    let base = Simulation::new(&scenario).run().unwrap();
    assert!(voi::evpi(&base).is_none());
    assert!(voi::evpi_per_comparison(&base).is_empty());
    let e = scenario_error(voi::evppi(&scenario, &base, &["rr"]).unwrap_err());
    assert_eq!(e.path, "voi.parameters");

    // A run of another scenario.
    let other = psa(&always_positive(), 50, 1);
    assert!(voi::evppi(&scenario, &other, &["rr"]).is_err());
}

#[test]
fn same_seed_gives_identical_numbers() {
    let scenario = uncertain();
    let groups: &[&[&str]] = &[&["rr"], &["cost"], &["rr", "cost"]];
    let a = Voi::new(&scenario, &psa(&scenario, 600, 9), groups).unwrap();
    let b = Voi::new(&scenario, &psa(&scenario, 600, 9), groups).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.to_json().to_string(), b.to_json().to_string());
    assert_eq!(a.to_text("SEK"), b.to_text("SEK"));
    let c = Voi::new(&scenario, &psa(&scenario, 600, 10), groups).unwrap();
    assert_ne!(a.evpi.as_ref().unwrap().per_child, c.evpi.as_ref().unwrap().per_child);
}

#[test]
fn renderings_carry_every_figure() {
    let scenario = uncertain();
    let run = psa(&scenario, 400, 4);
    let v = Voi::new(&scenario, &run, &[&["rr"], &["rr", "cost"]]).unwrap();
    let j = v.to_json();
    let e = v.evpi.as_ref().unwrap();
    assert_eq!(j["evpi"]["perspective"], "fiscal");
    assert_eq!(j["evpi"]["per_child"].as_f64(), Some(e.per_child));
    assert_eq!(j["evpi"]["population"].as_f64(), Some(e.population));
    assert_eq!(j["evpi"]["draws"], 400);
    assert_eq!(j["evpi"]["choice"], "early_intervention");
    assert_eq!(j["per_comparison"][0]["intervention"], "early_intervention");
    assert_eq!(j["evppi"][0]["parameters"][0], "rr");
    assert_eq!(j["evppi"][0]["method"]["kind"], "binning");
    assert_eq!(j["evppi"][0]["method"]["bins"], 20);
    assert_eq!(j["evppi"][1]["method"]["kind"], "regression");
    assert_eq!(j["evppi"][1]["method"]["terms"], 6);
    assert_eq!(j["evppi"][1]["per_child"].as_f64(), Some(v.evppi[1].per_child));

    let text = v.to_text("SEK");
    println!("{text}");
    assert!(text.contains("EVPI per child"));
    assert!(text.contains(&lifecost::report::text::amount(e.per_child)));
    assert!(text.contains("rr + cost"));
    assert!(text.contains("binning, 20 bins"));

    let none = Voi::new(&scenario, &Simulation::new(&scenario).run().unwrap(), &[]).unwrap();
    assert_eq!(none.to_json()["evpi"], serde_json::Value::Null);
    assert!(none.to_text("SEK").contains("at least 2 draws"));
}

/// EVPPI on the shipped scenario stays within [0, EVPI] for its effect parameters.
#[test]
fn default_scenario_effect_parameters() {
    let scenario = Scenario::default_scenario().unwrap();
    let run = Simulation::new(&scenario).draws(300).seed(1).run().unwrap();
    let evpi = voi::evpi(&run).unwrap();
    assert!(evpi.per_child > 0.0);
    assert_eq!(evpi.children, run.compare("tsi").unwrap().base().program.children);
    let effects = ["hr_placement", "hr_neet", "hr_escalation", "hr_recovery"];
    for name in effects {
        let p = voi::evppi(&scenario, &run, &[name]).unwrap();
        assert!(
            p.per_child >= 0.0 && p.per_child <= evpi.per_child,
            "{name}: {}",
            p.per_child
        );
    }
    let group = voi::evppi(&scenario, &run, &effects).unwrap();
    assert_eq!(group.method, Method::Regression { terms: 15 });
    // Regression may overshoot a little; 5 % of the EVPI.
    assert!(
        group.per_child >= 0.0 && group.per_child <= 1.05 * evpi.per_child,
        "{}",
        group.per_child
    );
}

/// The default scenario, 1000 draws (run with `--ignored --nocapture` to see the figures).
#[test]
#[ignore = "slow; prints the value of information of the default scenario"]
fn default_scenario_figures() {
    let scenario = Scenario::default_scenario().unwrap();
    let effects: Vec<&str> = scenario
        .parameters()
        .iter()
        .filter(|p| p.named && p.name.starts_with("hr_") && p.distribution.is_uncertain())
        .map(|p| p.name.as_str())
        .collect();
    for perspective in [lifecost::Perspective::Fiscal, lifecost::Perspective::Societal] {
        let run = Simulation::new(&scenario)
            .perspective(perspective)
            .draws(1000)
            .seed(1)
            .run()
            .unwrap();
        let mut groups: Vec<Vec<&str>> = effects.iter().map(|&e| vec![e]).collect();
        groups.push(effects.clone());
        let all: Vec<&str> = scenario
            .parameters()
            .iter()
            .filter(|p| p.named && p.distribution.is_uncertain())
            .map(|p| p.name.as_str())
            .collect();
        println!("{} uncertain named parameters", all.len());
        groups.push(all);
        let refs: Vec<&[&str]> = groups.iter().map(Vec::as_slice).collect();
        let v = Voi::new(&scenario, &run, &refs).unwrap();
        println!("{}", v.to_text(scenario.currency()));
        println!("{}", serde_json::to_string_pretty(&v.to_json()).unwrap());
        let c = run.compare("tsi").unwrap();
        println!("NPV {:?} P>0 {:?}", c.npv(), c.prob_npv_positive());
    }
}
