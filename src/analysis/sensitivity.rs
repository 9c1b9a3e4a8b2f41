//! One-way sensitivity: the tornado of DESIGN §3.
//!
//! Each uncertain parameter in turn is moved to a low and a high value while
//! every other parameter stays at the base case, and the NPV per child of one
//! intervention against the status quo is recomputed. The bars, sorted by
//! swing, show which numbers the conclusion hangs on. The discount rate,
//! which is not a parameter but a convention, gets its own small table at
//! 0 %, 1.5 %, 3.5 % and 4 % (the rates Swedish guidance has used).
//!
//! # What is varied
//!
//! Every parameter declared in `[parameters]` that is uncertain (has a
//! distribution) or carries an explicit `low` or `high`. Anonymous numbers
//! (inline tables) are left alone: they have no name a reader could act on,
//! and a fixed number without `low`/`high` has no range to vary over.
//!
//! - **Low and high** are the written `low` and `high` where given, each
//!   independently, and otherwise the 5th and 95th percentiles of the
//!   parameter's distribution ([`Parameter::value_at`], truncation included).
//! - **Others at base case**: every other parameter at its mean, as in
//!   [`Simulation::run`] without draws. Correlations are ignored: one-way
//!   sensitivity moves one number at a time by definition.
//! - **Discounting**: the bars use the scenario's own `[discounting]`; the
//!   discount table replaces it with one constant rate for costs and outcomes.
//!
//! Every evaluation is an independent deterministic cohort run; they run in
//! parallel with rayon and are collected in a fixed order, so the result is
//! identical on any number of threads.
//!
//! # Example
//!
//! ```
//! # fn main() -> Result<(), lifecost::Error> {
//! use lifecost::analysis::sensitivity;
//!
//! let scenario = lifecost::Scenario::default_scenario()?;
//! let tornado = sensitivity::one_way(&scenario, "tsi", lifecost::Perspective::Fiscal)?;
//! let widest = &tornado.bars[0];
//! println!("{} moves the NPV by {:.0}", widest.parameter, widest.swing());
//! println!("{}", tornado.to_text());
//! # Ok(()) }
//! ```

use std::fmt::Write;

use rayon::prelude::*;
use serde_json::{Value as Json, json};

use crate::economics::DiscountRate;
use crate::error::{Error, Result, ScenarioError};
use crate::param::{ParamId, Parameter, Quantity};
use crate::report::text::amount;
use crate::scenario::{Perspective, Scenario};
use crate::simulation::Simulation;

/// The constant discount rates of the discount table: no discounting, a low
/// social rate, the Swedish ASEK rate, and the older ASEK 4 rate.
pub const DISCOUNT_RATES: [f64; 4] = [0.0, 0.015, 0.035, 0.04];

/// The percentile used for a bound the scenario does not give.
const LOW_PERCENTILE: f64 = 0.05;
/// See [`LOW_PERCENTILE`].
const HIGH_PERCENTILE: f64 = 0.95;

/// Characters of the ASCII tornado on each side of the base case.
const HALF_WIDTH: usize = 12;

/// Where a bar's low and high values came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bounds {
    /// Both written in the scenario (`low = …, high = …`).
    Given,
    /// Both the 5th and 95th percentiles of the parameter's distribution.
    Percentiles,
    /// `low` written in the scenario, high the 95th percentile.
    LowGiven,
    /// `high` written in the scenario, low the 5th percentile.
    HighGiven,
}

impl Bounds {
    /// The name used in JSON: `given`, `percentiles`, `low_given` or `high_given`.
    pub fn as_str(self) -> &'static str {
        match self {
            Bounds::Given => "given",
            Bounds::Percentiles => "percentiles",
            Bounds::LowGiven => "low_given",
            Bounds::HighGiven => "high_given",
        }
    }

    /// Which bounds are written, for a parameter whose `low`/`high` may each be given.
    fn of(low_given: bool, high_given: bool) -> Bounds {
        match (low_given, high_given) {
            (true, true) => Bounds::Given,
            (false, false) => Bounds::Percentiles,
            (true, false) => Bounds::LowGiven,
            (false, true) => Bounds::HighGiven,
        }
    }

    /// How the text table labels the source of the bounds.
    fn label(self) -> &'static str {
        match self {
            Bounds::Given => "given",
            Bounds::Percentiles => "p5/p95",
            Bounds::LowGiven => "given/p95",
            Bounds::HighGiven => "p5/given",
        }
    }
}

