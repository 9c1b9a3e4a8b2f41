//! The assumption table: every figure of a scenario with its value or
//! distribution, unit, payers, price year, source and confidence.
//!
//! [`Assumptions::of`] lists every [`Parameter`] of a checked [`Scenario`]
//! (named and inline), where the model uses it, and the scenario-wide
//! settings that carry a source of their own (discounting, adjustments, the
//! price index). A figure is *flagged* when its confidence is `unverified`
//! or `assumption`, or when it has no source or no confidence at all; every
//! output that uses flagged figures should say so, and
//! [`flagged_summary`] gives the one line to print.
//!
//! # Example
//!
//! ```
//! # fn main() -> Result<(), lifecost::Error> {
//! use lifecost::report::assumptions::{Assumptions, flagged_summary};
//!
//! let scenario = lifecost::Scenario::default_scenario()?;
//! let table = Assumptions::of(&scenario);
//! assert_eq!(table.rows.len(), scenario.parameters().len());
//! println!("{}", table.to_text());
//! if let Some(line) = flagged_summary(&scenario) {
//!     println!("{line}");
//! }
//! # Ok(()) }
//! ```

use std::fmt::Write;

use serde_json::{Value as Json, json};

use crate::param::{Confidence, Distribution, Parameter, Value};
use crate::report::text::amount;
use crate::scenario::spec::RateSpec;
use crate::scenario::{Scenario, State};

/// Longest source shown in the text table; longer ones end in `…`.
const SOURCE_WIDTH: usize = 48;

/// One parameter of the scenario, as the assumption table shows it.
///
/// Values are in the scenario's prices: an amount written with another
/// `price_year` has already been converted by `price_factor`.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The `[parameters]` key, or for an inline table its field path
    /// (`states[3].costs.kommun_social`).
    pub name: String,
    /// Whether it is declared in `[parameters]` (rather than written inline).
    pub named: bool,
    /// The fixed value (`1 400 000`) or a readable description of the
    /// distribution with its mean (`gamma(mean 1 400 000, sd 250 000)`,
    /// `lognormal(median 0.8, 95 % 0.6 to 1.05), mean 0.8126`).
    pub value: String,
    /// The base-case value: the mean of the distribution (truncation included).
    pub mean: f64,
    /// The unit as written (`SEK/year`, `1/year`).
    pub unit: Option<String>,
    /// Where the model uses the figure, one entry per use:
    /// `states.residential_care.costs.kommun_social`,
    /// `states.open_support.entry_costs.kommun_social`,
    /// `states.foster_care.outcomes.placement_years`,
    /// `transitions from school_difficulties to foster_care at 10–19` (contiguous
    /// age bands of the same move merged), `interventions.tsi.enrol.uptake`,
    /// `interventions.tsi.effects[0].hazard_ratio`,
    /// `interventions.tsi.program.fixed_costs.kommun_social`,
    /// `interventions.tsi.participant_costs.once.kommun_social`,
    /// `interventions.tsi.participant_costs.per_year.kommun_school`,
    /// `history[0].hazard_ratio`. Empty for a named parameter nothing refers to.
    pub uses: Vec<String>,
    /// Ids of the payers whose amounts use the figure, in payer order; empty
    /// for figures that are not amounts (probabilities, effects, outcomes).
    pub payers: Vec<String>,
    /// The price year the amount was written in, when given.
    pub price_year: Option<i32>,
    /// Factor that converted the written amount to the scenario's price year (1 when none was needed).
    pub price_factor: f64,
    /// Where the figure comes from, as written.
    pub source: Option<String>,
    /// How far the figure can be trusted, as written.
    pub confidence: Option<Confidence>,
    /// Whether outputs using the figure must flag it: confidence `unverified`
    /// or `assumption`, or no (non-empty) source, or no confidence.
    pub flagged: bool,
}

impl Row {
    /// Whether the model uses the figure anywhere.
    pub fn is_used(&self) -> bool {
        !self.uses.is_empty()
    }
}

