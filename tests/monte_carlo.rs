//! Monte Carlo: microsimulation against the cohort engine, common random
//! numbers, reproducibility on any thread count, history rules, PSA and
//! adaptive precision.

use lifecost::{Engine, RunResult, Scenario, Simulation, Stop};

const PEER_MODEL: &str = include_str!("scenarios/peer_model.toml");

fn peer() -> Scenario {
    Scenario::from_toml_str(PEER_MODEL).unwrap()
}

/// The peer model with a change to its text.
fn peer_with(from: &str, to: &str) -> Scenario {
    assert!(PEER_MODEL.contains(from), "`{from}` not in the peer model");
    Scenario::from_toml_str(&PEER_MODEL.replace(from, to)).unwrap()
}

/// The microsimulation's figures lie within 4 Monte Carlo standard errors of the cohort's.
fn agrees_with_cohort(name: &str, scenario: &Scenario, children: u64) {
    let cohort = Simulation::new(scenario).run().unwrap();
    let micro = Simulation::new(scenario)
        .engine(Engine::Microsim)
        .children(children)
        .seed(11)
        .run()
        .unwrap();
    let check = |what: &str, exact: f64, m: lifecost::Estimate| {
        let z = (m.mean - exact) / m.se;
        println!(
            "{name:<22} {what:<26} cohort {exact:>14.2}  microsim {:>14.2} ± {:>9.2}  z {z:+.2}",
            m.mean, m.se
        );
        assert!(m.se > 0.0, "{name} {what}: no standard error");
        assert!(
            z.abs() < 4.0,
            "{name} {what}: microsim {} vs cohort {exact} (z = {z})",
            m.mean
        );
    };
    for a in 0..scenario.interventions().len() + 1 {
        check(
            &format!("arm {a} cost"),
            cohort.arm_estimate(a, |f| f.cost).mean,
            micro.arm_estimate(a, |f| f.cost),
        );
        for o in 0..scenario.outcomes().len() {
            let exact = cohort.arm_estimate(a, |f| f.outcomes[o]).mean;
            check(
                &format!("arm {a} outcome {o}"),
                exact,
                micro.arm_estimate(a, |f| f.outcomes[o]),
            );
        }
    }
    for (c, m) in cohort.comparisons().zip(micro.comparisons()) {
        check(&format!("{} savings", c.intervention()), c.savings().mean, m.savings());
        check(&format!("{} NPV", c.intervention()), c.npv().mean, m.npv());
    }
}

#[test]
fn microsim_agrees_with_cohort_on_the_peer_model() {
    agrees_with_cohort("peer model", &peer(), 100_000);
}

#[test]
fn microsim_agrees_with_cohort_on_the_default_scenario() {
    agrees_with_cohort("default scenario", &Scenario::default_scenario().unwrap(), 40_000);
}

#[test]
fn microsim_agrees_with_cohort_with_decaying_effects() {
    let s = peer_with(
        "relative_risk = \"$rr\"",
        "hazard_ratio = 0.5\nduration = 3\nhalf_life = 4",
    );
    agrees_with_cohort("decaying effect", &s, 100_000);
}

#[test]
fn microsim_agrees_with_cohort_with_entry_costs_and_uptake() {
    let s = peer_with(
        "costs = { public = 60_000 }",
        "costs = { public = 60_000 }\nentry_costs = { public = 40_000 }",
    );
    let text = PEER_MODEL
        .replace(
            "costs = { public = 60_000 }",
            "costs = { public = 60_000 }\nentry_costs = { public = 40_000 }",
        )
        .replace("uptake = 1.0", "uptake = 0.6")
        .replace(
            "participant_costs = { once = { public = 8_000 } }",
            "participant_costs = { once = { public = 8_000 }, per_year = { public = 2_000 }, years = 3 }",
        );
    agrees_with_cohort("entry costs", &s, 100_000);
    agrees_with_cohort(
        "uptake, yearly costs",
        &Scenario::from_toml_str(&text).unwrap(),
        100_000,
    );
}

