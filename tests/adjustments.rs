//! Explicit adjustments: the deadweight cost of taxation and SROI multipliers, each on its own line.

mod common;

use lifecost::{Perspective, Scenario, Simulation};

const PEER_MODEL: &str = include_str!("scenarios/peer_model.toml");

fn peer(adjustments: &str) -> Scenario {
    Scenario::from_toml_str(&format!("{PEER_MODEL}\n[adjustments]\n{adjustments}\n")).unwrap()
}

#[test]
fn the_tax_factor_applies_to_net_public_flows_in_the_societal_perspective_only() {
    let s = peer("tax_factor = 0.2\nsource = \"NOU 1997:27\"\nconfidence = \"sourced\"");
    let societal = Simulation::new(&s).perspective(Perspective::Societal).run().unwrap();
    let c = societal.compare("early_intervention").unwrap();
    // Every payer of the peer model is public: the net public flow is the NPV.
    let adjustment = c.tax_adjustment().expect("reported in the societal perspective");
    assert!((adjustment.mean - 0.2 * c.npv().mean).abs() < 1e-9 * c.npv().mean.abs());
    // The headline NPV is not touched; the adjustment stands on its own line.
    let plain = Simulation::new(&peer(""))
        .perspective(Perspective::Societal)
        .run()
        .unwrap();
    assert_eq!(c.npv().mean, plain.compare("early_intervention").unwrap().npv().mean);
    let json = c.to_json();
    assert_eq!(json["adjustments"]["tax_factor"], 0.2);
    assert!(json["adjustments"]["npv_with_tax_adjustment"]["mean"].as_f64().unwrap() > c.npv().mean);
    assert!(societal.summary().contains("Deadweight cost of taxation"));

    let fiscal = Simulation::new(&s).run().unwrap();
    assert!(fiscal.compare("early_intervention").unwrap().tax_adjustment().is_none());
}

#[test]
fn sroi_attribution_and_deadweight_shrink_the_effect_on_the_log_scale() {
    let s = peer("attribution = 0.8\ndeadweight = 0.25");
    let run = Simulation::new(&s).run().unwrap();
    let c = run.compare("early_intervention").unwrap();
    let sroi = c.sroi_npv().unwrap().mean;
    // The same as a relative risk of 0.7^(0.8·0.75) written into the scenario.
    let direct = Scenario::from_toml_str(&PEER_MODEL.replace(
        "rr = { value = 0.70,",
        &format!("rr = {{ value = {},", 0.7f64.powf(0.8 * 0.75)),
    ))
    .unwrap();
    let expected = Simulation::new(&direct)
        .run()
        .unwrap()
        .compare("early_intervention")
        .unwrap()
        .npv()
        .mean;
    assert!((sroi - expected).abs() < 1e-9 * expected.abs(), "{sroi} vs {expected}");
    assert!(sroi < c.npv().mean, "a smaller effect saves less");
    assert_eq!(
        c.npv().mean,
        Simulation::new(&peer(""))
            .run()
            .unwrap()
            .compare("early_intervention")
            .unwrap()
            .npv()
            .mean
    );

    let neutral = peer("attribution = 1.0\ndeadweight = 0.0\ndrop_off = 0.0");
    let c = Simulation::new(&neutral).run().unwrap();
    let c = c.compare("early_intervention").unwrap();
    assert!((c.sroi_npv().unwrap().mean - c.npv().mean).abs() < 1e-9 * c.npv().mean.abs());
}

#[test]
fn sroi_drop_off_fades_the_effect_year_by_year() {
    let two_state = |adjustments: &str| {
        let intervention = "enrol = { states = [\"well\"] }\n\n[[interventions.effects]]\nfrom = \"well\"\nto = \"sick\"\nrelative_risk = 0.5";
        let text = common::well_sick(30, "costs = 0.0\noutcomes = 0.0", intervention);
        Scenario::from_toml_str(&format!("{text}\n[adjustments]\n{adjustments}\n")).unwrap()
    };
    let run = Simulation::new(&two_state("drop_off = 0.1")).run().unwrap();
    let sroi = run.compare("tsi").unwrap().sroi_npv().unwrap().mean;
    // Risk of falling sick in year t: 0.2 · 0.5^(0.9^t); sick costs 100 a year, undiscounted.
    let (mut well_sq, mut well_iv, mut savings) = (1.0f64, 1.0f64, 0.0);
    for t in 0..30 {
        savings += 100.0 * ((1.0 - well_sq) - (1.0 - well_iv));
        well_sq *= 0.8;
        well_iv *= 1.0 - 0.2 * 0.5f64.powf(0.9f64.powi(t));
    }
    assert!((sroi - savings).abs() < 1e-9 * savings, "{sroi} vs {savings}");
}

#[test]
fn adjustments_outside_their_range_are_errors() {
    for (text, path) in [
        ("tax_factor = -0.1", "adjustments.tax_factor"),
        ("attribution = 1.5", "adjustments.attribution"),
        ("deadweight = nan", "adjustments.deadweight"),
        ("drop_off = -1", "adjustments.drop_off"),
    ] {
        let e = Scenario::from_toml_str(&format!("{PEER_MODEL}\n[adjustments]\n{text}\n")).unwrap_err();
        let lifecost::Error::Scenario(e) = e else { panic!("{e}") };
        assert_eq!(e.path, path);
        assert!(e.location.is_some(), "{e}");
    }
}
