//! A scenario compiled for one draw: the numbers every engine reads.
//!
//! [`Model::compile`] evaluates every parameter of a [`Scenario`] at one
//! set of values and lays the result out as transition tables (per age
//! segment, and per age), per-state cost and outcome matrices, and per-arm
//! intervention data. An engine never re-reads the scenario.

mod effect;
mod segments;

use nalgebra::{DMatrix, DVector};

pub(crate) use effect::apply_effect;
pub use effect::apply_effects;
pub(crate) use segments::{Layout, SegmentView};
pub use segments::{Row, Segments};

use crate::error::ScenarioError;
use crate::scenario::{CycleCounting, EffectKind, HistoryCondition, Scenario};

/// A scenario evaluated at one draw of its parameters.
#[derive(Clone, Debug)]
pub struct Model {
    /// Age of the first row of [`Model::tables`].
    pub start_age: u32,
    pub end_age: u32,
    pub counting: CycleCounting,
    /// Row-stochastic transition matrix for each age `start_age..end_age`
    /// (status quo); empty in a model from [`Model::compile_lean`]. The
    /// same tables as [`Model::segments`], one per age.
    pub tables: Vec<DMatrix<f64>>,
    /// Annual cost of a cycle in each state: states × payers.
    pub state_costs: DMatrix<f64>,
    /// One-off cost of entering each state: states × payers.
    pub entry_costs: DMatrix<f64>,
    /// Weight of a cycle in each state: states × outcomes.
    pub outcome_weights: DMatrix<f64>,
    pub absorbing: Vec<bool>,
    pub groups: Vec<GroupModel>,
    /// Arm 0 is the status quo; arm `k + 1` runs intervention `k`.
    pub arms: Vec<Arm>,
    /// Rules on a child's past, one entry per source state (every arm).
    pub history: Vec<HistoryModel>,
    /// The status-quo tables once per age segment, as sparse rows.
    segments: Segments,
}

/// A history rule evaluated at one draw, for one source state.
#[derive(Clone, Debug)]
pub struct HistoryModel {
    pub condition: HistoryCondition,
    /// The change, as an always-active effect.
    pub effect: EffectModel,
}

/// A population group: its weight among all children, start age and start distribution.
#[derive(Clone, Debug)]
pub struct GroupModel {
    /// Share of the population (sizes normalised to sum to 1).
    pub weight: f64,
    pub start_age: u32,
    pub start: DVector<f64>,
}

/// One simulated world.
#[derive(Clone, Debug)]
pub struct Arm {
    pub id: String,
    pub intervention: Option<InterventionModel>,
}

/// An intervention evaluated at one draw.
#[derive(Clone, Debug)]
pub struct InterventionModel {
    pub enrol_states: Vec<bool>,
    pub uptake: f64,
    /// Ages `[from, to)` of enrolment; `None` is each group's start age only.
    pub enrol_ages: Option<(u32, u32)>,
    /// Per participant at enrolment, by payer.
    pub once_costs: DVector<f64>,
    /// Per participant and cycle alive, by payer.
    pub yearly_costs: DVector<f64>,
    pub cost_years: u32,
    /// Fixed cost per program year, by payer.
    pub fixed_costs: DVector<f64>,
    pub program_years: u32,
    pub children_per_year: f64,
    pub effects: Vec<EffectModel>,
}

impl InterventionModel {
    /// Whether children of a group starting at `start_age` are enrolled at `age`.
    pub fn enrols_at(&self, start_age: u32, age: u32) -> bool {
        match self.enrol_ages {
            Some((from, to)) => (from..to).contains(&age),
            None => age == start_age,
        }
    }
}

/// An effect evaluated at one draw, already converted to its working scale.
#[derive(Clone, Debug)]
pub struct EffectModel {
    pub from: usize,
    pub to: Vec<usize>,
    pub kind: EffectKind,
    /// The ratio (an odds ratio for `effect_size_d`), at full strength.
    pub ratio: f64,
    pub duration: f64,
    pub half_life: Option<f64>,
    /// Share of the effect lost each year after enrolment (SROI drop-off); 0 normally.
    pub drop_off: f64,
    pub(crate) path: String,
}

impl EffectModel {
    /// The ratio `d` cycles after enrolment, with strength scaled by `scale`:
    /// `θ^(w·scale)`, i.e. `1 + (θ − 1)·w` on the log scale.
    pub fn ratio_at(&self, d: f64, scale: f64) -> f64 {
        let w = if d < self.duration {
            1.0
        } else {
            match self.half_life {
                Some(h) => 0.5f64.powf((d - self.duration) / h),
                None => 0.0,
            }
        } * scale
            * if self.drop_off > 0.0 {
                (1.0 - self.drop_off).powf(d)
            } else {
                1.0
            };
        if w == 1.0 {
            self.ratio
        } else if w == 0.0 {
            1.0
        } else {
            self.ratio.powf(w)
        }
    }
}

/// Cox's factor turning a standardised mean difference into a log odds ratio.
const COX: f64 = 1.65;

/// The ratio an effect works with: the value itself, or `exp(1.65·d)` for an effect size.
fn working_ratio(kind: EffectKind, value: f64) -> f64 {
    if kind == EffectKind::EffectSizeD {
        (COX * value).exp()
    } else {
        value
    }
}