/// One bar of the tornado: the NPV with one parameter at its low and at its high value.
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    /// The parameter's `[parameters]` name.
    pub parameter: String,
    /// The low value the parameter was set to.
    pub low: f64,
    /// The high value the parameter was set to.
    pub high: f64,
    /// Where `low` and `high` came from.
    pub bounds: Bounds,
    /// NPV per child with the parameter at `low`, all others at base case.
    pub npv_low: f64,
    /// NPV per child with the parameter at `high`, all others at base case.
    pub npv_high: f64,
}

impl Bar {
    /// How far the NPV moves between the two ends: `|npv_high − npv_low|`.
    /// NaN when either NPV is not a number.
    pub fn swing(&self) -> f64 {
        (self.npv_high - self.npv_low).abs()
    }
}

/// The NPV and BCR at one constant discount rate.
#[derive(Clone, Debug, PartialEq)]
pub struct DiscountPoint {
    /// The constant annual rate for costs and outcomes, e.g. `0.035`.
    pub rate: f64,
    /// NPV per child at this rate, every parameter at base case.
    pub npv: f64,
    /// Benefit–cost ratio; `None` when the intervention's cost is not positive.
    pub bcr: Option<f64>,
}

/// The one-way sensitivity of one intervention's NPV per child.
#[derive(Clone, Debug, PartialEq)]
pub struct Sensitivity {
    /// The intervention's id.
    pub intervention: String,
    /// The payers the NPV adds up.
    pub perspective: Perspective,
    /// The scenario's currency, for labels.
    pub currency: String,
    /// NPV per child at the base case with the scenario's own discounting.
    pub base_npv: f64,
    /// One bar per varied parameter, widest swing first (ties by name).
    pub bars: Vec<Bar>,
    /// The NPV at each rate of [`DISCOUNT_RATES`], in that order.
    pub discount: Vec<DiscountPoint>,
}

/// A parameter to vary and the values to set it to.
struct Candidate<'a> {
    id: ParamId,
    parameter: &'a Parameter,
    low: f64,
    high: f64,
    bounds: Bounds,
}

/// One independent evaluation.
#[derive(Clone, Copy)]
enum Job {
    /// The base case, with the scenario's discounting.
    Base,
    /// Candidate `k` at its low (`false`) or high (`true`) value.
    Bound(usize, bool),
    /// The base case at a constant discount rate.
    Rate(f64),
}

