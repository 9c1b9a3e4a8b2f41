//! Value of information: what it would be worth to resolve the uncertainty before deciding.
//!
//! # The decision
//!
//! The decision maker adopts one of the scenario's interventions or keeps the status quo. The net
//! benefit per child of an option, in draw `d` of a probabilistic sensitivity analysis, is
//!
//! * `NB₀,d = 0` for the status quo, and
//! * `NBₖ,d = NPVₖ,d` for intervention `k`: its per-child NPV against the status quo in the run's
//!   perspective (savings minus the intervention's own cost, fixed program costs spread per child).
//!
//! With current information the option with the highest expected net benefit is chosen (the
//! status quo on ties: an intervention is chosen only if its mean NPV is strictly the highest and
//! positive).
//!
//! # EVPI
//!
//! The expected value of perfect information is the expected gain from choosing after all
//! uncertainty is resolved:
//!
//! ```text
//! EVPI = mean_d max_k NBₖ,d − max_k mean_d NBₖ,d
//! ```
//!
//! It is at least 0, and exactly 0 when the same option is best in every draw. [`evpi`] gives it
//! per child and for the program population: `per_child × children`, where `children` is the
//! program size (`program.years × program.children_per_year`) of the intervention chosen on
//! current information or, when the status quo is chosen, of the first intervention. This treats
//! the program population as the population the decision affects; with interventions of
//! different program sizes it is an approximation (the per-child figure is exact).
//! [`evpi_per_comparison`] gives the binary EVPI of each intervention against the status quo
//! alone: `mean_d max(0, NPVₖ,d) − max(0, mean_d NPVₖ,d)`.
//!
//! # EVPPI
//!
//! The expected value of partial perfect information about a group of parameters `φ` is the gain
//! from learning `φ` exactly (the rest stays uncertain):
//!
//! ```text
//! EVPPI(φ) = E_φ[ max_k E(NBₖ | φ) ] − max_k E(NBₖ)
//! ```
//!
//! The conditional expectations `E(NBₖ | φ)` are estimated from the same PSA draws (no nested
//! simulation); the parameter values of draw `d` are recomputed with [`crate::draw_values`].
//!
//! * **One parameter — binning.** The draws are sorted by the parameter's value and split into
//!   `B = max(2, round(√n))` bins of equal count (sizes differ by at most one; ties are broken by
//!   draw index). `E(NBₖ | φ)` is the bin mean, and
//!   `EVPPI = Σ_b (n_b/n) max_k mean_b(NBₖ) − max_k mean(NBₖ)`.
//! * **Several parameters — regression.** For every intervention `k`, `NBₖ` is fitted by least
//!   squares (SVD) on a full quadratic in the standardised group values `zᵢ = (xᵢ − x̄ᵢ)/sᵢ`:
//!   `[1, zᵢ, zᵢ², zᵢ·zⱼ (i < j)]`, i.e. `1 + 2p + p(p−1)/2` terms for `p` parameters. When
//!   `n ≤ 2·terms` the interactions and then the squares are dropped; a linear fit needs
//!   `n > 2(p + 1)`. With fitted values `f̂ₖ,d` (`f̂₀ = 0` for the status quo),
//!   `EVPPI = mean_d max_k f̂ₖ,d − max_k mean_d f̂ₖ,d`.
//!
//! Both estimates are non-negative up to rounding: a result in `(−1e-9·scale, 0)`, where `scale`
//! is the largest `|NBₖ,d|`, is set to 0; any other value is reported as computed.
//!
//! ## Limits
//!
//! * Binning is biased upwards: within a bin the mean still carries Monte Carlo noise (standard
//!   error ≈ `sd(NB)/n^¼`), and the maximum of noisy means exceeds the maximum of the true means.
//!   The bias matters when the options' conditional means are close relative to that noise — for
//!   a parameter that affects nothing the estimate is then small but not 0. More draws shrink it.
//! * The regression assumes `E(NBₖ | φ)` is close to a quadratic in `φ`; a strongly non-smooth
//!   dependence (thresholds) is smoothed and the EVPPI underestimated. With many parameters and
//!   few draws the fit also absorbs noise and overestimates. Results for the whole uncertain set
//!   approach the EVPI only as far as the quadratic captures the model.
//! * The parameter values are those of [`crate::draw_values`] with the run's seed: a run made with
//!   [`crate::Simulation::set`] overrides holds those parameters fixed, and an EVPPI naming them
//!   is meaningless (it comes out near 0).
//! * Microsimulation draws carry the simulation's own Monte Carlo noise; it counts as uncertainty
//!   that no information resolves, and inflates the EVPI a little.

