//! Calibration: the status-quo run of the shipped Swedish model, given a
//! general population of 10-year-olds (all children, not only those with
//! early signs), reproduces the Swedish base rates of research/nordic.md
//! Table B within stated tolerances. Prints "target | model | tolerance | source".
//!
//! The model is the embedded `tsi_sweden` (cohort engine, base case: every
//! parameter at its mean). Only the population changes, and there is no
//! intervention. Occupancy column `t` is the expected share of children in
//! each state at the *start* of the year of age `start_age + t`
//! (`cycle_counting = "beginning"`); `entries` column `t` are the moves into a
//! state during that year.

use lifecost::{Scenario, Simulation};

/// Start mix of ALL children at age 10 (grade 4). The 86 % on track is the
/// general mix of the tsi_sweden.toml header; the split of the remaining
/// 14 % is an assumption anchored as follows:
/// - foster_care 0.45 % + residential_care 0.05 %: nordic.md Table B #18
///   (0–12-year-olds in out-of-home care, 6.2 per 1 000 during 2016,
///   kkuriren citing Socialstyrelsen [S2]) and #46 (77 % of placed children
///   in family homes, NO 2018 [S2]); a start-of-year stock is a little below
///   the during-year count, hence 0.5 % rather than 0.62 %.
/// - open_support 1 %: assumption (children with social-services in-home
///   support; not in nordic.md).
/// - special_support 3.5 % and school_difficulties 9 %: assumption, chosen
///   with the 86 % so that ~15 % are not eligible for gymnasiet at 16
///   (Table B #1); nordic.md has no share of 10-year-olds with difficulties.
pub const GENERAL_START: &str = "on_track = 0.86, school_difficulties = 0.09, special_support = 0.035, \
     open_support = 0.01, foster_care = 0.0045, residential_care = 0.0005";

/// A general-population variant of the default model, written on top of `base`.
pub fn general_cohort_toml(base: &str) -> String {
    format!(
        r#"
interventions = []

[scenario]
base = "{base}"
name = "General cohort"

[[population]]
name = "All children, grade 4"
size = 100_000
start = {{ {GENERAL_START} }}
"#
    )
}

/// One calibration target.
pub struct Row {
    pub what: &'static str,
    pub target: f64,
    pub model: f64,
    pub tolerance: f64,
    pub source: &'static str,
}

impl Row {
    pub fn ok(&self) -> bool {
        (self.model - self.target).abs() <= self.tolerance
    }
}

