//! Scenario sweeps: the same simulation run over a grid of parameter values.
//!
//! `lifecost sweep SCENARIO --vary hr_placement=0.5:1.0:11 --vary tsi_uptake=0.5,0.9`
//! holds each varied parameter at every combination of its values (in the
//! base case and in every draw, through [`Simulation::set`]) and reports the
//! headline figures of every intervention at every point.
//!
//! Points run in parallel, but every point is a pure function of the
//! simulation and its values and the results are collected in grid order, so
//! a sweep gives bit-identical output on any number of threads.
//!
//! # Example
//!
//! ```
//! # fn main() -> Result<(), lifecost::Error> {
//! use lifecost::analysis::sweep::{self, Axis};
//!
//! let scenario = lifecost::Scenario::default_scenario()?;
//! let axes: Vec<Axis> = vec!["hr_placement=0.6:1.0:3".parse().unwrap(), "tsi_uptake=0.5,0.9".parse().unwrap()];
//! let points = sweep::sweep(&lifecost::Simulation::new(&scenario), &scenario, &axes)?;
//! assert_eq!(points.len(), 6);
//! print!("{}", sweep::to_csv(&axes, &points));
//! # Ok(()) }
//! ```

use std::fmt::Write as _;
use std::str::FromStr;

use rayon::prelude::*;

use crate::error::{Error, Result, ScenarioError};
use crate::param::ParamId;
use crate::result::Comparison;
use crate::scenario::Scenario;
use crate::simulation::Simulation;
use crate::stats::Estimate;

/// Most points a sweep runs. Every point is a full run of the scenario, so a
/// grid beyond this is almost certainly a typo (`0:1:1000000`) and would
/// otherwise run for days and hold every result in memory.
pub const MAX_POINTS: usize = 100_000;

/// What [`Axis::from_str`] accepts, repeated in every error so that the
/// user sees the fix next to the mistake.
const EXPECTED: &str = "expected name=from:to:count, name=v1,v2,… or name=v";

/// One varied parameter and the values it takes.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    /// The name of a parameter declared in `[parameters]`.
    pub parameter: String,
    /// The values, in the order they are run and reported.
    pub values: Vec<f64>,
}

impl FromStr for Axis {
    type Err = String;

    /// Parses `name=from:to:count` (`count` evenly spaced values from `from`
    /// to `to`, both included; `count = 1` gives just `from`),
    /// `name=v1,v2,…` or `name=v`. Numbers may use `_` between digits, as in
    /// a scenario file (`1_000_000`).
    ///
    /// # Errors
    ///
    /// A message naming the text and what was expected, such as
    /// ``"`hr=0.5:1`: a range has three parts; expected name=from:to:count, …"``.
    fn from_str(text: &str) -> std::result::Result<Axis, String> {
        let fail = |problem: &str| format!("`{text}`: {problem}; {EXPECTED}");
        let Some((name, spec)) = text.split_once('=') else {
            return Err(fail("no `=`"));
        };
        let name = name.trim();
        if name.is_empty() {
            return Err(fail("no parameter name before `=`"));
        }
        let spec = spec.trim();
        if spec.is_empty() {
            return Err(fail("no values after `=`"));
        }
        let values = if spec.contains(':') {
            range(spec).map_err(|p| fail(&p))?
        } else {
            spec.split(',')
                .map(number)
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|p| fail(&p))?
        };
        if values.len() > MAX_POINTS {
            return Err(fail(&format!(
                "{} values; at most {MAX_POINTS} are allowed",
                values.len()
            )));
        }
        Ok(Axis {
            parameter: name.to_owned(),
            values,
        })
    }
}