use nalgebra::DMatrix;
use serde_json::{Value as Json, json};

use crate::error::{Error, Result, ScenarioError};
use crate::report::text::amount;
use crate::result::RunResult;
use crate::scenario::{Perspective, Scenario};

/// The expected value of perfect information of a run (see the [module docs](self)).
#[derive(Clone, Debug, PartialEq)]
pub struct Evpi {
    /// The perspective of the NPVs the decision is based on.
    pub perspective: Perspective,
    /// EVPI per child, in the scenario's currency.
    pub per_child: f64,
    /// `per_child × children`.
    pub population: f64,
    /// Program children the population EVPI is scaled by: those of the chosen intervention, or of
    /// the first intervention when the status quo is chosen.
    pub children: f64,
    /// Number of PSA draws.
    pub draws: usize,
    /// Id of the arm with the highest expected net benefit, or `status_quo`.
    pub choice: String,
}

/// How an EVPPI was estimated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// One parameter: draws sorted by its value and averaged in `bins` equal-count bins.
    Binning {
        /// Number of bins, `max(2, round(√n))`.
        bins: usize,
    },
    /// Several parameters: least-squares fit of each net benefit on a polynomial of the group.
    Regression {
        /// Number of regression terms, the intercept included.
        terms: usize,
    },
}

impl Method {
    /// `binning` or `regression`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Binning { .. } => "binning",
            Method::Regression { .. } => "regression",
        }
    }

    fn describe(self) -> String {
        match self {
            Method::Binning { bins } => format!("binning, {bins} bins"),
            Method::Regression { terms } => format!("regression, {terms} terms"),
        }
    }

    fn to_json(self) -> Json {
        match self {
            Method::Binning { bins } => json!({ "kind": "binning", "bins": bins }),
            Method::Regression { terms } => json!({ "kind": "regression", "terms": terms }),
        }
    }
}

/// The expected value of partial perfect information about a group of parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Evppi {
    /// Names of the parameters in the group, as given.
    pub parameters: Vec<String>,
    /// EVPPI per child, in the scenario's currency.
    pub per_child: f64,
    /// `per_child ×` the same program children as [`Evpi::children`].
    pub population: f64,
    /// How it was estimated.
    pub method: Method,
}

/// Value-of-information analysis of a run: EVPI, binary EVPI per comparison, EVPPI per group.
#[derive(Clone, Debug, PartialEq)]
pub struct Voi {
    /// EVPI over all options; `None` with fewer than 2 draws or no intervention.
    pub evpi: Option<Evpi>,
    /// Per intervention id: EVPI per child of that intervention against the status quo alone.
    pub per_comparison: Vec<(String, f64)>,
    /// One EVPPI per asked parameter group.
    pub evppi: Vec<Evppi>,
}