impl Model {
    /// Compiles `scenario` at parameter values `values` (one per parameter).
    ///
    /// # Errors
    ///
    /// A [`ScenarioError`] when a drawn set of transition probabilities out
    /// of a state sums above 1.
    pub fn compile(scenario: &Scenario, values: &[f64]) -> Result<Model, ScenarioError> {
        let mut model = Model::compile_lean(scenario, values)?;
        let segments = &model.segments;
        model.tables = (model.start_age..model.end_age)
            .map(|age| segments.table(segments.at_age(age)).clone())
            .collect();
        Ok(model)
    }

    /// Compiles `scenario` at `values` like [`Model::compile`], without the
    /// per-age [`Model::tables`] (left empty): for engines that read the
    /// age segments ([`Model::segments`]), such as the cohort engine, which
    /// then need not copy a table for every age of every draw.
    /// [`Model::table`] works on either.
    ///
    /// # Errors
    ///
    /// As [`Model::compile`].
    pub fn compile_lean(scenario: &Scenario, values: &[f64]) -> Result<Model, ScenarioError> {
        let spec = &scenario.spec.scenario;
        let (start_age, end_age) = (spec.start_age, spec.end_age);
        let n_states = scenario.states.len();
        let n_payers = scenario.payers.len();
        let segments = Segments::compile(scenario, values)?;

        let matrix = |rows: usize, cols: usize, f: &dyn Fn(usize, usize) -> f64| DMatrix::from_fn(rows, cols, f);
        let states = &scenario.states;
        let state_costs = matrix(n_states, n_payers, &|s, p| states[s].costs[p].get(values));
        let entry_costs = matrix(n_states, n_payers, &|s, p| states[s].entry_costs[p].get(values));
        let outcome_weights = matrix(n_states, scenario.outcomes.len(), &|s, o| {
            states[s].outcomes[o].get(values)
        });

        let total: f64 = scenario.groups.iter().map(|g| g.size).sum();
        let groups = scenario
            .groups
            .iter()
            .map(|g| GroupModel {
                weight: g.size / total,
                start_age: g.start_age,
                start: DVector::from_column_slice(&g.start),
            })
            .collect();

        let by_payer = |v: &[crate::param::Value]| DVector::from_iterator(n_payers, v.iter().map(|x| x.get(values)));
        let mut arms = vec![Arm {
            id: crate::STATUS_QUO.to_owned(),
            intervention: None,
        }];
        for iv in &scenario.interventions {
            let effects = iv
                .effects
                .iter()
                .map(|e| {
                    let v = e.value.get(values);
                    let ratio = working_ratio(e.kind, v);
                    EffectModel {
                        from: e.from,
                        to: e.to.clone(),
                        kind: e.kind,
                        ratio,
                        duration: e.duration,
                        half_life: e.half_life,
                        drop_off: 0.0,
                        path: e.path.clone(),
                    }
                })
                .collect();
            arms.push(Arm {
                id: iv.id.clone(),
                intervention: Some(InterventionModel {
                    enrol_states: iv.enrol_states.clone(),
                    uptake: iv.uptake.get(values),
                    enrol_ages: iv.enrol_ages,
                    once_costs: by_payer(&iv.once_costs),
                    yearly_costs: by_payer(&iv.yearly_costs),
                    cost_years: iv.cost_years,
                    fixed_costs: by_payer(&iv.program.fixed_costs),
                    program_years: iv.program.years,
                    children_per_year: iv.program.children_per_year,
                    effects,
                }),
            });
        }

        let mut history = Vec::new();
        for rule in &scenario.history {
            let v = rule.value.get(values);
            let ratio = working_ratio(rule.kind, v);
            for &from in &rule.from {
                history.push(HistoryModel {
                    condition: rule.condition,
                    effect: EffectModel {
                        from,
                        to: rule.to.clone(),
                        kind: rule.kind,
                        ratio,
                        duration: f64::INFINITY,
                        half_life: None,
                        drop_off: 0.0,
                        path: rule.path.clone(),
                    },
                });
            }
        }

        Ok(Model {
            history,
            start_age,
            end_age,
            counting: scenario.discounting.cycle_counting,
            tables: Vec::new(),
            segments,
            state_costs,
            entry_costs,
            outcome_weights,
            absorbing: states.iter().map(|s| s.absorbing).collect(),
            groups,
            arms,
        })
    }

    pub fn n_states(&self) -> usize {
        self.state_costs.nrows()
    }

    pub fn n_payers(&self) -> usize {
        self.state_costs.ncols()
    }

    pub fn n_outcomes(&self) -> usize {
        self.outcome_weights.ncols()
    }

    /// Number of cycles of the longest-running group.
    pub fn n_cycles(&self) -> usize {
        self.groups
            .iter()
            .map(|g| (self.end_age - g.start_age) as usize)
            .max()
            .unwrap_or(0)
    }

    /// The status-quo transition matrix at `age`.
    pub fn table(&self, age: u32) -> &DMatrix<f64> {
        match self.tables.get((age - self.start_age) as usize) {
            Some(table) => table,
            None => self.segments.table(self.segments.at_age(age)),
        }
    }

    /// The status-quo transitions once per age segment, as sparse rows.
    pub fn segments(&self) -> &Segments {
        &self.segments
    }
}