#[test]
fn microsim_agrees_with_cohort_with_life_table_counting_and_an_enrolment_window() {
    let s = peer_with("cycle_counting = \"beginning\"", "cycle_counting = \"life_table\"");
    agrees_with_cohort("life_table", &s, 100_000);
    let text = PEER_MODEL
        .replace("cycle_counting = \"beginning\"", "cycle_counting = \"end\"")
        .replace(
            "enrol = { states = [\"at_risk\", \"on_track\", \"placed\", \"neet\"], uptake = 1.0 }",
            "enrol = { states = [\"neet\"], uptake = 0.8, ages = [5, 30] }",
        )
        .replace(
            "from = \"at_risk\"\nto = [\"placed\", \"neet\"]",
            "from = \"neet\"\nto = [\"on_track\", \"at_risk\"]",
        )
        .replace("relative_risk = \"$rr\"", "hazard_ratio = 1.5");
    agrees_with_cohort("end, window", &Scenario::from_toml_str(&text).unwrap(), 100_000);
}

/// The standard error of one run's savings is itself an estimate (from 64
/// replicates, about ±9 %), so the ratio is taken on the mean over seeds.
#[test]
fn common_random_numbers_cut_the_standard_error_of_savings_nearly_threefold() {
    let s = peer();
    let mean_se = |crn: bool| {
        let seeds = 1..=4u64;
        let n = seeds.clone().count() as f64;
        seeds
            .map(|seed| {
                let run = Simulation::new(&s)
                    .engine(Engine::Microsim)
                    .children(200_000)
                    .seed(seed)
                    .common_random_numbers(crn)
                    .run()
                    .unwrap();
                run.compare("early_intervention").unwrap().savings().se
            })
            .sum::<f64>()
            / n
    };
    let (se_common, se_independent) = (mean_se(true), mean_se(false));
    let ratio = se_independent / se_common;
    println!("SE of savings: common {se_common:.1}, independent {se_independent:.1}, ratio {ratio:.2}");
    assert!(ratio >= 2.5, "common random numbers gain only {ratio:.2}×");
}

fn json_on_threads(threads: usize, sim: impl Fn() -> RunResult + Send + Sync) -> String {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    pool.install(|| serde_json::to_string(&sim().to_json()).unwrap())
}

#[test]
fn same_seed_gives_bit_identical_results_on_one_and_two_threads() {
    let s = Scenario::default_scenario().unwrap();
    let psa = || Simulation::new(&s).draws(64).seed(7).run().unwrap();
    assert_eq!(json_on_threads(1, psa), json_on_threads(2, psa));
    let micro = || {
        Simulation::new(&s)
            .engine(Engine::Microsim)
            .children(3_000)
            .draws(4)
            .seed(7)
            .run()
            .unwrap()
    };
    let one = json_on_threads(1, micro);
    assert_eq!(one, json_on_threads(2, micro));
    assert_eq!(one, json_on_threads(2, micro), "two runs on the same thread count");
    let other_seed = || {
        Simulation::new(&s)
            .engine(Engine::Microsim)
            .children(3_000)
            .draws(4)
            .seed(8)
            .run()
            .unwrap()
    };
    assert_ne!(one, json_on_threads(2, other_seed), "the seed matters");
}

const EVER_PLACED: &str =
    "\n[[history]]\nfrom = [\"on_track\", \"at_risk\"]\nto = \"neet\"\never_in = \"placed\"\nhazard_ratio = 2.0\n";

#[test]
fn history_rules_change_results_in_the_expected_direction() {
    let plain = peer();
    let with_rule = Scenario::from_toml_str(&format!("{PEER_MODEL}{EVER_PLACED}")).unwrap();
    let run = |s: &Scenario| {
        Simulation::new(s)
            .engine(Engine::Microsim)
            .children(50_000)
            .seed(3)
            .run()
            .unwrap()
    };
    let (a, b) = (run(&plain), run(&with_rule));
    // Ever-placed children enter NEET from school twice as fast: more NEET years, higher cost.
    let neet = |r: &RunResult| r.base_streams()[0].occupancy.row(3).sum();
    assert!(neet(&b) > neet(&a) * 1.02, "NEET years {} vs {}", neet(&b), neet(&a));
    assert!(b.arm_estimate(0, |f| f.cost).mean > a.arm_estimate(0, |f| f.cost).mean);

    let long_neet = "\n[[history]]\nfrom = \"neet\"\nto = [\"on_track\", \"at_risk\"]\nmin_years_in_state = 2\nhazard_ratio = 0.5\n";
    let c = run(&Scenario::from_toml_str(&format!("{PEER_MODEL}{long_neet}")).unwrap());
    assert!(
        neet(&c) > neet(&a) * 1.02,
        "long NEET spells last longer: {} vs {}",
        neet(&c),
        neet(&a)
    );
}

