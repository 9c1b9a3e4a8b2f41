//! Results of a run: per-arm figures, comparisons, the JSON of DESIGN §7.

use serde_json::{Map, Value as Json, json};

use crate::economics::{ArmFigures, ComparisonFigures, Flows, Payback};
use crate::engine::ArmStreams;
use crate::error::{Error, Result};
use crate::report::text;
use crate::scenario::{Adjustments, Perspective, Scenario};
use crate::simulation::{Engine, Figures, Stop};
use crate::stats::{DistributionSummary, Estimate};

/// The result of [`crate::Simulation::run`].
#[derive(Clone, Debug)]
pub struct RunResult {
    pub(crate) scenario_name: String,
    pub(crate) scenario_hash: String,
    pub(crate) currency: String,
    pub(crate) price_year: i32,
    pub(crate) payers: Vec<(String, String, bool)>,
    pub(crate) outcomes: Vec<String>,
    pub(crate) intervention_ids: Vec<(String, String)>,
    pub(crate) perspective: Perspective,
    pub(crate) engine: Engine,
    pub(crate) seed: u64,
    /// Figures of each draw, in draw order.
    pub(crate) draws: Vec<Figures>,
    /// Figures of the expected (draw-averaged) streams: budget, payback, who pays.
    pub(crate) expected: Figures,
    pub(crate) streams: Vec<ArmStreams>,
    /// With one microsimulation draw: figures of each replicate and its children.
    pub(crate) replicates: Vec<(u64, Figures)>,
    pub(crate) children: Option<u64>,
    pub(crate) distribution: Option<Vec<DistributionSummary>>,
    pub(crate) stop: Stop,
    pub(crate) precision: Option<f64>,
    pub(crate) adjustments: Adjustments,
    /// The line flagging unverified figures and assumptions the scenario uses.
    pub(crate) flags: Option<String>,
}

/// What a run hands to [`RunResult::new`].
pub(crate) struct RunParts {
    pub perspective: Perspective,
    pub engine: Engine,
    pub seed: u64,
    pub draws: Vec<Figures>,
    pub expected: Figures,
    pub streams: Vec<ArmStreams>,
    pub replicates: Vec<(u64, Figures)>,
    pub children: Option<u64>,
    pub distribution: Option<Vec<DistributionSummary>>,
    pub stop: Stop,
    pub precision: Option<f64>,
}

/// One intervention against the status quo, across the draws of a run.
#[derive(Clone, Copy, Debug)]
pub struct Comparison<'a> {
    run: &'a RunResult,
    index: usize,
}

/// Monte Carlo standard error of a figure from replicates (batch means):
/// `σ² = Σ n_r (m_r − m)² / (R − 1)`, `se = √(σ²/N)`.
pub(crate) fn replicate_se(replicates: &[(u64, Figures)], pooled: f64, f: impl Fn(&Figures) -> Option<f64>) -> f64 {
    if replicates.len() < 2 {
        return 0.0;
    }
    let mut total = 0.0;
    let mut children = 0.0;
    for (n, d) in replicates {
        let Some(m) = f(d) else { return f64::NAN };
        total += *n as f64 * (m - pooled).powi(2);
        children += *n as f64;
    }
    (total / (replicates.len() as f64 - 1.0) / children).sqrt()
}

impl RunResult {
    pub(crate) fn new(scenario: &Scenario, parts: RunParts) -> Self {
        RunResult {
            scenario_name: scenario.name().to_owned(),
            scenario_hash: scenario.hash(),
            currency: scenario.currency().to_owned(),
            price_year: scenario.price_year(),
            payers: scenario
                .payers()
                .iter()
                .map(|p| (p.id.clone(), p.name.clone(), p.public))
                .collect(),
            outcomes: scenario.outcomes().to_vec(),
            intervention_ids: scenario
                .interventions()
                .iter()
                .map(|i| (i.id.clone(), i.name.clone()))
                .collect(),
            perspective: parts.perspective,
            engine: parts.engine,
            seed: parts.seed,
            draws: parts.draws,
            expected: parts.expected,
            streams: parts.streams,
            replicates: parts.replicates,
            children: parts.children,
            distribution: parts.distribution,
            stop: parts.stop,
            precision: parts.precision,
            adjustments: scenario.adjustments(),
            flags: crate::report::assumptions::flagged_summary(scenario),
        }
    }