/// Net benefit per child of every intervention (`[k][d]`); the status quo's is 0 and left out.
fn net_benefits(run: &RunResult) -> Vec<Vec<f64>> {
    (0..run.intervention_ids.len())
        .map(|k| run.draws.iter().map(|d| d.comparisons[k].npv).collect())
        .collect()
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// `mean_d max(0, max_k nb[k][d])`.
fn mean_of_max(nb: &[Vec<f64>], n: usize) -> f64 {
    (0..n).map(|d| nb.iter().fold(0.0_f64, |m, k| m.max(k[d]))).sum::<f64>() / n as f64
}

/// Index (1-based; 0 = status quo) and value of the highest mean net benefit.
fn best_option(nb: &[Vec<f64>]) -> (usize, f64) {
    let mut best = (0, 0.0);
    for (k, v) in nb.iter().enumerate() {
        let m = mean(v);
        if m > best.1 {
            best = (k + 1, m);
        }
    }
    best
}

/// Largest `|NBₖ,d|`, the scale of the rounding tolerance (1 if every NB is 0).
fn scale(nb: &[Vec<f64>]) -> f64 {
    let s = nb.iter().flatten().fold(0.0_f64, |m, x| m.max(x.abs()));
    if s > 0.0 { s } else { 1.0 }
}

/// Sets rounding-level negatives to 0; anything else is returned as computed.
fn clamp(value: f64, scale: f64) -> f64 {
    if value < 0.0 && value.abs() < 1e-9 * scale {
        0.0
    } else {
        value
    }
}

/// Program children of the chosen intervention (or of the first, for the status quo).
fn children(run: &RunResult, choice: usize) -> f64 {
    run.expected
        .comparisons
        .get(choice.saturating_sub(1))
        .map_or(0.0, |c| c.program.children)
}

/// EVPI over the status quo and every intervention, from the run's PSA draws.
///
/// `None` when the run has fewer than 2 draws or the scenario no intervention.
pub fn evpi(run: &RunResult) -> Option<Evpi> {
    let n = run.n_draws();
    if n < 2 || run.intervention_ids.is_empty() {
        return None;
    }
    let nb = net_benefits(run);
    let (choice, best) = best_option(&nb);
    let per_child = clamp(mean_of_max(&nb, n) - best, scale(&nb));
    let children = children(run, choice);
    Some(Evpi {
        perspective: run.perspective,
        per_child,
        population: per_child * children,
        children,
        draws: n,
        choice: run.arm_ids().nth(choice).unwrap_or(crate::STATUS_QUO).to_owned(),
    })
}

/// Per intervention id, the EVPI per child of the binary decision between that intervention and
/// the status quo: `mean_d max(0, NPVₖ,d) − max(0, mean_d NPVₖ,d)`. Empty with fewer than 2 draws.
pub fn evpi_per_comparison(run: &RunResult) -> Vec<(String, f64)> {
    let n = run.n_draws();
    if n < 2 {
        return Vec::new();
    }
    net_benefits(run)
        .into_iter()
        .zip(&run.intervention_ids)
        .map(|(k, (id, _))| {
            let one = [k];
            let value = mean_of_max(&one, n) - mean(&one[0]).max(0.0);
            (id.clone(), clamp(value, scale(&one)))
        })
        .collect()
}

fn param_error(path: impl Into<String>, message: impl Into<String>) -> Error {
    Error::Scenario(ScenarioError {
        path: path.into(),
        message: message.into(),
        location: None,
    })
}

/// EVPPI of a group of parameters (names declared in `[parameters]`), from the PSA draws of `run`,
/// which must be a run of `scenario`. One parameter is estimated by binning, several by
/// regression (see the [module docs](self)).
///
/// # Errors
///
/// [`Error::Scenario`] with path `voi.parameters[i]` when parameter `i` is unknown, fixed (not
/// uncertain) or named twice; with path `voi.parameters` when the group is empty, the run has
/// fewer than 2 draws (or too few for a linear regression on the group, `n ≤ 2(p + 1)`), or the run
/// is not of this scenario.
pub fn evppi(scenario: &Scenario, run: &RunResult, parameters: &[&str]) -> Result<Evppi> {
    if parameters.is_empty() {
        return Err(param_error(
            "voi.parameters",
            "is empty; expected at least one parameter name",
        ));
    }
    let mut ids = Vec::with_capacity(parameters.len());
    for (i, name) in parameters.iter().enumerate() {
        let path = format!("voi.parameters[{i}]");
        let Some(id) = scenario.parameter(name) else {
            let known: Vec<&str> = scenario
                .parameters()
                .iter()
                .filter(|p| p.named && p.distribution.is_uncertain())
                .map(|p| p.name.as_str())
                .collect();
            return Err(param_error(
                path,
                format!(
                    "no parameter `{name}` in the scenario; expected one of the uncertain parameters: {}",
                    known.join(", ")
                ),
            ));
        };
        if !scenario.parameters()[id.index()].distribution.is_uncertain() {
            return Err(param_error(
                path,
                format!("`{name}` is fixed; expected a parameter with a distribution"),
            ));
        }
        if parameters[..i].contains(name) {
            return Err(param_error(path, format!("`{name}` is named twice")));
        }
        ids.push(id.index());
    }
    let n = run.n_draws();
    if n < 2 {
        return Err(param_error(
            "voi.parameters",
            format!("the run has {n} draw; EVPPI needs a probabilistic run with at least 2 draws"),
        ));
    }
    if run.intervention_ids.len() != scenario.interventions().len() || run.scenario_hash != scenario.hash() {
        return Err(param_error("voi.parameters", "the run is not of this scenario"));
    }
    let nb = net_benefits(run);
    let x: Vec<Vec<f64>> = {
        let values: Vec<Vec<f64>> = (0..n as u64)
            .map(|d| crate::draw_values(scenario, run.seed, d))
            .collect();
        ids.iter().map(|&i| values.iter().map(|v| v[i]).collect()).collect()
    };
    let (value, method) = if let [only] = x.as_slice() {
        binning(&nb, only)
    } else {
        regression(&nb, &x)?
    };
    let per_child = clamp(value, scale(&nb));
    let choice = best_option(&nb).0;
    Ok(Evppi {
        parameters: parameters.iter().map(|&s| s.to_owned()).collect(),
        per_child,
        population: per_child * children(run, choice),
        method,
    })
}

/// `Σ_b (n_b/n) max(0, max_k mean_b NBₖ) − max(0, max_k mean NBₖ)` and the method.
///
/// Both terms are built from the same bin sums, so the result is exactly 0 when one option is
/// best in every bin.
fn binning(nb: &[Vec<f64>], x: &[f64]) -> (f64, Method) {
    let n = x.len();
    let bins = ((n as f64).sqrt().round() as usize).max(2).min(n);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]).then(a.cmp(&b)));
    // sums[b][k]: the sum of NBₖ over bin b (n_b × its mean).
    let sums: Vec<Vec<f64>> = (0..bins)
        .map(|b| {
            let members = &order[b * n / bins..(b + 1) * n / bins];
            nb.iter().map(|k| members.iter().map(|&d| k[d]).sum::<f64>()).collect()
        })
        .collect();
    (jensen_gap(&sums, n), Method::Binning { bins })
}

