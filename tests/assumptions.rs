//! The assumption table: every parameter once, where it is used, who pays,
//! and flags on unverified figures and assumptions.

use lifecost::Scenario;
use lifecost::report::assumptions::{Assumptions, flagged_summary};

fn default_scenario() -> Scenario {
    Scenario::default_scenario().expect("the embedded default scenario is valid")
}

fn row<'a>(table: &'a Assumptions, name: &str) -> &'a lifecost::report::assumptions::Row {
    table
        .rows
        .iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no row `{name}`"))
}

const SMALL: &str = r#"
[scenario]
name = "small"
currency = "NOK"
price_year = 2024
start_age = 10
end_age = 12

[discounting]
costs = 0.04
outcomes = 0.04
source = "Finansdepartementet R-109/2021"
confidence = "sourced"

[payers]
kommune = { public = true }

[parameters]
stay_cost = { value = 1_400_000, unit = "NOK/year", source = "register", confidence = "sourced" }

[[states]]
id = "home"
costs = { kommune = 7 }

[[states]]
id = "placed"
costs = { kommune = "$stay_cost" }
entry_costs = { kommune = { value = 5, source = "x", confidence = "sourced" } }

[[transitions]]
from = "home"
to = { placed = 0.1 }

[[population]]
size = 10
start = { home = 1.0 }
"#;

#[test]
fn every_parameter_appears_once_in_parameter_order() {
    let s = default_scenario();
    let table = Assumptions::of(&s);
    assert_eq!(table.rows.len(), s.parameters().len());
    for (row, p) in table.rows.iter().zip(s.parameters()) {
        assert_eq!(row.name, p.name);
        assert_eq!(row.named, p.named);
        assert_eq!(row.mean, p.mean());
        assert_eq!(row.price_factor, p.price_factor);
        assert_eq!(row.unit, p.unit);
        assert_eq!(row.source, p.source);
        assert_eq!(row.confidence, p.confidence);
    }
    let mut names: Vec<&str> = table.rows.iter().map(|r| r.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), table.rows.len(), "a parameter is listed twice");
    assert_eq!(table.currency, s.currency());
    assert_eq!(table.price_year, s.price_year());
}

#[test]
fn money_parameters_list_their_payers() {
    let s = default_scenario();
    let table = Assumptions::of(&s);
    let payer_ids: Vec<&str> = s.payers().iter().map(|p| p.id.as_str()).collect();
    let mut money = 0;
    for r in &table.rows {
        let money_uses: Vec<&String> = r
            .uses
            .iter()
            .filter(|u| {
                u.contains(".costs.") || u.contains("_costs.") || u.contains(".once.") || u.contains(".per_year.")
            })
            .collect();
        let is_amount = r.unit.as_deref().is_some_and(|u| u.starts_with(s.currency()));
        if is_amount {
            money += 1;
            assert!(
                !r.payers.is_empty(),
                "{} is an amount but lists no payer: {:?}",
                r.name,
                r.uses
            );
        }
        assert_eq!(
            money_uses.is_empty(),
            r.payers.is_empty(),
            "{}: {:?} vs {:?}",
            r.name,
            r.uses,
            r.payers
        );
        for p in &r.payers {
            assert!(payer_ids.contains(&p.as_str()), "{}: unknown payer {p}", r.name);
            assert!(
                money_uses.iter().any(|u| u.ends_with(&format!(".{p}"))),
                "{}: {p}",
                r.name
            );
        }
    }
    assert!(money > 10, "only {money} amounts in the default scenario");
}

#[test]
fn uses_name_state_payer_transition_and_intervention() {
    let s = default_scenario();
    let table = Assumptions::of(&s);

    let rc = row(&table, "residential_care_cost");
    assert_eq!(rc.uses, ["states.residential_care.costs.kommun_social"]);
    assert_eq!(rc.payers, ["kommun_social"]);
    // The interval is the one the model draws from: σ fitted to the written interval's width.
    assert!(
        rc.value
            .starts_with("lognormal(median 2 000 000, 95 % 1 026 000 to 3 899 000), mean 2 1"),
        "{}",
        rc.value
    );

    let bup = row(&table, "bup_cost");
    assert!(
        bup.uses.contains(&"states.foster_care.costs.region".to_owned()),
        "{:?}",
        bup.uses
    );
    assert!(
        bup.uses.contains(&"states.residential_care.costs.region".to_owned()),
        "{:?}",
        bup.uses
    );
    assert_eq!(bup.payers, ["region"]);

    let bbic = row(&table, "bbic_investigation");
    assert!(
        bbic.uses
            .contains(&"states.open_support.entry_costs.kommun_social".to_owned())
    );
    assert_eq!(bbic.value, "39 400");

    // Bands 10–15, 15–16 and 16–19 of the same move are merged.
    let fc = row(&table, "p_risk_to_fc");
    assert!(
        fc.uses
            .contains(&"transitions from school_difficulties to foster_care at 10–19".to_owned()),
        "{:?}",
        fc.uses
    );
    assert!(fc.payers.is_empty());

    let coordinator = row(&table, "tsi_coordinator_cost");
    assert_eq!(
        coordinator.uses,
        ["interventions.tsi.program.fixed_costs.kommun_social"]
    );
    assert_eq!(row(&table, "tsi_uptake").uses, ["interventions.tsi.enrol.uptake"]);
    assert_eq!(
        row(&table, "tsi_screening").uses,
        ["interventions.tsi.participant_costs.once.kommun_social"]
    );
    assert_eq!(
        row(&table, "tsi_school_time").uses,
        ["interventions.tsi.participant_costs.per_year.kommun_school"]
    );
    let hr = row(&table, "hr_placement");
    assert_eq!(
        hr.uses,
        [
            "interventions.tsi.effects[0].hazard_ratio",
            "interventions.tsi.effects[1].hazard_ratio",
            "interventions.tsi.effects[2].hazard_ratio"
        ]
    );
    let open = row(&table, "open_support_cost");
    assert!(
        open.value.starts_with("gamma(mean 100 000, sd 50 000)"),
        "{}",
        open.value
    );
}