/// `from:to:count` into its values.
fn range(spec: &str) -> std::result::Result<Vec<f64>, String> {
    let parts: Vec<&str> = spec.split(':').collect();
    let [from, to, count] = parts[..] else {
        return Err(format!("a range has three parts, `{spec}` has {}", parts.len()));
    };
    let (from, to) = (number(from)?, number(to)?);
    let count = count.trim();
    let n: usize = match count.replace('_', "").parse() {
        Ok(n) if n >= 1 => n,
        _ => return Err(format!("the count `{count}` is not a whole number ≥ 1")),
    };
    if n > MAX_POINTS {
        return Err(format!("the count {n} is above {MAX_POINTS}"));
    }
    if n == 1 {
        return Ok(vec![from]);
    }
    let last = (n - 1) as f64;
    Ok((0..n)
        .map(|i| {
            let t = i as f64 / last;
            match i {
                // The ends are exactly what the user typed, whatever the rounding inside.
                0 => from,
                _ if i == n - 1 => to,
                // One division of an almost always exact numerator gives the double
                // nearest the decimal value: 0.5:1.0:11 yields 0.6, not 0.6000000000000001
                // as accumulating steps would. Near the limits of f64 the numerator can
                // overflow; the weighted mean cannot.
                _ => Some((from * (last - i as f64) + to * i as f64) / last)
                    .filter(|v| v.is_finite())
                    .unwrap_or(from * (1.0 - t) + to * t),
            }
        })
        .collect())
}

/// A finite number, allowing `_` between digits as TOML does.
fn number(text: &str) -> std::result::Result<f64, String> {
    let t = text.trim();
    let bad = || format!("`{t}` is not a finite number");
    if t.starts_with('_') || t.ends_with('_') || t.contains("__") {
        return Err(bad());
    }
    match t.replace('_', "").parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(bad()),
    }
}

/// The results at one point of the grid.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    /// The value of each axis, in the order of the axes.
    pub values: Vec<f64>,
    /// One row per intervention, in the scenario's order.
    pub rows: Vec<Row>,
}

/// The headline figures of one intervention against the status quo at one point.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The intervention's id.
    pub intervention: String,
    /// Net present value per child, `savings − cost`.
    pub npv: Estimate,
    /// PV of status-quo costs minus the arm's, the intervention's own excluded.
    pub savings: Estimate,
    /// PV of the intervention's own costs.
    pub cost: Estimate,
    /// Benefit–cost ratio; `None` when the cost is not positive in some draw.
    pub bcr: Option<Estimate>,
    /// Return on investment; `None` when the cost is not positive in some draw.
    pub roi: Option<Estimate>,
    /// Share of draws with NPV > 0 (0 or 1 in a deterministic run).
    pub prob_npv_positive: f64,
    /// Payback year of the expected discounted streams; `None` when it never pays back.
    pub payback_discounted: Option<f64>,
    /// Payback year in the undiscounted budget view; `None` when it never pays back.
    pub payback_undiscounted: Option<f64>,
}

impl Row {
    fn new(c: &Comparison<'_>) -> Row {
        let (payback_discounted, payback_undiscounted) = c.payback_year();
        Row {
            intervention: c.intervention().to_owned(),
            npv: c.npv(),
            savings: c.savings(),
            cost: c.intervention_cost(),
            bcr: c.bcr(),
            roi: c.roi(),
            prob_npv_positive: c.prob_npv_positive().0,
            payback_discounted,
            payback_undiscounted,
        }
    }
}