#[test]
fn the_cohort_engine_refuses_history_rules() {
    let s = Scenario::from_toml_str(&format!("{PEER_MODEL}{EVER_PLACED}")).unwrap();
    let e = Simulation::new(&s).run().unwrap_err();
    let lifecost::Error::Scenario(e) = e else { panic!("{e}") };
    assert_eq!(e.path, "history[0]");
    assert!(e.message.contains("microsim"), "{e}");
    assert!(e.location.is_some());
}

#[test]
fn psa_summarises_every_figure_across_draws() {
    let s = Scenario::default_scenario().unwrap();
    let run = Simulation::new(&s).draws(300).seed(5).run().unwrap();
    let c = run.compare("tsi").unwrap();
    let npv = c.npv();
    assert!(npv.se > 0.0);
    assert!(npv.p2_5 <= npv.p5 && npv.p5 <= npv.p50 && npv.p50 <= npv.p95 && npv.p95 <= npv.p97_5);
    let (p, se) = c.prob_npv_positive();
    assert!((0.0..=1.0).contains(&p) && (se - (p * (1.0 - p) / 300.0).sqrt()).abs() < 1e-15);
    // The base case lies inside the spread of the draws.
    let base = Simulation::new(&s).run().unwrap().compare("tsi").unwrap().npv().mean;
    assert!(
        npv.p5 < base && base < npv.p95,
        "base {base} outside {}..{}",
        npv.p5,
        npv.p95
    );
    let json = run.to_json();
    assert_eq!(json["draws"], 300);
    assert_eq!(json["comparisons"][0]["npv"]["se"].as_f64(), Some(npv.se));
}

#[test]
fn adaptive_precision_stops_at_the_target_and_is_deterministic() {
    let s = Scenario::default_scenario().unwrap();
    let run = || Simulation::new(&s).draws(1).precision(0.05).seed(9).run().unwrap();
    let (a, b) = (run(), run());
    assert_eq!(a.stop(), Stop::Precision);
    let npv = a.compare("tsi").unwrap().npv();
    assert!(npv.se <= 0.05 * npv.mean.abs(), "se {} for NPV {}", npv.se, npv.mean);
    assert_eq!(
        serde_json::to_string(&a.to_json()).unwrap(),
        serde_json::to_string(&b.to_json()).unwrap()
    );
    let capped = Simulation::new(&s)
        .draws(1)
        .precision(1e-6)
        .caps(400, 1_000)
        .seed(9)
        .run()
        .unwrap();
    assert_eq!(capped.stop(), Stop::Cap);
    assert_eq!(capped.n_draws(), 400);
}

#[test]
fn microsim_reports_the_distribution_over_children() {
    let run = Simulation::new(&peer())
        .engine(Engine::Microsim)
        .children(20_000)
        .run()
        .unwrap();
    let d = &run.distribution().expect("microsim gives a distribution")[0];
    assert!(d.p10 <= d.p50 && d.p50 <= d.p90 && d.p90 <= d.p99);
    assert!(
        d.top10_share > 0.1 && d.top10_share < 1.0,
        "top 10 % share {}",
        d.top10_share
    );
    assert!(Simulation::new(&peer()).run().unwrap().distribution().is_none());
}

