//! Budget-justification figures: break-even children, who pays, tornado, adjustments, prices.

mod common;

use lifecost::{Perspective, Scenario, Simulation};

const PEER_MODEL: &str = include_str!("scenarios/peer_model.toml");

#[test]
fn break_even_children_times_excess_cost_is_the_program_cost() {
    let s = Scenario::default_scenario().unwrap();
    let run = Simulation::new(&s).break_even_state("residential_care").run().unwrap();
    let c = run.compare("tsi").unwrap();
    let b = &c.base().break_even;
    let (children, excess) = (b.children.unwrap(), b.excess_cost.unwrap());
    println!(
        "break-even: {children:.3} placements avoided at {excess:.0} each repay {:.0}",
        c.base().program.cost
    );
    assert!(excess > 0.0);
    let program = c.base().program.cost;
    assert!((children * excess - program).abs() < 1e-9 * program);
}

#[test]
fn the_payer_table_adds_up_and_each_payers_payback_follows_its_own_stream() {
    let s = Scenario::default_scenario().unwrap();
    for perspective in [Perspective::Fiscal, Perspective::Societal] {
        let run = Simulation::new(&s).perspective(perspective).run().unwrap();
        let c = run.compare("tsi").unwrap();
        let base = c.base();
        let included: Vec<bool> = s.payers().iter().map(|p| perspective.includes(p.public)).collect();
        let sum = |f: fn(&lifecost::economics::Flows) -> f64| -> f64 {
            base.by_payer
                .iter()
                .zip(&included)
                .filter(|(_, i)| **i)
                .map(|(x, _)| f(x))
                .sum()
        };
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1.0);
        assert!(close(sum(|f| f.savings), c.savings().mean));
        assert!(close(sum(|f| f.cost), c.intervention_cost().mean));
        assert!(close(sum(|f| f.net), c.npv().mean));

        // Each payer's undiscounted payback from its own yearly net stream.
        let streams = run.base_streams();
        let program = streams[1].program.as_ref().unwrap();
        for p in 0..s.payers().len() {
            let net: Vec<f64> = (0..streams[0].n_cycles())
                .map(|t| {
                    let fixed = if t == 0 {
                        program.fixed_costs[p] / program.children_per_year
                    } else {
                        0.0
                    };
                    streams[0].care[(p, t)] - streams[1].care[(p, t)] - streams[1].intervention[(p, t)] - fixed
                })
                .collect();
            let expected = lifecost::economics::payback(&net);
            assert_eq!(
                base.payer_payback[p].undiscounted,
                expected,
                "payer {}",
                s.payers()[p].id
            );
        }
    }
}

#[test]
fn a_parameter_without_spread_has_no_swing_and_bars_are_ordered() {
    let text = PEER_MODEL.replace(
        "rr = { value = 0.70, source = \"reference/peer-model.md\", confidence = \"sourced\" }",
        "rr = { lognormal = { mean = 0.7, sd = 0.1 } }\nflat = { value = 3, low = 3, high = 3 }",
    );
    let s = Scenario::from_toml_str(&text).unwrap();
    let t = lifecost::analysis::sensitivity::one_way(&s, "early_intervention", Perspective::Fiscal).unwrap();
    let flat = t
        .bars
        .iter()
        .find(|b| b.parameter == "flat")
        .expect("a bar for the flat parameter");
    assert_eq!(flat.swing(), 0.0);
    assert!(t.bars.windows(2).all(|w| w[0].swing() >= w[1].swing()));
    assert_eq!(t.bars[0].parameter, "rr");
}

#[test]
fn a_tax_factor_of_zero_changes_nothing() {
    let plain = Scenario::from_toml_str(PEER_MODEL).unwrap();
    let zero = Scenario::from_toml_str(&format!("{PEER_MODEL}\n[adjustments]\ntax_factor = 0.0\n")).unwrap();
    let json = |s: &Scenario| {
        let mut v = Simulation::new(s)
            .perspective(Perspective::Societal)
            .draws(20)
            .seed(4)
            .run()
            .unwrap()
            .to_json();
        let adjustment = v["comparisons"][0]["adjustments"]["deadweight_cost_of_taxation"]["mean"].as_f64();
        for c in v["comparisons"].as_array_mut().unwrap() {
            c.as_object_mut().unwrap().remove("adjustments");
        }
        // The scenario differs (its hash) and an unsourced setting is flagged; the figures must not.
        v.as_object_mut().unwrap().remove("scenario_hash");
        v.as_object_mut().unwrap().remove("flags");
        (v, adjustment)
    };
    let ((a, none), (b, zero_adjustment)) = (json(&plain), json(&zero));
    assert_eq!(a, b);
    assert_eq!(none, None);
    assert_eq!(zero_adjustment, Some(0.0));
}

#[test]
fn price_year_conversion_round_trips() {
    let scenario = |price_year: i32, amount: f64, amount_year: i32| {
        let parameters = format!("cost = {{ value = {amount}, price_year = {amount_year} }}");
        let text = common::placed_at_cost(price_year, 1, &parameters, "[price_index]\nname = \"kpi_sweden\"");
        Scenario::from_toml_str(&text).unwrap()
    };
    // 1 000 SEK of 2015 in 2023 prices, and that amount back in 2015 prices.
    let in_2023 = scenario(2023, 1000.0, 2015).parameters()[0].mean();
    let back = scenario(2015, in_2023, 2023).parameters()[0].mean();
    assert!((back - 1000.0).abs() < 1e-9, "{back}");
    assert!((in_2023 / 1000.0 - 403.70 / 313.35).abs() < 1e-12);
}

#[test]
fn the_break_even_curve_ends_at_the_runs_own_chance_of_paying_back() {
    let s = Scenario::default_scenario().unwrap();
    let run = Simulation::new(&s)
        .draws(200)
        .seed(6)
        .break_even_curve(true)
        .run()
        .unwrap();
    let c = run.compare("tsi").unwrap();
    let curve = c.break_even_curve();
    assert_eq!(curve.len(), 11);
    assert_eq!(curve[0], (0.0, 0.0), "no effect: the program is a pure cost");
    assert_eq!(
        curve[10],
        (1.0, c.prob_npv_positive().0),
        "the full effect is the run itself"
    );
    // The expected NPV crosses zero between the curve points where its mean does.
    let scale = c.base().break_even.effect_scale.unwrap();
    assert!(scale > 0.0 && scale < 1.0, "{scale}");
    assert!(
        Simulation::new(&s)
            .draws(20)
            .run()
            .unwrap()
            .compare("tsi")
            .unwrap()
            .break_even_curve()
            .is_empty()
    );
}

#[test]
fn the_grant_sentences_state_every_figure_a_committee_asks_for() {
    let s = Scenario::default_scenario().unwrap();
    let run = Simulation::new(&s)
        .draws(100)
        .seed(3)
        .break_even_state("residential_care")
        .run()
        .unwrap();
    let text = lifecost::report::text::grant_sentences(&run.compare("tsi").unwrap());
    for needle in [
        "net present value",
        "90 % interval",
        "chance that it pays back",
        "pays back after",
        "breaks even with",
        "children out of",
    ] {
        assert!(text.contains(needle), "`{needle}` missing:\n{text}");
    }
}