/// Runs `simulation` at every point of the grid spanned by `axes`.
///
/// The grid is the Cartesian product of the axes' values, the first axis
/// varying slowest (as nested loops in the order given). At each point every
/// varied parameter is held at its value through [`Simulation::set`], on top
/// of whatever `simulation` already holds; everything else — perspective,
/// engine, draws, seed, children — is `simulation`'s, so every point sees the
/// same random numbers and differences between points are the parameters'
/// alone. No axes give one point, `simulation` as it is.
///
/// Points run in parallel with rayon and are returned in grid order; the
/// result is the same on any number of threads. A progress callback set on
/// `simulation` would be called by every point at once; leave it unset.
///
/// # Errors
///
/// [`Error::Scenario`] with the path `sweep.vary[i]` when axis `i` names no
/// parameter of `[parameters]`, repeats an earlier axis, has no values or a
/// value that is not finite; with the path `sweep.vary` when the grid has
/// more than [`MAX_POINTS`] points; and the first error of a run, in grid
/// order, with the point appended to its message.
pub fn sweep(simulation: &Simulation<'_>, scenario: &Scenario, axes: &[Axis]) -> Result<Vec<Point>> {
    let ids = check(scenario, axes)?;
    let total = axes
        .iter()
        .try_fold(1usize, |n, a| {
            n.checked_mul(a.values.len()).filter(|&n| n <= MAX_POINTS)
        })
        .ok_or_else(|| {
            let sizes: Vec<String> = axes.iter().map(|a| a.values.len().to_string()).collect();
            sweep_error(
                "sweep.vary".to_owned(),
                format!(
                    "the grid has {} points; expected at most {MAX_POINTS}",
                    sizes.join(" × ")
                ),
            )
        })?;
    // Collected as results in grid order, then the first error is taken in
    // that order: rayon's own short-circuiting collect would return whichever
    // failing point finished first, and so depend on the thread count.
    let runs: Vec<Result<Point>> = (0..total)
        .into_par_iter()
        .map(|k| {
            let values = point_values(axes, k);
            let sim = ids
                .iter()
                .zip(&values)
                .fold(simulation.clone(), |s, (&id, &v)| s.set(id, v));
            let run = sim.run().map_err(|e| at_point(e, axes, &values))?;
            let rows = run.comparisons().map(|c| Row::new(&c)).collect();
            Ok(Point { values, rows })
        })
        .collect();
    runs.into_iter().collect()
}

/// The parameter of every axis, or the error of the first bad axis.
fn check(scenario: &Scenario, axes: &[Axis]) -> Result<Vec<ParamId>> {
    let mut ids: Vec<ParamId> = Vec::with_capacity(axes.len());
    for (i, axis) in axes.iter().enumerate() {
        let path = format!("sweep.vary[{i}]");
        let Some(id) = scenario.parameter(&axis.parameter) else {
            let known: Vec<&str> = scenario
                .parameters()
                .iter()
                .filter(|p| p.named)
                .map(|p| p.name.as_str())
                .collect();
            let expected = if known.is_empty() {
                "the scenario declares no [parameters] to vary".to_owned()
            } else {
                format!("expected one of [parameters]: {}", known.join(", "))
            };
            return Err(sweep_error(
                path,
                format!("no parameter `{}`; {expected}", axis.parameter),
            ));
        };
        // A second axis on the same parameter would silently override the first
        // at every point, making half of the grid's columns lie.
        if let Some(j) = ids.iter().position(|&p| p == id) {
            return Err(sweep_error(
                path,
                format!(
                    "`{}` is already varied by sweep.vary[{j}]; expected each parameter once",
                    axis.parameter
                ),
            ));
        }
        if axis.values.is_empty() {
            return Err(sweep_error(
                path,
                format!("`{}` has no values; expected at least one", axis.parameter),
            ));
        }
        if let Some(v) = axis.values.iter().find(|v| !v.is_finite()) {
            return Err(sweep_error(
                path,
                format!("`{}` takes {v}; expected finite values", axis.parameter),
            ));
        }
        ids.push(id);
    }
    Ok(ids)
}

fn sweep_error(path: String, message: String) -> Error {
    Error::Scenario(ScenarioError {
        path,
        message,
        location: None,
    })
}

/// The values at grid index `k`: mixed radix with the last axis as the lowest digit.
fn point_values(axes: &[Axis], mut k: usize) -> Vec<f64> {
    let mut values = vec![0.0; axes.len()];
    for (slot, axis) in values.iter_mut().zip(axes).rev() {
        let n = axis.values.len();
        *slot = axis.values[k % n];
        k /= n;
    }
    values
}

/// Says at which point a run failed: the same error at another point of the
/// grid would otherwise be indistinguishable.
fn at_point(error: Error, axes: &[Axis], values: &[f64]) -> Error {
    match error {
        Error::Scenario(mut e) => {
            let point: Vec<String> = axes
                .iter()
                .zip(values)
                .map(|(a, v)| format!("{} = {v}", a.parameter))
                .collect();
            let _ = write!(e.message, " (at sweep point {})", point.join(", "));
            Error::Scenario(e)
        }
        other => other,
    }
}