    /// The comparison of intervention `id` with the status quo.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownIntervention`] when the scenario has no such intervention.
    pub fn compare(&self, id: &str) -> Result<Comparison<'_>> {
        match self.intervention_ids.iter().position(|(i, _)| i == id) {
            Some(index) => Ok(Comparison { run: self, index }),
            None => Err(Error::UnknownIntervention {
                id: id.to_owned(),
                known: self
                    .intervention_ids
                    .iter()
                    .map(|(i, _)| i.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }

    /// Every comparison, in the scenario's order.
    pub fn comparisons(&self) -> impl Iterator<Item = Comparison<'_>> {
        (0..self.intervention_ids.len()).map(move |index| Comparison { run: self, index })
    }

    /// Per intervention: the mean NPV across draws at each effect fraction of
    /// [`crate::economics::break_even::CURVE`] (empty without draws).
    pub(crate) fn mean_npv_by_effect_scale(&self) -> Vec<Vec<f64>> {
        let n = self.draws.len() as f64;
        (0..self.intervention_ids.len())
            .map(|k| {
                let mut mean = vec![
                    0.0;
                    self.draws
                        .first()
                        .map_or(0, |d| d.comparisons[k].npv_by_effect_scale.len())
                ];
                for d in &self.draws {
                    for (m, x) in mean.iter_mut().zip(&d.comparisons[k].npv_by_effect_scale) {
                        *m += x / n;
                    }
                }
                mean
            })
            .collect()
    }

    /// Figures of each draw, in draw order (one entry for a base-case run).
    pub fn draws(&self) -> &[Figures] {
        &self.draws
    }

    /// Figures of the expected (draw-averaged) streams.
    pub fn expected(&self) -> &Figures {
        &self.expected
    }

    /// The seed of the run.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Number of draws.
    pub fn n_draws(&self) -> usize {
        self.draws.len()
    }

    pub fn perspective(&self) -> Perspective {
        self.perspective
    }

    pub fn currency(&self) -> &str {
        &self.currency
    }

    /// Payer ids, in the scenario's order.
    pub fn payer_ids(&self) -> impl Iterator<Item = &str> {
        self.payers.iter().map(|(id, _, _)| id.as_str())
    }

    /// Arm ids: `status_quo`, then one per intervention.
    pub fn arm_ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(crate::STATUS_QUO).chain(self.intervention_ids.iter().map(|(id, _)| id.as_str()))
    }

    /// Expected per-child streams, one per arm (averaged over draws).
    pub fn base_streams(&self) -> &[ArmStreams] {
        &self.streams
    }

    /// Children simulated per draw (microsimulation only).
    pub fn children(&self) -> Option<u64> {
        self.children
    }

    /// Why the run stopped.
    pub fn stop(&self) -> Stop {
        self.stop
    }

    /// Per arm: lifetime cost per child over children (microsimulation only).
    pub fn distribution(&self) -> Option<&[DistributionSummary]> {
        self.distribution.as_deref()
    }

    /// A figure of an arm across draws.
    pub fn arm_estimate(&self, arm: usize, f: impl Fn(&ArmFigures) -> f64) -> Estimate {
        self.estimate(|d| Some(f(&d.arms[arm])))
            .unwrap_or(Estimate::exact(f64::NAN))
    }

    /// Across draws; with one draw, the replicates of a microsimulation give the standard error.
    fn estimate(&self, f: impl Fn(&Figures) -> Option<f64>) -> Option<Estimate> {
        if let [only] = self.draws.as_slice() {
            let mean = f(only)?;
            let mut e = Estimate::exact(mean);
            e.se = replicate_se(&self.replicates, mean, &f);
            return Some(e);
        }
        let values: Option<Vec<f64>> = self.draws.iter().map(f).collect();
        values.and_then(|v| Estimate::from_draws(&v))
    }

    /// The readable summary of every comparison.
    pub fn summary(&self) -> String {
        text::run_summary(self)
    }

    /// The machine-readable result (DESIGN §7).
    pub fn to_json(&self) -> Json {
        let arms: Vec<Json> = self
            .arm_ids()
            .enumerate()
            .map(|(a, id)| {
                let distribution = self.distribution.as_ref().map(|d| {
                    let d = &d[a];
                    json!({ "p10": num(d.p10), "p25": num(d.p25), "p50": num(d.p50), "p75": num(d.p75), "p90": num(d.p90), "p99": num(d.p99), "top10_share": num(d.top10_share) })
                });
                let mut by_payer = Map::new();
                for (p, (pid, _, _)) in self.payers.iter().enumerate() {
                    by_payer.insert(pid.clone(), est(self.arm_estimate(a, |f| f.cost_by_payer[p])));
                }
                let mut outcomes = Map::new();
                for (o, name) in self.outcomes.iter().enumerate() {
                    outcomes.insert(name.clone(), est(self.arm_estimate(a, |f| f.outcomes[o])));
                }
                let mut arm = json!({
                    "id": id,
                    "cost": est(self.arm_estimate(a, |f| f.cost)),
                    "cost_by_payer": by_payer,
                    "outcomes": outcomes,
                });
                if let (Some(d), Some(obj)) = (distribution, arm.as_object_mut()) {
                    obj.insert("lifetime_cost_distribution".to_owned(), d);
                }
                arm
            })
            .collect();
        json!({
            "scenario": self.scenario_name,
            "version": env!("CARGO_PKG_VERSION"),
            "seed": self.seed,
            "draws": self.draws.len(),
            "children": self.children,
            "engine": self.engine.as_str(),
            "scenario_hash": self.scenario_hash,
            "stop": { "reason": self.stop.as_str(), "precision": self.precision },
            "flags": self.flags,
            "arms": arms,
            "comparisons": self.comparisons().map(|c| c.to_json()).collect::<Vec<_>>(),
        })
    }
}

fn est(e: Estimate) -> Json {
    json!({ "mean": num(e.mean), "se": num(e.se), "p2_5": num(e.p2_5), "p5": num(e.p5), "p50": num(e.p50), "p95": num(e.p95), "p97_5": num(e.p97_5) })
}

fn opt_est(e: Option<Estimate>) -> Json {
    e.map_or(Json::Null, est)
}

/// A finite number, or null (JSON has no NaN or infinity).
fn num(x: f64) -> Json {
    serde_json::Number::from_f64(x).map_or(Json::Null, Json::Number)
}

fn payback_json(p: &Payback) -> Json {
    json!({ "discounted": p.discounted.map_or(Json::Null, num), "undiscounted": p.undiscounted.map_or(Json::Null, num) })
}

fn flows_json(f: &Flows) -> Json {
    json!({ "cost": num(f.cost), "savings": num(f.savings), "net": num(f.net) })
}

impl<'a> Comparison<'a> {
    /// The intervention's id.
    pub fn intervention(&self) -> &'a str {
        &self.run.intervention_ids[self.index].0
    }