/// A scenario-wide setting with its own provenance: `discounting`,
/// `adjustments` or `price_index`.
#[derive(Clone, Debug, PartialEq)]
pub struct Setting {
    /// `discounting`, `adjustments` or `price_index`.
    pub name: String,
    /// A readable description: `costs 3.5 %, outcomes 3.5 %, timing mid, cycle counting beginning`.
    pub value: String,
    /// The numbers of the setting by key: `costs`, `outcomes` (or
    /// `costs from year 30` for a schedule), `tax_factor`, `attribution`, …
    pub figures: Vec<(String, f64)>,
    /// Where the setting comes from, as written.
    pub source: Option<String>,
    /// How far it can be trusted, as written.
    pub confidence: Option<Confidence>,
    /// Same rule as [`Row::flagged`]; a shipped price index without own
    /// levels counts as sourced.
    pub flagged: bool,
}

/// The assumption table of a scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct Assumptions {
    /// The scenario's name.
    pub scenario: String,
    /// Currency of every amount.
    pub currency: String,
    /// The price year every amount is expressed in.
    pub price_year: i32,
    /// One row per parameter, in the order of [`Scenario::parameters`]: the
    /// named `[parameters]` in file order, then the inline tables in the
    /// order the checker meets them (states, transitions, interventions,
    /// history). Aliases (`a = "$b"`) are not parameters of their own and
    /// have no row.
    pub rows: Vec<Row>,
    /// The discount rates and their provenance.
    pub discounting: Setting,
    /// `[adjustments]`, when the scenario has them.
    pub adjustments: Option<Setting>,
    /// `[price_index]`, when the scenario has one.
    pub price_index: Option<Setting>,
}

/// Whether a figure with this provenance must be flagged.
fn is_flagged(source: Option<&str>, confidence: Option<Confidence>) -> bool {
    source.is_none_or(|s| s.trim().is_empty()) || confidence.is_none_or(Confidence::is_flagged)
}

/// What kind of flag a figure carries, for counting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flag {
    Unverified,
    Assumption,
    Unsourced,
}

fn flag_of(flagged: bool, confidence: Option<Confidence>) -> Option<Flag> {
    if !flagged {
        return None;
    }
    Some(match confidence {
        Some(Confidence::Unverified) => Flag::Unverified,
        Some(Confidence::Assumption) => Flag::Assumption,
        _ => Flag::Unsourced,
    })
}

/// Counts of flagged figures by kind: unverified, assumption, without source or confidence.
#[derive(Clone, Copy, Debug, Default)]
struct Counts {
    unverified: usize,
    assumption: usize,
    unsourced: usize,
}

impl Counts {
    fn add(&mut self, flag: Option<Flag>) {
        match flag {
            Some(Flag::Unverified) => self.unverified += 1,
            Some(Flag::Assumption) => self.assumption += 1,
            Some(Flag::Unsourced) => self.unsourced += 1,
            None => {}
        }
    }

    fn total(&self) -> usize {
        self.unverified + self.assumption + self.unsourced
    }

    /// `7 unverified figures, 113 assumptions and 2 figures without source or confidence`.
    fn describe(&self) -> String {
        let plural = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let mut parts = Vec::new();
        if self.unverified > 0 {
            parts.push(plural(self.unverified, "unverified figure", "unverified figures"));
        }
        if self.assumption > 0 {
            parts.push(plural(self.assumption, "assumption", "assumptions"));
        }
        if self.unsourced > 0 {
            parts.push(plural(
                self.unsourced,
                "figure without source or confidence",
                "figures without source or confidence",
            ));
        }
        match parts.len() {
            0 => "no flagged figures".to_owned(),
            1 => parts.remove(0),
            n => format!("{} and {}", parts[..n - 1].join(", "), parts[n - 1]),
        }
    }
}

/// Where each parameter is used, and by which payers.
struct Uses {
    uses: Vec<Vec<String>>,
    payers: Vec<Vec<bool>>,
    /// Per parameter: (from, to, lo, hi) of transition uses, merged over contiguous bands.
    moves: Vec<Vec<(usize, usize, u32, u32)>>,
}