#[test]
fn correlated_parameters_are_drawn_together() {
    let text = PEER_MODEL
        .replace(
            "rr = { value = 0.70, source = \"reference/peer-model.md\", confidence = \"sourced\" }",
            "rr = { value = 0.70, source = \"reference/peer-model.md\", confidence = \"sourced\" }\n\
             cost_placed = { gamma = { mean = 60000, sd = 10000 }, source = \"test\", confidence = \"assumption\" }\n\
             cost_neet = { gamma = { mean = 12000, sd = 2000 }, source = \"test\", confidence = \"assumption\" }",
        )
        .replace("costs = { public = 60_000 }", "costs = { public = \"$cost_placed\" }")
        .replace("costs = { public = 12_000 }", "costs = { public = \"$cost_neet\" }");
    let with = |block: &str| Scenario::from_toml_str(&format!("{text}{block}"));
    let s = with("\n[[correlations]]\nparameters = [\"cost_placed\", \"cost_neet\"]\nrho = 0.8\n").unwrap();
    let (a, b) = (
        s.parameter("cost_placed").unwrap().index(),
        s.parameter("cost_neet").unwrap().index(),
    );
    let draws: Vec<(f64, f64)> = (0..20_000)
        .map(|d| {
            let v = lifecost::draw_values(&s, 1, d);
            (v[a], v[b])
        })
        .collect();
    let n = draws.len() as f64;
    let (ma, mb) = (
        draws.iter().map(|x| x.0).sum::<f64>() / n,
        draws.iter().map(|x| x.1).sum::<f64>() / n,
    );
    let cov = draws.iter().map(|x| (x.0 - ma) * (x.1 - mb)).sum::<f64>() / n;
    let sd = |m: f64, f: fn(&(f64, f64)) -> f64| (draws.iter().map(|x| (f(x) - m).powi(2)).sum::<f64>() / n).sqrt();
    let r = cov / (sd(ma, |x| x.0) * sd(mb, |x| x.1));
    println!("Pearson correlation of the drawn costs: {r:.3} (copula rho 0.8)");
    // Gamma margins with a CV of 1/6 keep the Pearson correlation within 0.03 of the copula's rho.
    assert!((r - 0.8).abs() < 0.03, "r = {r}");
    assert!((ma / 60_000.0 - 1.0).abs() < 0.01 && (mb / 12_000.0 - 1.0).abs() < 0.01);

    let matrix = "\n[[correlations]]\nparameters = [\"cost_placed\", \"cost_neet\", \"cost_placed\"]\nmatrix = [[1, 0.9], [0.9, 1]]\n";
    let lifecost::Error::Scenario(e) = with(matrix).unwrap_err() else {
        panic!()
    };
    assert!(e.path.starts_with("correlations[0]"), "{e}");
    let fixed = "\n[[correlations]]\nparameters = [\"cost_placed\", \"rr\"]\nrho = 0.5\n";
    let lifecost::Error::Scenario(e) = with(fixed).unwrap_err() else {
        panic!()
    };
    assert_eq!(e.path, "correlations[0].parameters[1]", "{e}");
}

#[test]
fn a_matrix_that_is_not_positive_definite_is_refused() {
    let text = PEER_MODEL.replace(
        "rr = { value = 0.70, source = \"reference/peer-model.md\", confidence = \"sourced\" }",
        "rr = { value = 0.70, source = \"reference/peer-model.md\", confidence = \"sourced\" }\n\
         a = { normal = { mean = 0, sd = 1 } }\nb = { normal = { mean = 0, sd = 1 } }\nc = { normal = { mean = 0, sd = 1 } }",
    );
    let block = "\n[[correlations]]\nparameters = [\"a\", \"b\", \"c\"]\nmatrix = [[1, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, 1]]\n";
    let lifecost::Error::Scenario(e) = Scenario::from_toml_str(&format!("{text}{block}")).unwrap_err() else {
        panic!()
    };
    assert_eq!(e.path, "correlations[0]");
    assert!(e.message.contains("positive definite"), "{e}");
    assert!(e.location.is_some());
}

#[test]
fn microsim_agrees_with_cohort_with_groups_of_different_start_ages() {
    let text = PEER_MODEL.replace(
        "[[population]]\nsize = 1\nstart = { at_risk = 1.0 }",
        "[[population]]\nsize = 3\nstart = { at_risk = 1.0 }\n\n[[population]]\nsize = 1\nstart_age = 30\nstart = { on_track = 0.5, neet = 0.5 }",
    );
    assert_ne!(text, PEER_MODEL, "the population was replaced");
    agrees_with_cohort("two start ages", &Scenario::from_toml_str(&text).unwrap(), 100_000);
}