/// The sweep as CSV: a header, then one line per point and intervention.
///
/// Columns: the axis names, then `intervention, npv, npv_se, npv_p5, npv_p95,
/// savings, cost, bcr, roi, prob_npv_positive, payback_discounted,
/// payback_undiscounted`. Estimates give their mean across draws (`npv` also
/// its standard error and 90 % interval). Numbers are written with Rust's
/// shortest representation that reads back to the same `f64`, without
/// exponent; a missing or non-finite figure is an empty cell. Text cells are
/// quoted as RFC 4180 asks when they hold a comma, quote or line break.
/// Lines end in `\n`.
pub fn to_csv(axes: &[Axis], points: &[Point]) -> String {
    const COLUMNS: [&str; 12] = [
        "intervention",
        "npv",
        "npv_se",
        "npv_p5",
        "npv_p95",
        "savings",
        "cost",
        "bcr",
        "roi",
        "prob_npv_positive",
        "payback_discounted",
        "payback_undiscounted",
    ];
    let mut out = String::new();
    let header: Vec<String> = axes
        .iter()
        .map(|a| text_cell(&a.parameter))
        .chain(COLUMNS.iter().map(|c| (*c).to_owned()))
        .collect();
    out.push_str(&header.join(","));
    out.push('\n');
    for point in points {
        let values: Vec<String> = point.values.iter().map(|&v| number_cell(Some(v))).collect();
        for row in &point.rows {
            let cells = [
                text_cell(&row.intervention),
                number_cell(Some(row.npv.mean)),
                number_cell(Some(row.npv.se)),
                number_cell(Some(row.npv.p5)),
                number_cell(Some(row.npv.p95)),
                number_cell(Some(row.savings.mean)),
                number_cell(Some(row.cost.mean)),
                number_cell(row.bcr.map(|e| e.mean)),
                number_cell(row.roi.map(|e| e.mean)),
                number_cell(Some(row.prob_npv_positive)),
                number_cell(row.payback_discounted),
                number_cell(row.payback_undiscounted),
            ];
            let line: Vec<&str> = values.iter().chain(&cells).map(String::as_str).collect();
            out.push_str(&line.join(","));
            out.push('\n');
        }
    }
    out
}

/// `{}` of an `f64` is its shortest round-trip form, so the CSV loses nothing;
/// NaN and infinities have no agreed CSV spelling, so they become empty cells.
fn number_cell(x: Option<f64>) -> String {
    match x {
        Some(v) if v.is_finite() => v.to_string(),
        _ => String::new(),
    }
}

/// RFC 4180: a field with a comma, a double quote or a line break is
/// enclosed in double quotes, and a double quote inside is doubled.
fn text_cell(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_cells_are_quoted_as_rfc_4180_asks() {
        assert_eq!(text_cell("tsi"), "tsi");
        assert_eq!(text_cell("a,b"), "\"a,b\"");
        assert_eq!(text_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(text_cell("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn number_cells_round_trip_and_blank_the_undefined() {
        for x in [0.1 + 0.2, -1.5e-12, 1e300, 123_456_789.123_456_78] {
            assert_eq!(number_cell(Some(x)).parse::<f64>().unwrap(), x);
        }
        assert_eq!(number_cell(None), "");
        assert_eq!(number_cell(Some(f64::NAN)), "");
        assert_eq!(number_cell(Some(f64::NEG_INFINITY)), "");
    }

    #[test]
    fn grid_index_is_mixed_radix_last_axis_fastest() {
        let axes = [
            Axis {
                parameter: "a".into(),
                values: vec![1.0, 2.0],
            },
            Axis {
                parameter: "b".into(),
                values: vec![10.0, 20.0, 30.0],
            },
        ];
        let grid: Vec<Vec<f64>> = (0..6).map(|k| point_values(&axes, k)).collect();
        assert_eq!(grid[0], [1.0, 10.0]);
        assert_eq!(grid[2], [1.0, 30.0]);
        assert_eq!(grid[3], [2.0, 10.0]);
        assert_eq!(grid[5], [2.0, 30.0]);
    }
}