/// One-way sensitivity of the NPV per child of `intervention` in `perspective`.
///
/// See the [module documentation](self) for what is varied and how.
///
/// # Errors
///
/// - [`Error::UnknownIntervention`] when the scenario has no such intervention.
/// - [`Error::Scenario`] when the base case fails to run, or when a low or
///   high value makes the scenario invalid: a written bound outside what the
///   parameter's uses admit (a probability above 1, a negative cost), or a
///   value that pushes a row of transition probabilities above 1 (a relative
///   risk). The error's path is the parameter (`parameters.rr.high`), and its
///   message says the value and what went wrong where. When several
///   evaluations fail, the first is reported (base case, then the parameters
///   in the scenario's order, then the discount rates).
pub fn one_way(scenario: &Scenario, intervention: &str, perspective: Perspective) -> Result<Sensitivity> {
    // Checked first so a typo does not cost a whole tornado of runs.
    if !scenario.interventions().iter().any(|iv| iv.id == intervention) {
        return Err(Error::UnknownIntervention {
            id: intervention.to_owned(),
            known: scenario
                .interventions()
                .iter()
                .map(|iv| iv.id.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    let candidates = candidates(scenario);

    let mut jobs = vec![Job::Base];
    jobs.extend((0..candidates.len()).flat_map(|k| [Job::Bound(k, false), Job::Bound(k, true)]));
    jobs.extend(DISCOUNT_RATES.iter().map(|&r| Job::Rate(r)));

    // `collect` into a Vec keeps the job order whatever thread ran each job;
    // the first error is then taken in that order, so even the error is
    // independent of the thread count.
    let results: Vec<Result<(f64, Option<f64>)>> = jobs
        .par_iter()
        .map(|&job| {
            let simulation = Simulation::new(scenario).perspective(perspective);
            match job {
                Job::Base => evaluate(&simulation, intervention),
                Job::Rate(r) => evaluate(&simulation.discount(DiscountRate::constant(r)), intervention),
                Job::Bound(k, high) => {
                    let c = &candidates[k];
                    let value = if high { c.high } else { c.low };
                    check_bound(scenario, c, high, value)?;
                    evaluate(&simulation.set(c.id, value), intervention).map_err(|e| name_parameter(e, c, high, value))
                }
            }
        })
        .collect();
    let mut results = results.into_iter();
    let mut next = || results.next().expect("one result per job");

    let (base_npv, _) = next()?;
    let mut bars = Vec::with_capacity(candidates.len());
    for c in &candidates {
        let (npv_low, _) = next()?;
        let (npv_high, _) = next()?;
        bars.push(Bar {
            parameter: c.parameter.name.clone(),
            low: c.low,
            high: c.high,
            bounds: c.bounds,
            npv_low,
            npv_high,
        });
    }
    let mut discount = Vec::with_capacity(DISCOUNT_RATES.len());
    for &rate in &DISCOUNT_RATES {
        let (npv, bcr) = next()?;
        discount.push(DiscountPoint { rate, npv, bcr });
    }

    // A NaN swing sorts last rather than first, so it cannot head the tornado.
    let key = |b: &Bar| {
        let s = b.swing();
        if s.is_nan() { f64::NEG_INFINITY } else { s }
    };
    bars.sort_by(|a, b| key(b).total_cmp(&key(a)).then_with(|| a.parameter.cmp(&b.parameter)));

    Ok(Sensitivity {
        intervention: intervention.to_owned(),
        perspective,
        currency: scenario.currency().to_owned(),
        base_npv,
        bars,
        discount,
    })
}

/// The named parameters to vary, in the scenario's order, with their bounds.
fn candidates(scenario: &Scenario) -> Vec<Candidate<'_>> {
    scenario
        .parameters()
        .iter()
        .enumerate()
        .filter(|(_, p)| p.named && (p.distribution.is_uncertain() || p.low.is_some() || p.high.is_some()))
        .map(|(i, p)| Candidate {
            id: ParamId(i),
            parameter: p,
            low: p.low.unwrap_or_else(|| p.value_at(LOW_PERCENTILE)),
            high: p.high.unwrap_or_else(|| p.value_at(HIGH_PERCENTILE)),
            bounds: Bounds::of(p.low.is_some(), p.high.is_some()),
        })
        .collect()
}

/// NPV and BCR of the intervention in one deterministic run.
fn evaluate(simulation: &Simulation<'_>, intervention: &str) -> Result<(f64, Option<f64>)> {
    let run = simulation.run()?;
    let comparison = run.compare(intervention)?;
    Ok((comparison.npv().mean, comparison.bcr().map(|e| e.mean)))
}

/// Refuses a written bound the scenario could not have been written with.
///
/// The scenario was checked with the parameter's distribution, so a
/// percentile is always admissible; a written `low`/`high` was only checked
/// to be finite. Re-checking the scenario with the parameter fixed at the
/// bound applies exactly the rules a file must meet (a probability in
/// [0, 1], a cost ≥ 0, |d| ≤ 5), where the engine alone would accept, for
/// instance, a negative probability without complaint.
fn check_bound(scenario: &Scenario, c: &Candidate<'_>, high: bool, value: f64) -> Result<()> {
    let given = if high { c.parameter.high } else { c.parameter.low };
    if given.is_none() {
        return Ok(());
    }
    let mut spec = scenario.spec().clone();
    match spec.parameters.get_mut(&c.parameter.name) {
        Some(q) => *q = Quantity::Number(value),
        // Not reachable for a named parameter; nothing to re-check then.
        None => return Ok(()),
    }
    match Scenario::from_spec(spec) {
        Ok(_) => Ok(()),
        Err(e) => Err(name_parameter(Error::Scenario(e), c, high, value)),
    }
}

/// Puts the parameter and the bound at the head of an error from a run with it
/// moved, so the reader knows which number to fix: the failure itself may be
/// reported far from the parameter (at the effect or transition that uses it).
fn name_parameter(e: Error, c: &Candidate<'_>, high: bool, value: f64) -> Error {
    let Error::Scenario(inner) = e else { return e };
    let side = if high { "high" } else { "low" };
    let given = if high { c.parameter.high } else { c.parameter.low };
    let (path, what) = match given {
        Some(_) => (format!("parameters.{}.{side}", c.parameter.name), format!("is {value}")),
        None => {
            let pct = if high { "95th" } else { "5th" };
            (
                format!("parameters.{}", c.parameter.name),
                format!("has its {pct} percentile at {value}"),
            )
        }
    };
    Error::Scenario(ScenarioError {
        path,
        // The inner error already says what was expected, and where.
        message: format!("{what}; with it, {inner}"),
        location: None,
    })
}

/// A JSON number, or `null` when not finite (JSON has no NaN or infinity).
fn num(x: f64) -> Json {
    serde_json::Number::from_f64(x).map_or(Json::Null, Json::Number)
}

/// A parameter value for the table: money-like amounts grouped as [`amount`]
/// does, small numbers (probabilities, ratios) with four significant digits.
fn value(x: f64) -> String {
    if !x.is_finite() {
        return "–".to_owned();
    }
    if x.abs() >= 1000.0 || x == x.round() {
        return amount(x);
    }
    let decimals = (3 - x.abs().log10().floor() as i32).clamp(1, 8) as usize;
    let text = format!("{x:.decimals$}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    match text.strip_prefix('-') {
        Some(rest) => format!("−{rest}"),
        None => text.to_owned(),
    }
}

/// A rate as a percentage with one decimal: `3.5 %`.
fn rate(r: f64) -> String {
    format!("{:.1} %", 100.0 * r)
}

/// The two-sided ASCII bar of one parameter: blocks left of `│` for how far
/// the lower NPV falls below the base case, right for how far the higher one
/// rises above it, scaled so the widest deviation fills [`HALF_WIDTH`].
fn tornado_bar(bar: &Bar, base: f64, scale: f64) -> String {
    let lo = bar.npv_low.min(bar.npv_high);
    let hi = bar.npv_low.max(bar.npv_high);
    let cells = |d: f64| -> usize {
        if !(d.is_finite() && d > 0.0 && scale > 0.0) {
            return 0;
        }
        // Rounded, not raised to one block: a deviation under half a block is
        // shown as none rather than as large as one of a twelfth of the widest.
        ((d / scale * HALF_WIDTH as f64).round() as usize).min(HALF_WIDTH)
    };
    let left = cells(base - lo);
    let right = cells(hi - base);
    format!(
        "{}{}│{}{}",
        " ".repeat(HALF_WIDTH - left),
        "█".repeat(left),
        "█".repeat(right),
        " ".repeat(HALF_WIDTH - right)
    )
}

impl Sensitivity {
    /// The analysis as JSON: `intervention`, `perspective`, `currency`,
    /// `base_npv`, `bars` (each with `parameter`, `low`, `high`, `bounds`,
    /// `npv_low`, `npv_high`, `swing`) and `discount` (each with `rate`,
    /// `npv`, `bcr`). Numbers that are not finite, and an undefined BCR, are `null`.
    pub fn to_json(&self) -> Json {
        let bars: Vec<Json> = self
            .bars
            .iter()
            .map(|b| {
                json!({
                    "parameter": b.parameter,
                    "low": num(b.low),
                    "high": num(b.high),
                    "bounds": b.bounds.as_str(),
                    "npv_low": num(b.npv_low),
                    "npv_high": num(b.npv_high),
                    "swing": num(b.swing()),
                })
            })
            .collect();
        let discount: Vec<Json> = self
            .discount
            .iter()
            .map(|d| json!({ "rate": num(d.rate), "npv": num(d.npv), "bcr": d.bcr.map_or(Json::Null, num) }))
            .collect();
        json!({
            "intervention": self.intervention,
            "perspective": self.perspective.as_str(),
            "currency": self.currency,
            "base_npv": num(self.base_npv),
            "bars": bars,
            "discount": discount,
        })
    }

    /// The readable tornado: one line per parameter, widest swing first, with
    /// the low and high values, the NPV at each, the swing and a bar around
    /// the base case; then the NPV and BCR at each discount rate.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "One-way sensitivity of NPV per child, {}, {} perspective",
            self.intervention,
            self.perspective.as_str()
        );
        let _ = writeln!(
            out,
            "Base case NPV per child: {} {} (every parameter at its mean)",
            amount(self.base_npv),
            self.currency
        );
        let _ = writeln!(out);

        if self.bars.is_empty() {
            let _ = writeln!(out, "No named uncertain parameters to vary.");
        } else {
            let rows: Vec<[String; 7]> = self
                .bars
                .iter()
                .map(|b| {
                    [
                        b.parameter.clone(),
                        b.bounds.label().to_owned(),
                        value(b.low),
                        amount(b.npv_low),
                        value(b.high),
                        amount(b.npv_high),
                        amount(b.swing()),
                    ]
                })
                .collect();
            let head = ["parameter", "from", "low", "NPV at low", "high", "NPV at high", "swing"];
            let mut width = head.map(|h| h.chars().count());
            for row in &rows {
                for (w, cell) in width.iter_mut().zip(row) {
                    *w = (*w).max(cell.chars().count());
                }
            }
            // The widest deviation from the base case fills half the bar.
            let scale = self
                .bars
                .iter()
                .flat_map(|b| [(b.npv_low - self.base_npv).abs(), (b.npv_high - self.base_npv).abs()])
                .filter(|d| d.is_finite())
                .fold(0.0, f64::max);
            // Header and rows share one layout; rows mark low → NPV and high → NPV.
            let line = |out: &mut String, cells: [&str; 7], arrow: &str, tail: &str| {
                let _ = writeln!(
                    out,
                    "{:<w0$}  {:<w1$}  {:>w2$} {arrow}  {:>w3$}  {:>w4$} {arrow}  {:>w5$}  {:>w6$}  {tail}",
                    cells[0],
                    cells[1],
                    cells[2],
                    cells[3],
                    cells[4],
                    cells[5],
                    cells[6],
                    w0 = width[0],
                    w1 = width[1],
                    w2 = width[2],
                    w3 = width[3],
                    w4 = width[4],
                    w5 = width[5],
                    w6 = width[6],
                );
            };
            let title = format!("NPV − base ({})", self.currency);
            line(&mut out, head, " ", &format!("{title:^bw$}", bw = 2 * HALF_WIDTH + 1));
            for (row, bar) in rows.iter().zip(&self.bars) {
                let cells = [&row[0], &row[1], &row[2], &row[3], &row[4], &row[5], &row[6]].map(String::as_str);
                line(&mut out, cells, "→", &tornado_bar(bar, self.base_npv, scale));
            }
            let _ = writeln!(
                out,
                "Low and high: the values written in the scenario, else the 5th and 95th percentiles; \
                 all other parameters at their means."
            );
        }

        let _ = writeln!(out);
        let _ = writeln!(out, "Discount rate (costs and outcomes), every parameter at its mean:");
        let rows: Vec<[String; 3]> = self
            .discount
            .iter()
            .map(|d| {
                [
                    rate(d.rate),
                    amount(d.npv),
                    d.bcr.map_or_else(|| "–".to_owned(), |b| format!("{b:.2}")),
                ]
            })
            .collect();
        let head = ["rate", "NPV per child", "BCR"];
        let mut width = head.map(|h| h.chars().count());
        for row in &rows {
            for (w, cell) in width.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let _ = writeln!(
            out,
            "{:>w0$}  {:>w1$}  {:>w2$}",
            head[0],
            head[1],
            head[2],
            w0 = width[0],
            w1 = width[1],
            w2 = width[2]
        );
        for row in &rows {
            let _ = writeln!(
                out,
                "{:>w0$}  {:>w1$}  {:>w2$}",
                row[0],
                row[1],
                row[2],
                w0 = width[0],
                w1 = width[1],
                w2 = width[2]
            );
        }
        // The bars and the centred heading pad on the right; trailing blanks only get in the way.
        out.lines().map(|l| format!("{}\n", l.trim_end())).collect()
    }
}