/// `Σ_r max(0, max_k rows[r][k]) / n − max(0, max_k Σ_r rows[r][k] / n)`, summed in one order.
fn jensen_gap(rows: &[Vec<f64>], n: usize) -> f64 {
    let options = rows.first().map_or(0, Vec::len);
    let mut of_max = 0.0;
    let mut totals = vec![0.0; options];
    for row in rows {
        of_max += row.iter().fold(0.0_f64, |m, &v| m.max(v));
        for (t, v) in totals.iter_mut().zip(row) {
            *t += v;
        }
    }
    let max_of = totals.iter().fold(0.0_f64, |m, &v| m.max(v));
    (of_max - max_of) / n as f64
}

/// `mean_d max(0, max_k f̂ₖ,d) − max(0, max_k mean_d f̂ₖ,d)` of the regression and the method.
fn regression(nb: &[Vec<f64>], x: &[Vec<f64>]) -> Result<(f64, Method)> {
    let n = nb.first().map_or(x[0].len(), Vec::len);
    let p = x.len();
    let z: Vec<Vec<f64>> = x
        .iter()
        .map(|xi| {
            let m = mean(xi);
            let sd = (xi.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n as f64 - 1.0).max(1.0)).sqrt();
            let sd = if sd > 0.0 { sd } else { 1.0 };
            xi.iter().map(|v| (v - m) / sd).collect()
        })
        .collect();
    let full = 1 + 2 * p + p * (p - 1) / 2;
    let (squares, interactions) = if n > 2 * full {
        (true, true)
    } else if n > 2 * (1 + 2 * p) {
        (true, false)
    } else if n > 2 * (1 + p) {
        (false, false)
    } else {
        return Err(param_error(
            "voi.parameters",
            format!(
                "the run has {n} draws; a regression on {p} parameters needs more than {}",
                2 * (1 + p)
            ),
        ));
    };
    let mut columns: Vec<Vec<f64>> = vec![vec![1.0; n]];
    columns.extend(z.iter().cloned());
    if squares {
        columns.extend(z.iter().map(|zi| zi.iter().map(|v| v * v).collect()));
    }
    if interactions {
        for i in 0..p {
            for j in i + 1..p {
                columns.push(z[i].iter().zip(&z[j]).map(|(a, b)| a * b).collect());
            }
        }
    }
    let terms = columns.len();
    let design = DMatrix::from_fn(n, terms, |r, c| columns[c][r]);
    if nb.is_empty() {
        return Ok((0.0, Method::Regression { terms }));
    }
    let targets = DMatrix::from_fn(n, nb.len(), |r, c| nb[c][r]);
    let svd = design.clone().svd(true, true);
    let eps = 1e-12 * svd.singular_values.max();
    let coef = svd
        .solve(&targets, eps)
        .map_err(|e| param_error("voi.parameters", format!("the regression failed: {e}")))?;
    let fitted = design * coef;
    let rows: Vec<Vec<f64>> = (0..n).map(|d| fitted.row(d).iter().copied().collect()).collect();
    // The fitted means equal the NB means up to rounding (the fit has an intercept); the fitted
    // ones make the difference the Jensen gap of the fit itself, ≥ 0.
    Ok((jensen_gap(&rows, n), Method::Regression { terms }))
}