impl Uses {
    fn of(scenario: &Scenario) -> Uses {
        let n = scenario.parameters().len();
        let n_payers = scenario.payers().len();
        let mut u = Uses {
            uses: vec![Vec::new(); n],
            payers: vec![vec![false; n_payers]; n],
            moves: vec![Vec::new(); n],
        };
        let payers = scenario.payers();
        let states = scenario.states();
        for s in states {
            u.money(&s.costs, &format!("states.{}.costs", s.id), payers);
            u.money(&s.entry_costs, &format!("states.{}.entry_costs", s.id), payers);
            for (o, v) in scenario.outcomes().iter().zip(&s.outcomes) {
                u.add(*v, || format!("states.{}.outcomes.{o}", s.id));
            }
        }
        for band in scenario.transitions() {
            for &(to, v) in &band.to {
                if let Value::Param(id) = v {
                    u.transition(id.index(), band.from, to, band.ages);
                }
            }
        }
        u.finish_moves(states);
        for iv in scenario.interventions() {
            let at = format!("interventions.{}", iv.id);
            u.add(iv.uptake, || format!("{at}.enrol.uptake"));
            u.money(&iv.program.fixed_costs, &format!("{at}.program.fixed_costs"), payers);
            u.money(&iv.once_costs, &format!("{at}.participant_costs.once"), payers);
            u.money(&iv.yearly_costs, &format!("{at}.participant_costs.per_year"), payers);
            for (e, effect) in iv.effects.iter().enumerate() {
                u.add(effect.value, || format!("{at}.effects[{e}].{}", effect.kind.as_str()));
            }
        }
        for (h, rule) in scenario.history().iter().enumerate() {
            u.add(rule.value, || format!("history[{h}].{}", rule.kind.as_str()));
        }
        u
    }

    fn add(&mut self, v: Value, text: impl FnOnce() -> String) {
        if let Value::Param(id) = v {
            self.uses[id.index()].push(text());
        }
    }

    fn money(&mut self, values: &[Value], path: &str, payers: &[crate::Payer]) {
        for (k, (v, payer)) in values.iter().zip(payers).enumerate() {
            if let Value::Param(id) = v {
                self.uses[id.index()].push(format!("{path}.{}", payer.id));
                self.payers[id.index()][k] = true;
            }
        }
    }

    fn transition(&mut self, i: usize, from: usize, to: usize, (lo, hi): (u32, u32)) {
        let moves = &mut self.moves[i];
        match moves
            .iter_mut()
            .find(|m| m.0 == from && m.1 == to && (m.3 == lo || m.2 == hi))
        {
            Some(m) => {
                m.2 = m.2.min(lo);
                m.3 = m.3.max(hi);
            }
            None => moves.push((from, to, lo, hi)),
        }
    }

    /// Appends the merged transition uses, in order of first appearance.
    fn finish_moves(&mut self, states: &[State]) {
        for (i, moves) in self.moves.iter().enumerate() {
            for &(from, to, lo, hi) in moves {
                self.uses[i].push(format!(
                    "transitions from {} to {} at {lo}–{hi}",
                    states[from].id, states[to].id
                ));
            }
        }
    }
}

impl Assumptions {
    /// The assumption table of `scenario`; see [`Assumptions::rows`] for the order.
    pub fn of(scenario: &Scenario) -> Assumptions {
        let Uses { uses, payers, .. } = Uses::of(scenario);
        let rows = scenario
            .parameters()
            .iter()
            .zip(uses)
            .zip(payers)
            .map(|((p, uses), by_payer)| {
                let payers = scenario
                    .payers()
                    .iter()
                    .zip(by_payer)
                    .filter(|&(_, used)| used)
                    .map(|(payer, _)| payer.id.clone())
                    .collect();
                Row {
                    name: p.name.clone(),
                    named: p.named,
                    value: describe(p),
                    mean: p.mean(),
                    unit: p.unit.clone(),
                    uses,
                    payers,
                    price_year: p.price_year,
                    price_factor: p.price_factor,
                    source: p.source.clone(),
                    confidence: p.confidence,
                    flagged: is_flagged(p.source.as_deref(), p.confidence),
                }
            })
            .collect();
        Assumptions {
            scenario: scenario.name().to_owned(),
            currency: scenario.currency().to_owned(),
            price_year: scenario.price_year(),
            rows,
            discounting: discounting(scenario),
            adjustments: adjustments(scenario),
            price_index: price_index(scenario),
        }
    }