/// The calibration figures of a general-cohort scenario, plus extra lines
/// printed for information (not asserted).
pub fn measure(s: &Scenario) -> (Vec<Row>, Vec<String>) {
    let run = Simulation::new(s).run().expect("the general cohort runs");
    let streams = &run.base_streams()[0];
    let occ = &streams.occupancy;
    let ent = &streams.entries;
    let start_age = s.spec().scenario.start_age;
    let idx = |id: &str| s.states().iter().position(|st| st.id == id);
    let must = |id: &str| idx(id).unwrap_or_else(|| panic!("state `{id}` missing"));
    let col = |age: u32| (age - start_age) as usize;
    // Share of the living at the start of `age` in the given states.
    let share = |ids: &[&str], age: u32| -> f64 {
        let t = col(age);
        let alive: f64 = (0..occ.nrows())
            .filter(|&i| i != must("dead"))
            .map(|i| occ[(i, t)])
            .sum();
        ids.iter().filter_map(|id| idx(id)).map(|i| occ[(i, t)]).sum::<f64>() / alive
    };
    let mean_share = |ids: &[&str], ages: std::ops::RangeInclusive<u32>| -> f64 {
        let n = ages.clone().count() as f64;
        ages.map(|a| share(ids, a)).sum::<f64>() / n
    };

    // Education groups in adult life. With a diploma: in work or studies
    // (completed_upper_secondary) and the non-work states of diploma holders.
    const WITH_DIPLOMA: &[&str] = &[
        "completed_upper_secondary",
        "neet_with_diploma",
        "social_assistance_with_diploma",
        "sickness_compensation_with_diploma",
    ];
    // Everyone else alive is without a diploma: in work (`employed`) or not.
    let alive_ids: Vec<&str> = s
        .states()
        .iter()
        .map(|st| st.id.as_str())
        .filter(|id| *id != "dead")
        .collect();
    let without: Vec<&str> = alive_ids
        .iter()
        .copied()
        .filter(|id| !WITH_DIPLOMA.contains(id))
        .collect();

    // 1. Not eligible for gymnasiet at 16: at the start of age 16 (after
    //    grade 9) in school_difficulties (incl. introduktionsprogram),
    //    special_support, or youth_crime (out of ordinary schooling).
    //    Children in open support or placed are counted as eligible (their
    //    school status is not modelled); the line below shows them added.
    let not_eligible_ids = ["school_difficulties", "special_support", "youth_crime"];
    let not_eligible = share(&not_eligible_ids, 16);
    let not_eligible_hi = share(
        &[
            "school_difficulties",
            "special_support",
            "youth_crime",
            "open_support",
            "foster_care",
            "residential_care",
        ],
        16,
    );

    // 2. Without gymnasieexamen at 21: start of age 21, when every school
    //    state has been left; 1 − share in a diploma state.
    let no_diploma_21 = 1.0 - share(WITH_DIPLOMA, 21);

    // 3. UVAS 16–24: mean over ages 16–24 (start of each year) of the share
    //    in a state that by definition is outside work and studies: NEET,
    //    full-year social assistance (both education groups) and prison.
    //    MUCF's register UVAS is "no work income above one basbelopp, no
    //    study grant, not in an education register" (nyheter24.se 2022-09
    //    citing MUCF; not in nordic.md). Left out:
    //    youth_crime (defined by offending, not by activity; at 15–17 most
    //    are still registered in school) and activity compensation (often
    //    paid for prolonged schooling); the line below adds both.
    let uvas_ids = [
        "neet",
        "neet_with_diploma",
        "social_assistance",
        "social_assistance_with_diploma",
        "prison",
    ];
    let uvas = mean_share(&uvas_ids, 16..=24);
    let uvas_16_19 = mean_share(&uvas_ids, 16..=19);
    let uvas_20_24 = mean_share(&uvas_ids, 20..=24);
    let uvas_25_29 = mean_share(&uvas_ids, 25..=29);
    let neet_only = mean_share(&["neet", "neet_with_diploma"], 16..=24);
    let uvas_broad = mean_share(
        &[
            &uvas_ids[..],
            &[
                "youth_crime",
                "sickness_compensation",
                "sickness_compensation_with_diploma",
            ],
        ]
        .concat(),
        16..=24,
    );

    // 4. Out-of-home care: children placed at some time during the year
    //    (Table B #17 counts "placed at some time during the year"): the
    //    stock at the start of the year plus the placements begun during it,
    //    mean over ages 10–17. Moves between foster and residential care
    //    count as entries too, so this slightly overstates; the start-of-year
    //    stock alone is the lower bound printed below.
    let placed = ["foster_care", "residential_care"];
    let placed_stock = mean_share(&placed, 10..=17);
    let placed_during = (10..=17u32)
        .map(|a| {
            let t = col(a);
            let alive: f64 = (0..occ.nrows())
                .filter(|&i| i != must("dead"))
                .map(|i| occ[(i, t)])
                .sum();
            placed
                .iter()
                .map(|id| occ[(must(id), t)] + ent[(must(id), t)])
                .sum::<f64>()
                / alive
        })
        .sum::<f64>()
        / 8.0;

    // 5. Employment at 25–64 by education, person-years pooled over ages.
    let pooled = |num: &[&str], den: &[&str]| -> f64 {
        let sum = |ids: &[&str]| -> f64 {
            (25..=64u32)
                .map(|a| {
                    ids.iter()
                        .filter_map(|id| idx(id))
                        .map(|i| occ[(i, col(a))])
                        .sum::<f64>()
                })
                .sum()
        };
        sum(num) / sum(den)
    };
    let emp_all = pooled(&["completed_upper_secondary", "employed"], &alive_ids);
    let emp_without = pooled(&["employed"], &without);
    let emp_with = pooled(&["completed_upper_secondary"], WITH_DIPLOMA);
    let share_without = pooled(&without, &alive_ids);
    // Employment among diploma holders implied by 81 % overall and 61 %
    // without upper secondary at the model's own education mix [derived].
    let implied_with = (0.81 - share_without * 0.61) / (1.0 - share_without);

    let rows = vec![
        Row {
            what: "not eligible for gymnasiet at 16",
            target: 0.148,
            model: not_eligible,
            tolerance: 0.02,
            source: "Table B #1: 14.8 % (2023), Skolverket via tremedia.se [S2]",
        },
        Row {
            what: "without gymnasieexamen at 21",
            target: 0.28,
            model: no_diploma_21,
            tolerance: 0.02,
            source: "Table B #6: 72 % examen within 5 yrs incl. IM, ekonomifakta [S2]",
        },
        Row {
            what: "UVAS (NEET), mean over 16-24",
            target: 0.055,
            model: uvas,
            tolerance: 0.015,
            source: "Table B #9-10: 5.7 % (2021), 5.5 % (2022), MUCF [S2]",
        },
        Row {
            what: "placed during the year, mean 10-17",
            target: 0.011,
            model: placed_during,
            tolerance: 0.003,
            source: "Table B #17: 25 153 = 1.1 % of 0-17 (2021) [S2]/[D]",
        },
        Row {
            what: "employed 25-64, all",
            target: 0.81,
            model: emp_all,
            tolerance: 0.03,
            source: "Table B #26: 81 %, SCB 2018 [S]",
        },
        Row {
            what: "employed 25-64, without upper sec.",
            target: 0.61,
            model: emp_without,
            tolerance: 0.05,
            source: "Table B #26: 61 % förgymnasial, SCB 2018 [S]",
        },
        Row {
            what: "employed 25-64, with upper sec.",
            target: implied_with,
            model: emp_with,
            tolerance: 0.05,
            source: "[D] from 81 % and 61 % at the model's education mix",
        },
    ];
    let info = vec![
        format!(
            "not eligible at 16 incl. open support and placed: {:.1} %",
            100.0 * not_eligible_hi
        ),
        format!(
            "UVAS by age: 16-19 {:.1} %, 20-24 {:.1} %, 25-29 {:.1} % (Table B #12: 11.2 % at 25-29, 2021)",
            100.0 * uvas_16_19,
            100.0 * uvas_20_24,
            100.0 * uvas_25_29
        ),
        format!(
            "NEET states only, 16-24: {:.1} %; UVAS incl. youth_crime and activity compensation: {:.1} %",
            100.0 * neet_only,
            100.0 * uvas_broad
        ),
        format!("placed, start-of-year stock, mean 10-17: {:.2} %", 100.0 * placed_stock),
        format!(
            "share of 25-64 person-years without a diploma: {:.1} %",
            100.0 * share_without
        ),
    ];
    (rows, info)
}