impl Voi {
    /// EVPI, per-comparison EVPI and the EVPPI of each group in `groups` (each a list of
    /// parameter names).
    ///
    /// # Errors
    ///
    /// As [`evppi`], for the first group that fails.
    pub fn new(scenario: &Scenario, run: &RunResult, groups: &[&[&str]]) -> Result<Voi> {
        Ok(Voi {
            evpi: evpi(run),
            per_comparison: evpi_per_comparison(run),
            evppi: groups
                .iter()
                .map(|g| evppi(scenario, run, g))
                .collect::<Result<Vec<_>>>()?,
        })
    }

    /// The machine-readable analysis; non-finite numbers are `null`.
    pub fn to_json(&self) -> Json {
        let evpi = self.evpi.as_ref().map_or(Json::Null, |e| {
            json!({
                "perspective": e.perspective.as_str(),
                "per_child": num(e.per_child),
                "population": num(e.population),
                "children": num(e.children),
                "draws": e.draws,
                "choice": e.choice,
            })
        });
        let per_comparison: Vec<Json> = self
            .per_comparison
            .iter()
            .map(|(id, v)| json!({ "intervention": id, "per_child": num(*v) }))
            .collect();
        let evppi: Vec<Json> = self
            .evppi
            .iter()
            .map(|e| {
                json!({
                    "parameters": e.parameters,
                    "per_child": num(e.per_child),
                    "population": num(e.population),
                    "method": e.method.to_json(),
                })
            })
            .collect();
        json!({ "evpi": evpi, "per_comparison": per_comparison, "evppi": evppi })
    }

    /// The readable summary, amounts in `currency`.
    pub fn to_text(&self, currency: &str) -> String {
        let mut out = String::new();
        let Some(e) = &self.evpi else {
            out.push_str("Value of information: needs a probabilistic run (at least 2 draws) and an intervention.\n");
            return out;
        };
        out.push_str(&format!(
            "Value of information ({} perspective, {} draws)\n",
            e.perspective.as_str(),
            e.draws
        ));
        out.push_str(&format!("  Best option on current information: {}\n", e.choice));
        out.push_str(&format!(
            "  EVPI per child:             {} {currency}\n",
            amount(e.per_child)
        ));
        out.push_str(&format!(
            "  EVPI, program ({} children): {} {currency}\n",
            amount(e.children),
            amount(e.population)
        ));
        if !self.per_comparison.is_empty() {
            out.push_str("  EVPI per child, each intervention against the status quo:\n");
            for (id, v) in &self.per_comparison {
                out.push_str(&format!("    {id}: {} {currency}\n", amount(*v)));
            }
        }
        if !self.evppi.is_empty() {
            out.push_str("  EVPPI (value of learning these parameters exactly):\n");
            for p in &self.evppi {
                let share = if e.per_child > 0.0 {
                    format!("{:.0} % of EVPI", 100.0 * p.per_child / e.per_child)
                } else {
                    "EVPI is 0".to_owned()
                };
                out.push_str(&format!(
                    "    {}: {} {currency} per child, {} {currency} program ({share}; {})\n",
                    p.parameters.join(" + "),
                    amount(p.per_child),
                    amount(p.population),
                    p.method.describe()
                ));
            }
        }
        out
    }
}

/// A finite number, or null (JSON has no NaN or infinity).
fn num(x: f64) -> Json {
    serde_json::Number::from_f64(x).map_or(Json::Null, Json::Number)
}
