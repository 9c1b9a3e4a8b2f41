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
    /// The years from enrolment in which a participant's yearly costs are
    /// booked: `cost_years`, or none when the intervention costs nothing a
    /// year (those years would only be priced at zero).
    pub fn paid_years(&self) -> usize {
        if self.yearly_costs.iter().any(|&c| c != 0.0) {
            self.cost_years as usize
        } else {
            0
        }
    }

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

/// What an effect is, whatever the draw: an intervention's effect, or a
/// history rule's on one state it changes (at full strength for ever).
struct Shape<'a> {
    to: &'a [usize],
    kind: EffectKind,
    duration: f64,
    half_life: Option<f64>,
    path: &'a str,
}

impl<'a> From<&'a crate::scenario::Effect> for Shape<'a> {
    fn from(e: &'a crate::scenario::Effect) -> Self {
        Shape {
            to: &e.to,
            kind: e.kind,
            duration: e.duration,
            half_life: e.half_life,
            path: &e.path,
        }
    }
}

impl<'a> From<&'a crate::scenario::HistoryRule> for Shape<'a> {
    fn from(rule: &'a crate::scenario::HistoryRule) -> Self {
        Shape {
            to: &rule.to,
            kind: rule.kind,
            duration: f64::INFINITY,
            half_life: None,
            path: &rule.path,
        }
    }
}

impl EffectModel {
    /// An effect out of `from` of `shape`, its ratio not yet drawn (NaN).
    fn shaped(from: usize, shape: Shape<'_>) -> EffectModel {
        EffectModel {
            from,
            to: shape.to.to_vec(),
            kind: shape.kind,
            ratio: f64::NAN,
            duration: shape.duration,
            half_life: shape.half_life,
            drop_off: 0.0,
            path: shape.path.to_owned(),
        }
    }

    /// Makes this the effect out of `from` of `shape`, in its own memory.
    fn set_shape(&mut self, from: usize, shape: Shape<'_>) {
        self.from = from;
        self.to.clear();
        self.to.extend_from_slice(shape.to);
        self.kind = shape.kind;
        (self.duration, self.half_life, self.drop_off) = (shape.duration, shape.half_life, 0.0);
        self.path.clear();
        self.path.push_str(shape.path);
    }
}