pub fn print_table(rows: &[Row], info: &[String]) {
    println!(
        "{:<38} | {:>7} | {:>7} | {:>8} | source",
        "target", "target", "model", "tol."
    );
    println!("{}", "-".repeat(120));
    for r in rows {
        println!(
            "{:<38} | {:>6.1}% | {:>6.2}% | ±{:>4.1} pp | {}{}",
            r.what,
            100.0 * r.target,
            100.0 * r.model,
            100.0 * r.tolerance,
            r.source,
            if r.ok() { "" } else { "   <-- OUT OF TOLERANCE" }
        );
    }
    for line in info {
        println!("  ({line})");
    }
}

#[test]
fn status_quo_reproduces_swedish_base_rates() {
    let s = Scenario::from_toml_str(&general_cohort_toml("tsi_sweden")).expect("general cohort builds on tsi_sweden");
    assert_eq!(s.name(), "General cohort");
    assert!(s.interventions().is_empty());
    assert_eq!(s.states(), Scenario::default_scenario().unwrap().states());
    let (rows, info) = measure(&s);
    print_table(&rows, &info);
    let bad: Vec<_> = rows.iter().filter(|r| !r.ok()).map(|r| r.what).collect();
    assert!(bad.is_empty(), "outside tolerance: {bad:?}");
}