    /// The flagged rows, in table order.
    pub fn flagged(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| r.flagged)
    }

    /// The settings present: discounting, then adjustments and the price index when given.
    pub fn settings(&self) -> impl Iterator<Item = &Setting> {
        std::iter::once(&self.discounting)
            .chain(self.adjustments.as_ref())
            .chain(self.price_index.as_ref())
    }

    /// Flagged figures by kind; with `used_only`, rows nothing refers to are left out.
    fn counts(&self, used_only: bool) -> Counts {
        let mut c = Counts::default();
        for r in self.rows.iter().filter(|r| !used_only || r.is_used()) {
            c.add(flag_of(r.flagged, r.confidence));
        }
        for s in self.settings() {
            c.add(flag_of(s.flagged, s.confidence));
        }
        c
    }

    /// The table as JSON:
    ///
    /// ```text
    /// { "scenario", "currency", "price_year",
    ///   "parameters": [ { "name", "named", "value", "mean", "unit", "uses", "payers",
    ///                     "price_year", "price_factor", "source", "confidence", "flagged" } ],
    ///   "discounting": { "name", "value", "figures": { "costs": 0.035, … }, "source", "confidence", "flagged" },
    ///   "adjustments": { … } or null, "price_index": { … } or null,
    ///   "flagged": [ names of flagged parameters, then of flagged settings ] }
    /// ```
    ///
    /// Confidence is its snake_case name (`"unverified"`); absent fields are `null`.
    pub fn to_json(&self) -> Json {
        let parameters: Vec<Json> = self
            .rows
            .iter()
            .map(|r| {
                json!({
                    "name": r.name,
                    "named": r.named,
                    "value": r.value,
                    "mean": r.mean,
                    "unit": r.unit,
                    "uses": r.uses,
                    "payers": r.payers,
                    "price_year": r.price_year,
                    "price_factor": r.price_factor,
                    "source": r.source,
                    "confidence": r.confidence.map(confidence_name),
                    "flagged": r.flagged,
                })
            })
            .collect();
        let flagged: Vec<&str> = self
            .flagged()
            .map(|r| r.name.as_str())
            .chain(self.settings().filter(|s| s.flagged).map(|s| s.name.as_str()))
            .collect();
        json!({
            "scenario": self.scenario,
            "currency": self.currency,
            "price_year": self.price_year,
            "parameters": parameters,
            "discounting": setting_json(&self.discounting),
            "adjustments": self.adjustments.as_ref().map(setting_json),
            "price_index": self.price_index.as_ref().map(setting_json),
            "flagged": flagged,
        })
    }

    /// The table as text: one line per parameter with name, value, unit,
    /// payers, price year (and conversion factor), confidence and source
    /// (cut to 48 characters with `…`); flagged rows start with `!`. The
    /// settings follow, then the closing line
    /// `N of M figures are unverified or assumptions: …`, counting the
    /// parameters and settings.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "Assumptions – {}", self.scenario);
        let _ = writeln!(
            out,
            "Amounts in {} at {} prices; a distribution's mean is its base-case value.",
            self.currency, self.price_year
        );
        let _ = writeln!(
            out,
            "Rows marked ! are unverified, assumptions, or without source or confidence."
        );
        let _ = writeln!(out);

        let header = [
            "",
            "name",
            "value",
            "unit",
            "payer",
            "price year",
            "confidence",
            "source",
        ]
        .map(str::to_owned);
        let mut table = vec![header];
        for r in &self.rows {
            table.push([
                if r.flagged { "!" } else { "" }.to_owned(),
                r.name.clone(),
                r.value.clone(),
                r.unit.clone().unwrap_or_else(|| "–".to_owned()),
                if r.payers.is_empty() {
                    "–".to_owned()
                } else {
                    r.payers.join(", ")
                },
                price_year_text(r.price_year, r.price_factor),
                r.confidence.map_or("–", confidence_name).to_owned(),
                r.source
                    .as_deref()
                    .map_or_else(|| "–".to_owned(), |s| truncate(s, SOURCE_WIDTH)),
            ]);
        }
        let widths: Vec<usize> = (0..8)
            .map(|c| table.iter().map(|row| row[c].chars().count()).max().unwrap_or(0))
            .collect();
        for row in &table {
            let mut line = String::new();
            for (c, cell) in row.iter().enumerate() {
                if c > 0 {
                    line.push_str("  ");
                }
                line.push_str(cell);
                if c + 1 < row.len() {
                    line.extend(std::iter::repeat_n(' ', widths[c] - cell.chars().count()));
                }
            }
            let _ = writeln!(out, "{}", line.trim_end());
        }

        let unused: Vec<&str> = self
            .rows
            .iter()
            .filter(|r| !r.is_used())
            .map(|r| r.name.as_str())
            .collect();
        if !unused.is_empty() {
            let _ = writeln!(out, "\nNot used by the model: {}", unused.join(", "));
        }

        let _ = writeln!(out);
        for s in self.settings() {
            let _ = writeln!(
                out,
                "{}{}: {}; confidence {}; source {}",
                if s.flagged { "! " } else { "" },
                s.name,
                s.value,
                s.confidence.map_or("–", confidence_name),
                s.source.as_deref().unwrap_or("–"),
            );
        }

        let counts = self.counts(false);
        let total = self.rows.len() + self.settings().count();
        let _ = writeln!(
            out,
            "\n{} of {total} figures are unverified or assumptions: {}.",
            counts.total(),
            counts.describe()
        );
        out
    }
}