    /// The intervention's display name.
    pub fn name(&self) -> &'a str {
        &self.run.intervention_ids[self.index].1
    }

    pub fn run(&self) -> &'a RunResult {
        self.run
    }

    fn figures(&self, d: &'a Figures) -> &'a ComparisonFigures {
        &d.comparisons[self.index]
    }

    /// A figure across draws; `None` if it is undefined in any draw.
    pub fn estimate(&self, f: impl Fn(&ComparisonFigures) -> Option<f64>) -> Option<Estimate> {
        self.run.estimate(|d| f(self.figures(d)))
    }

    fn exact(&self, f: impl Fn(&ComparisonFigures) -> f64) -> Estimate {
        self.estimate(|c| Some(f(c))).unwrap_or(Estimate::exact(f64::NAN))
    }

    /// PV of status-quo costs minus the arm's, the intervention's own excluded.
    pub fn savings(&self) -> Estimate {
        self.exact(|c| c.savings)
    }

    /// PV of the intervention's own costs.
    pub fn intervention_cost(&self) -> Estimate {
        self.exact(|c| c.intervention_cost)
    }

    /// Net present value, `savings − cost`.
    #[doc(alias = "net present value")]
    pub fn npv(&self) -> Estimate {
        self.exact(|c| c.npv)
    }

    /// Benefit–cost ratio; `None` when the cost is not positive in some draw.
    #[doc(alias = "benefit-cost ratio")]
    pub fn bcr(&self) -> Option<Estimate> {
        self.estimate(|c| c.bcr)
    }

    /// Return on investment, `(savings − cost)/cost`; `None` when the cost is not positive.
    #[doc(alias = "return on investment")]
    pub fn roi(&self) -> Option<Estimate> {
        self.estimate(|c| c.roi)
    }

    /// Share of draws with NPV > 0 and its Monte Carlo standard error.
    pub fn prob_npv_positive(&self) -> (f64, f64) {
        let n = self.run.draws.len() as f64;
        let p = self.run.draws.iter().filter(|d| self.figures(d).npv > 0.0).count() as f64 / n;
        (p, (p * (1.0 - p) / n).sqrt())
    }

    /// The break-even curve: for each effect fraction, the share of draws in
    /// which the NPV is positive (empty without draws).
    pub fn break_even_curve(&self) -> Vec<(f64, f64)> {
        let draws = &self.run.draws;
        let n = draws.len() as f64;
        crate::economics::break_even::CURVE
            .iter()
            .enumerate()
            .filter(|(i, _)| {
                draws
                    .iter()
                    .all(|d| d.comparisons[self.index].npv_by_effect_scale.len() > *i)
            })
            .map(|(i, &scale)| {
                let positive = draws
                    .iter()
                    .filter(|d| d.comparisons[self.index].npv_by_effect_scale[i] > 0.0)
                    .count();
                (scale, positive as f64 / n)
            })
            .collect()
    }

    /// Payback year of the expected streams: (discounted, undiscounted).
    pub fn payback_year(&self) -> (Option<f64>, Option<f64>) {
        let c = self.base();
        (c.payback.discounted, c.payback.undiscounted)
    }

    /// Figures of the expected streams (the base case in a deterministic run).
    pub fn base(&self) -> &'a ComparisonFigures {
        self.figures(&self.run.expected)
    }

    /// The readable grant table.
    pub fn summary(&self) -> String {
        text::comparison_summary(self)
    }

    /// The deadweight cost of taxation on net public flows (`tax_factor ×`
    /// public net), in the societal perspective only, where it belongs.
    pub fn tax_adjustment(&self) -> Option<Estimate> {
        let f = self.run.adjustments.tax_factor?;
        (self.run.perspective == Perspective::Societal).then(|| self.exact(|c| f * c.public_net))
    }

    /// NPV with the SROI multipliers on effects, when the scenario has them.
    pub fn sroi_npv(&self) -> Option<Estimate> {
        self.estimate(|c| c.sroi_npv)
    }

    fn adjustments_json(&self) -> Json {
        let a = self.run.adjustments;
        let tax = self.tax_adjustment();
        let with_tax = tax.map(|_| self.exact(|c| c.npv + a.tax_factor.unwrap_or(0.0) * c.public_net));
        json!({
            "tax_factor": a.tax_factor,
            "deadweight_cost_of_taxation": opt_est(tax),
            "npv_with_tax_adjustment": opt_est(with_tax),
            "sroi": a.sroi.map_or(Json::Null, |s| json!({
                "attribution": s.attribution,
                "deadweight": s.deadweight,
                "drop_off": s.drop_off,
                "npv": opt_est(self.sroi_npv()),
            })),
        })
    }

    fn break_even_json(&self) -> Json {
        let b = &self.base().break_even;
        let answer = match b.effect_scale {
            Some(0.0) => "positive_without_effect",
            Some(_) => "found",
            None => "never_positive",
        };
        let curve: Vec<Json> = self
            .break_even_curve()
            .into_iter()
            .map(|(s, p)| json!({ "effect_scale": s, "prob_npv_positive": p }))
            .collect();
        json!({
            "effect_scale": b.effect_scale.map_or(Json::Null, num),
            "children": b.children.map_or(Json::Null, num),
            "effect_answer": answer,
            "state": b.state,
            "excess_cost": b.excess_cost.map_or(Json::Null, num),
            "curve": curve,
        })
    }

    /// This comparison as in DESIGN §7.
    pub fn to_json(&self) -> Json {
        let run = self.run;
        let base = self.base();
        let mut by_payer = Map::new();
        let mut outcomes = Map::new();
        let mut icer = Map::new();
        for (p, (id, _, public)) in run.payers.iter().enumerate() {
            if run.perspective.includes(*public) {
                let mut flows = flows_json(&base.by_payer[p]);
                if let Some(obj) = flows.as_object_mut() {
                    obj.insert("payback_year".to_owned(), payback_json(&base.payer_payback[p]));
                }
                by_payer.insert(id.clone(), flows);
            }
        }
        for (o, name) in run.outcomes.iter().enumerate() {
            outcomes.insert(name.clone(), est(self.exact(|c| c.incremental_outcomes[o])));
            icer.insert(name.clone(), base.icer[o].map_or(Json::Null, num));
        }
        let (prob, prob_se) = self.prob_npv_positive();
        let program = &base.program;
        let budget: Vec<Json> = program
            .budget
            .iter()
            .enumerate()
            .map(|(y, row)| {
                let mut payers = Map::new();
                let mut total = Flows::default();
                for (p, (id, _, public)) in run.payers.iter().enumerate() {
                    payers.insert(id.clone(), flows_json(&row[p]));
                    if run.perspective.includes(*public) {
                        total.cost += row[p].cost;
                        total.savings += row[p].savings;
                        total.net += row[p].net;
                    }
                }
                json!({ "year": program.start_year + y as i32, "cost": num(total.cost), "savings": num(total.savings), "net": num(total.net), "by_payer": payers })
            })
            .collect();
        json!({
            "intervention": self.intervention(),
            "perspective": run.perspective.as_str(),
            "savings": est(self.savings()),
            "intervention_cost": est(self.intervention_cost()),
            "npv": est(self.npv()),
            "bcr": opt_est(self.bcr()),
            "roi": opt_est(self.roi()),
            "prob_npv_positive": prob,
            "prob_npv_positive_se": prob_se,
            "payback_year": payback_json(&base.payback),
            "by_payer": by_payer,
            "incremental_outcomes": outcomes,
            "icer": icer,
            "break_even": self.break_even_json(),
            "adjustments": self.adjustments_json(),
            "program": {
                "children": num(program.children),
                "years": program.years,
                "children_per_year": num(program.children_per_year),
                "start_year": program.start_year,
                "cost": est(self.exact(|c| c.program.cost)),
                "savings": est(self.exact(|c| c.program.savings)),
                "npv": est(self.exact(|c| c.program.npv)),
                "budget": budget,
            },
        })
    }
}