#[test]
fn flagged_rows_are_unverified_assumptions_or_unsourced() {
    let s = default_scenario();
    let table = Assumptions::of(&s);
    for (r, p) in table.rows.iter().zip(s.parameters()) {
        let expected = p.confidence.is_none_or(|c| c.is_flagged()) || p.source.as_deref().is_none_or(str::is_empty);
        assert_eq!(r.flagged, expected, "{}", r.name);
    }
    let flagged: Vec<&str> = table.flagged().map(|r| r.name.as_str()).collect();
    assert!(flagged.contains(&"special_support_extra"), "unverified");
    assert!(flagged.contains(&"hr_placement"), "assumption");
    assert!(!flagged.contains(&"prison_cost"), "secondary");
    // The default discount rate is marked unverified.
    assert!(table.discounting.flagged);
    assert_eq!(
        table.discounting.figures,
        [("costs".to_owned(), 0.035), ("outcomes".to_owned(), 0.035)]
    );

    let line = flagged_summary(&s).expect("the default scenario has flagged figures");
    assert!(line.starts_with("Uses "), "{line}");
    assert!(
        line.contains("unverified figures") && line.contains("assumptions"),
        "{line}"
    );
    assert!(line.ends_with("(see `lifecost assumptions`)"), "{line}");
}

#[test]
fn json_has_every_key() {
    let s = default_scenario();
    let table = Assumptions::of(&s);
    let json = table.to_json();
    for key in [
        "scenario",
        "currency",
        "price_year",
        "parameters",
        "discounting",
        "adjustments",
        "price_index",
        "flagged",
    ] {
        assert!(json.get(key).is_some(), "missing {key}");
    }
    let params = json["parameters"].as_array().unwrap();
    assert_eq!(params.len(), s.parameters().len());
    for p in params {
        for key in [
            "name",
            "named",
            "value",
            "mean",
            "unit",
            "uses",
            "payers",
            "price_year",
            "price_factor",
            "source",
            "confidence",
            "flagged",
        ] {
            assert!(p.get(key).is_some(), "{}: missing {key}", p["name"]);
        }
    }
    let hr = params.iter().find(|p| p["name"] == "hr_placement").unwrap();
    assert_eq!(hr["confidence"], "assumption");
    assert_eq!(hr["flagged"], true);
    let flagged = json["flagged"].as_array().unwrap();
    assert_eq!(flagged.len(), table.flagged().count() + 1, "parameters and discounting");
    assert!(flagged.contains(&serde_json::json!("discounting")));
    assert_eq!(json["discounting"]["confidence"], "unverified");
    assert_eq!(json["discounting"]["figures"]["costs"], 0.035);
    assert_eq!(json["price_year"], s.price_year());
}

#[test]
fn text_has_rows_markers_and_closing_line() {
    let s = default_scenario();
    let table = Assumptions::of(&s);
    let text = table.to_text();
    let flagged = table.flagged().count() + usize::from(table.discounting.flagged);
    let total = table.rows.len() + 1;
    let closing = format!("{flagged} of {total} figures are unverified or assumptions: ");
    assert!(text.contains(&closing), "no `{closing}` in\n{text}");
    for r in &table.rows {
        let line = text
            .lines()
            .find(|l| {
                l.trim_start_matches('!')
                    .trim_start()
                    .starts_with(&format!("{}  ", r.name))
            })
            .unwrap_or_else(|| panic!("no line for {}", r.name));
        assert_eq!(line.starts_with('!'), r.flagged, "{line}");
    }
    // Long sources are cut.
    assert!(text.contains('…'));
    assert!(
        text.lines().all(|l| !l.contains("abcdocz.com/doc/4153731")),
        "source not truncated"
    );
}