/// One line for a run summary: `Uses 7 unverified figures and 113
/// assumptions (see `lifecost assumptions`)`, or `None` when no figure the
/// model uses is flagged.
///
/// Counts the parameters the model refers to (a named parameter nothing
/// uses cannot affect a result) and the settings (discounting, adjustments,
/// price index); figures without source or confidence are counted as such.
pub fn flagged_summary(scenario: &Scenario) -> Option<String> {
    let counts = Assumptions::of(scenario).counts(true);
    (counts.total() > 0).then(|| format!("Uses {} (see `lifecost assumptions`)", counts.describe()))
}

fn confidence_name(c: Confidence) -> &'static str {
    match c {
        Confidence::High => "high",
        Confidence::Medium => "medium",
        Confidence::Low => "low",
        Confidence::Sourced => "sourced",
        Confidence::Secondary => "secondary",
        Confidence::Derived => "derived",
        Confidence::Unverified => "unverified",
        Confidence::Assumption => "assumption",
    }
}

fn setting_json(s: &Setting) -> Json {
    let figures: serde_json::Map<String, Json> = s.figures.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    json!({
        "name": s.name,
        "value": s.value,
        "figures": figures,
        "source": s.source,
        "confidence": s.confidence.map(confidence_name),
        "flagged": s.flagged,
    })
}

fn price_year_text(year: Option<i32>, factor: f64) -> String {
    match year {
        None => "–".to_owned(),
        Some(y) if factor == 1.0 => y.to_string(),
        Some(y) => format!("{y} ×{}", number(factor)),
    }
}

/// `text` cut to `width` characters, the last one `…` when cut.
fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
        cut.truncate(cut.trim_end().len());
        cut.push('…');
        cut
    }
}