/// A history rule with each state it changes the rows out of, in the
/// order of the model's history effects.
fn history_effects(scenario: &Scenario) -> impl Iterator<Item = (&crate::scenario::HistoryRule, usize)> {
    scenario
        .history
        .iter()
        .flat_map(|rule| rule.from.iter().map(move |&from| (rule, from)))
}

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
        let (n_states, n_payers) = (scenario.states.len(), scenario.payers.len());
        let segments = Segments::compile(scenario, values)?;
        let by_payer = || DVector::zeros(n_payers);
        let mut model = Model {
            start_age: spec.start_age,
            end_age: spec.end_age,
            counting: scenario.discounting.cycle_counting,
            tables: Vec::new(),
            segments,
            state_costs: DMatrix::zeros(n_states, n_payers),
            entry_costs: DMatrix::zeros(n_states, n_payers),
            outcome_weights: DMatrix::zeros(n_states, scenario.outcomes.len()),
            absorbing: Vec::new(),
            groups: scenario
                .groups
                .iter()
                .map(|g| GroupModel {
                    weight: f64::NAN,
                    start_age: g.start_age,
                    start: DVector::zeros(g.start.len()),
                })
                .collect(),
            arms: std::iter::once(Arm {
                id: crate::STATUS_QUO.to_owned(),
                intervention: None,
            })
            .chain(scenario.interventions.iter().map(|iv| {
                Arm {
                    id: iv.id.clone(),
                    intervention: Some(InterventionModel {
                        enrol_states: Vec::new(),
                        uptake: f64::NAN,
                        enrol_ages: iv.enrol_ages,
                        once_costs: by_payer(),
                        yearly_costs: by_payer(),
                        cost_years: iv.cost_years,
                        fixed_costs: by_payer(),
                        program_years: iv.program.years,
                        children_per_year: iv.program.children_per_year,
                        effects: iv
                            .effects
                            .iter()
                            .map(|e| EffectModel::shaped(e.from, e.into()))
                            .collect(),
                    }),
                }
            }))
            .collect(),
            history: history_effects(scenario)
                .map(|(rule, from)| HistoryModel {
                    condition: rule.condition,
                    effect: EffectModel::shaped(from, rule.into()),
                })
                .collect(),
        };
        model.set_values(scenario, values);
        Ok(model)
    }

    /// Compiles `scenario` at `values` into this model, as
    /// [`Model::compile_lean`] would, reusing its memory where the
    /// scenario has the model's shape: for callers that compile the
    /// draws of one scenario one after another, such as a PSA, which then
    /// allocate nothing per draw. On an error the model is left as it was.
    ///
    /// # Errors
    ///
    /// As [`Model::compile`].
    pub fn recompile_lean(&mut self, scenario: &Scenario, values: &[f64]) -> Result<(), ScenarioError> {
        let interventions = || self.arms.iter().skip(1).zip(&scenario.interventions);
        let fits = self.tables.is_empty()
            && (self.n_states(), self.n_payers(), self.n_outcomes())
                == (scenario.states.len(), scenario.payers.len(), scenario.outcomes.len())
            && self.groups.len() == scenario.groups.len()
            && self.arms.len() == 1 + scenario.interventions.len()
            && interventions().all(|(arm, iv)| {
                arm.intervention
                    .as_ref()
                    .is_some_and(|model| model.effects.len() == iv.effects.len())
            })
            && self.history.len() == history_effects(scenario).count();
        if !fits {
            *self = Model::compile_lean(scenario, values)?;
            return Ok(());
        }
        // The old segments hand their buffers on to the next draw's.
        self.segments = Segments::compile(scenario, values)?;
        let spec = &scenario.spec.scenario;
        (self.start_age, self.end_age) = (spec.start_age, spec.end_age);
        self.counting = scenario.discounting.cycle_counting;
        for (group, g) in self.groups.iter_mut().zip(&scenario.groups) {
            group.start_age = g.start_age;
        }
        for (arm, iv) in self.arms.iter_mut().skip(1).zip(&scenario.interventions) {
            arm.id.clone_from(&iv.id);
            if let Some(model) = &mut arm.intervention {
                model.enrol_ages = iv.enrol_ages;
                model.cost_years = iv.cost_years;
                model.program_years = iv.program.years;
                model.children_per_year = iv.program.children_per_year;
                for (effect, e) in model.effects.iter_mut().zip(&iv.effects) {
                    effect.set_shape(e.from, e.into());
                }
            }
        }
        for (h, (rule, from)) in self.history.iter_mut().zip(history_effects(scenario)) {
            h.condition = rule.condition;
            h.effect.set_shape(from, rule.into());
        }
        self.set_values(scenario, values);
        Ok(())
    }

    /// Compiles `scenario` at each set of `values` into `models`, the first
    /// `values.len()` of them: those already there recompiled
    /// ([`Model::recompile_lean`]), the ones missing added. For callers
    /// that compile the draws of a scenario a few at a time.
    ///
    /// # Errors
    ///
    /// As [`Model::compile`], for the first set of values that fails.
    pub fn recompile_many(
        models: &mut Vec<Model>,
        scenario: &Scenario,
        values: &[Vec<f64>],
    ) -> Result<(), ScenarioError> {
        for (i, values) in values.iter().enumerate() {
            match models.get_mut(i) {
                Some(model) => model.recompile_lean(scenario, values)?,
                None => models.push(Model::compile_lean(scenario, values)?),
            }
        }
        Ok(())
    }

    /// Writes every number of `scenario` at `values` into this model of its shape.
    fn set_values(&mut self, scenario: &Scenario, values: &[f64]) {
        let states = &scenario.states;
        let fill = |m: &mut DMatrix<f64>, f: &dyn Fn(usize, usize) -> f64| {
            for c in 0..m.ncols() {
                for r in 0..m.nrows() {
                    m[(r, c)] = f(r, c);
                }
            }
        };
        fill(&mut self.state_costs, &|s, p| states[s].costs[p].get(values));
        fill(&mut self.entry_costs, &|s, p| states[s].entry_costs[p].get(values));
        fill(&mut self.outcome_weights, &|s, o| states[s].outcomes[o].get(values));
        self.absorbing.clear();
        self.absorbing.extend(states.iter().map(|s| s.absorbing));

        let total: f64 = scenario.groups.iter().map(|g| g.size).sum();
        for (group, g) in self.groups.iter_mut().zip(&scenario.groups) {
            group.weight = g.size / total;
            group.start.as_mut_slice().copy_from_slice(&g.start);
        }
        let by_payer = |into: &mut DVector<f64>, v: &[crate::param::Value]| {
            for (x, v) in into.iter_mut().zip(v) {
                *x = v.get(values);
            }
        };
        for (arm, iv) in self.arms.iter_mut().skip(1).zip(&scenario.interventions) {
            let Some(model) = &mut arm.intervention else {
                continue;
            };
            model.enrol_states.clone_from(&iv.enrol_states);
            model.uptake = iv.uptake.get(values);
            by_payer(&mut model.once_costs, &iv.once_costs);
            by_payer(&mut model.yearly_costs, &iv.yearly_costs);
            by_payer(&mut model.fixed_costs, &iv.program.fixed_costs);
            for (effect, e) in model.effects.iter_mut().zip(&iv.effects) {
                effect.ratio = working_ratio(e.kind, e.value.get(values));
            }
        }
        for (h, (rule, _)) in self.history.iter_mut().zip(history_effects(scenario)) {
            h.effect.ratio = working_ratio(rule.kind, rule.value.get(values));
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recompiling_gives_the_model_compiling_gives() {
        let scenarios: Vec<Scenario> = [
            crate::scenario::DEFAULT_SCENARIO_TOML,
            include_str!("../../benches/scenarios/peer_model_psa.toml"),
            include_str!("../../scenarios/uddevalla_magneten.toml"),
        ]
        .into_iter()
        .map(|text| Scenario::from_toml_str(text).expect("valid"))
        .collect();
        // One model recompiled through draws of every scenario, the shapes changing between them.
        let mut model = Model::compile_lean(&scenarios[0], &scenarios[0].base_values()).expect("compiles");
        for scenario in scenarios.iter().chain(&scenarios) {
            for draw in 0..3 {
                let values = crate::draw_values(scenario, 11, draw);
                model.recompile_lean(scenario, &values).expect("compiles");
                let fresh = Model::compile_lean(scenario, &values).expect("compiles");
                assert_eq!(
                    format!("{model:?}"),
                    format!("{fresh:?}"),
                    "draw {draw} of {}",
                    scenario.name()
                );
            }
        }
    }
}