#[test]
fn inline_parameter_is_unnamed_with_its_field_path() {
    let s = Scenario::from_toml_str(SMALL).unwrap();
    let table = Assumptions::of(&s);
    // Plain numbers (7, 0.1) are constants, not parameters.
    assert_eq!(table.rows.len(), 2);
    let named = &table.rows[0];
    assert_eq!((named.name.as_str(), named.named), ("stay_cost", true));
    assert_eq!(named.value, "1 400 000");
    assert_eq!(named.uses, ["states.placed.costs.kommune"]);
    assert!(!named.flagged);

    let inline = &table.rows[1];
    assert_eq!(inline.name, "states[1].entry_costs.kommune");
    assert!(!inline.named);
    assert_eq!(inline.value, "5");
    assert_eq!(inline.mean, 5.0);
    assert_eq!(inline.uses, ["states.placed.entry_costs.kommune"]);
    assert_eq!(inline.payers, ["kommune"]);
    assert_eq!(inline.source.as_deref(), Some("x"));
    assert_eq!(inline.confidence, Some(lifecost::Confidence::Sourced));
    assert!(!inline.flagged);

    assert_eq!(flagged_summary(&s), None);
    let text = table.to_text();
    assert!(
        text.contains("0 of 3 figures are unverified or assumptions: no flagged figures."),
        "{text}"
    );
    assert!(!text.lines().any(|l| l.starts_with('!')), "{text}");
    let json = table.to_json();
    assert_eq!(json["parameters"][1]["named"], false);
    assert_eq!(json["parameters"][1]["name"], "states[1].entry_costs.kommune");
    assert_eq!(json["flagged"], serde_json::json!([]));
    assert_eq!(json["adjustments"], serde_json::Value::Null);
}

#[test]
fn missing_provenance_and_unused_parameters() {
    let source = SMALL
        .replace(
            "[parameters]\n",
            "[parameters]\nspare = { value = 0.5, source = \"guess\", confidence = \"unverified\" }\n",
        )
        .replace(
            "to = { placed = 0.1 }",
            "to = { placed = { beta = { mean = 0.1, sd = 0.02 } } }",
        );
    let s = Scenario::from_toml_str(&source).unwrap();
    let table = Assumptions::of(&s);
    let spare = row(&table, "spare");
    assert!(spare.flagged && spare.uses.is_empty());
    let p = row(&table, "transitions[0].to.placed");
    assert!(p.flagged, "no source or confidence");
    assert!(!p.named);
    assert_eq!(p.uses, ["transitions from home to placed at 10–12"]);
    assert_eq!(p.value, "beta(mean 0.1, sd 0.02)");

    // The unused unverified figure is in the table but not in what the run uses.
    assert_eq!(
        flagged_summary(&s).as_deref(),
        Some("Uses 1 figure without source or confidence (see `lifecost assumptions`)")
    );
    let text = table.to_text();
    assert!(text.contains("Not used by the model: spare"), "{text}");
    assert!(
        text.contains("2 of 5 figures are unverified or assumptions: 1 unverified figure and 1 figure without source or confidence."),
        "{text}"
    );
}

#[test]
fn price_converted_amounts_show_year_and_factor() {
    let source = SMALL
        .replace(
            "stay_cost = { value = 1_400_000,",
            "stay_cost = { gamma = { mean = 1_000_000, sd = 100_000 }, price_year = 2023,",
        )
        .replace(
            "[payers]",
            "[price_index]\nlevels = { \"2023\" = 100, \"2024\" = 110 }\nsource = \"SSB KPI\"\nconfidence = \"sourced\"\n\n[adjustments]\ntax_factor = 0.2\nsource = \"R-109\"\nconfidence = \"assumption\"\n\n[payers]",
        );
    let s = Scenario::from_toml_str(&source).unwrap();
    let table = Assumptions::of(&s);
    let r = row(&table, "stay_cost");
    assert_eq!(r.price_year, Some(2023));
    assert!((r.price_factor - 1.1).abs() < 1e-12);
    assert!((r.mean - 1_100_000.0).abs() < 1e-6);
    assert_eq!(r.value, "gamma(mean 1 100 000, sd 110 000)");
    let text = table.to_text();
    assert!(text.contains("2023 ×1.1"), "{text}");
    let adj = table.adjustments.as_ref().unwrap();
    assert!(adj.flagged);
    assert_eq!(adj.figures, [("tax_factor".to_owned(), 0.2)]);
    assert!(!table.price_index.as_ref().unwrap().flagged);
    assert_eq!(
        flagged_summary(&s).as_deref(),
        Some("Uses 1 assumption (see `lifecost assumptions`)")
    );
    assert_eq!(table.to_json()["flagged"], serde_json::json!(["adjustments"]));
}