/// A number for reading: amounts from 1 000 up grouped by three
/// (`1 400 000`), smaller numbers to four significant digits (`0.0002`, `0.85`).
fn number(x: f64) -> String {
    if !x.is_finite() {
        return if x.is_nan() {
            "NaN".to_owned()
        } else if x > 0.0 {
            "∞".to_owned()
        } else {
            "−∞".to_owned()
        };
    }
    if x.abs() >= 1000.0 {
        return amount(x);
    }
    if x == 0.0 {
        return "0".to_owned();
    }
    let decimals = (3 - x.abs().log10().floor() as i32).clamp(0, 12) as usize;
    let text = format!("{x:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    };
    match text.strip_prefix('-') {
        Some(rest) => format!("−{rest}"),
        None => text,
    }
}

/// A derived number (a lognormal's median or interval end) to four
/// significant digits: `1 026 000`, `0.6`.
fn significant(x: f64) -> String {
    if x.is_finite() && x.abs() >= 1000.0 {
        let scale = 10f64.powi(x.abs().log10().floor() as i32 - 3);
        number((x / scale).round() * scale)
    } else {
        number(x)
    }
}

fn percent(rate: f64) -> String {
    format!("{} %", number(rate * 100.0))
}

/// The value of a parameter: a fixed number, or its distribution with the mean.
fn describe(p: &Parameter) -> String {
    let n = number;
    let mean = p.mean();
    let (text, mean_shown) = match p.distribution {
        Distribution::Fixed(x) => return n(x),
        Distribution::Beta { alpha, beta } => {
            let s = alpha + beta;
            let sd = (alpha * beta / (s * s * (s + 1.0))).sqrt();
            (format!("beta(mean {}, sd {})", n(alpha / s), n(sd)), true)
        }
        Distribution::Gamma { shape, scale } => (
            format!("gamma(mean {}, sd {})", n(shape * scale), n(shape.sqrt() * scale)),
            true,
        ),
        Distribution::Normal { mean, sd } => (format!("normal(mean {}, sd {})", n(mean), n(sd)), true),
        Distribution::LogNormal { mu, sigma } => {
            let z = 1.959_963_984_540_054;
            (
                format!(
                    "lognormal(median {}, 95 % {} to {})",
                    significant(mu.exp()),
                    significant((mu - z * sigma).exp()),
                    significant((mu + z * sigma).exp())
                ),
                false,
            )
        }
        Distribution::Uniform { min, max } => (format!("uniform(min {}, max {})", n(min), n(max)), false),
        Distribution::Triangular { min, mode, max } => (
            format!("triangular(min {}, mode {}, max {})", n(min), n(mode), n(max)),
            false,
        ),
        Distribution::Pert { min, mode, max } => {
            (format!("pert(min {}, mode {}, max {})", n(min), n(mode), n(max)), false)
        }
    };
    match p.truncate {
        Some((lo, hi)) => format!("{text} truncated to [{}, {}], mean {}", n(lo), n(hi), n(mean)),
        None if mean_shown => text,
        None => format!("{text}, mean {}", n(mean)),
    }
}

fn rate_figures(rate: &RateSpec, key: &str) -> (String, Vec<(String, f64)>) {
    match rate {
        RateSpec::Constant(r) => (format!("{key} {}", percent(*r)), vec![(key.to_owned(), *r)]),
        RateSpec::Schedule(steps) => {
            let text = steps
                .iter()
                .map(|s| format!("{} from year {}", percent(s.rate), number(s.from_year)))
                .collect::<Vec<_>>()
                .join(", ");
            let figures = steps
                .iter()
                .map(|s| (format!("{key} from year {}", number(s.from_year)), s.rate))
                .collect();
            (format!("{key} {text}"), figures)
        }
    }
}

fn discounting(scenario: &Scenario) -> Setting {
    let d = &scenario.spec().discounting;
    let (costs, mut figures) = rate_figures(&d.costs, "costs");
    let (outcomes, more) = rate_figures(&d.outcomes, "outcomes");
    figures.extend(more);
    let timing = serde_json::to_value(d.timing).ok();
    let counting = serde_json::to_value(d.cycle_counting).ok();
    let name = |v: Option<Json>| v.as_ref().and_then(Json::as_str).unwrap_or("?").to_owned();
    Setting {
        name: "discounting".to_owned(),
        value: format!(
            "{costs}, {outcomes}, timing {}, cycle counting {}",
            name(timing),
            name(counting)
        ),
        figures,
        source: d.source.clone(),
        confidence: d.confidence,
        flagged: is_flagged(d.source.as_deref(), d.confidence),
    }
}

fn adjustments(scenario: &Scenario) -> Option<Setting> {
    let a = scenario.spec().adjustments.as_ref()?;
    let figures: Vec<(String, f64)> = [
        ("tax_factor", a.tax_factor),
        ("attribution", a.attribution),
        ("deadweight", a.deadweight),
        ("drop_off", a.drop_off),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v)))
    .collect();
    if figures.is_empty() {
        return None;
    }
    let value = figures
        .iter()
        .map(|(k, v)| format!("{k} {}", number(*v)))
        .collect::<Vec<_>>()
        .join(", ");
    Some(Setting {
        name: "adjustments".to_owned(),
        value,
        figures,
        source: a.source.clone(),
        confidence: a.confidence,
        flagged: is_flagged(a.source.as_deref(), a.confidence),
    })
}

fn price_index(scenario: &Scenario) -> Option<Setting> {
    let p = scenario.spec().price_index.as_ref()?;
    let mut parts = Vec::new();
    if let Some(name) = &p.name {
        parts.push(format!("shipped `{name}`"));
    }
    if !p.levels.is_empty() {
        let years: Vec<&str> = p.levels.keys().map(String::as_str).collect();
        parts.push(format!("own levels for {}", years.join(", ")));
    }
    let figures = p.levels.iter().map(|(year, level)| (year.clone(), *level)).collect();
    // A shipped index carries its own source (SCB); only own levels need one.
    let flagged = if p.levels.is_empty() {
        p.confidence.is_some_and(Confidence::is_flagged)
    } else {
        is_flagged(p.source.as_deref(), p.confidence)
    };
    Some(Setting {
        name: "price_index".to_owned(),
        value: parts.join(", "),
        figures,
        source: p.source.clone(),
        confidence: p.confidence,
        flagged,
    })
}
