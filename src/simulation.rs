//! Running a scenario: `Simulation::new(&scenario)…run()`.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

use crate::economics::{self, ArmFigures, BreakEven, ComparisonFigures, DiscountRate, Frame, break_even};
use crate::engine::microsim::{self, MicrosimOptions};
use crate::engine::{ArmStreams, EngineError, cohort, rng};
use crate::error::{Error, Result, ScenarioError};
use crate::model::Model;
use crate::param::ParamId;
use crate::result::RunResult;
use crate::scenario::{Perspective, Scenario, Sroi};
use crate::shard::{Block, Part, Settings, TreeSum, aligned_blocks};
use crate::stats::{DistributionSummary, Histogram};

/// The seed used when none is given. The library never takes entropy from the OS.
pub const DEFAULT_SEED: u64 = 20_240_101;
/// Children simulated per draw by the microsimulation unless told otherwise.
pub const DEFAULT_CHILDREN: u64 = 10_000;
/// Most draws adaptive precision will run unless told otherwise.
pub const DEFAULT_MAX_DRAWS: u64 = 100_000;
/// Most children per draw adaptive precision will simulate unless told otherwise.
pub const DEFAULT_MAX_CHILDREN: u64 = 10_000_000;
/// Most draws one run accepts.
pub const MAX_DRAWS: u64 = 10_000_000;
/// Most children per draw one microsimulation accepts.
pub const MAX_CHILDREN: u64 = 10_000_000_000;
/// Draws per round of adaptive precision, before the first check.
const FIRST_ROUND: u64 = 200;
/// Most draws one task evaluates and sums (a power of two). It does not change any result.
const BLOCK: u64 = 16;
/// Blocks evaluated in parallel before they are added to the run's sum:
/// bounds the memory of a run, whatever its number of draws.
const ROUND: usize = 64;

/// How the expected streams of a draw are computed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Engine {
    /// Exact expected state occupancy by matrix–vector products.
    #[default]
    Cohort,
    /// Every child simulated individually, with common random numbers across arms.
    Microsim,
}

impl Engine {
    /// The name used by the CLI and in results: `cohort` or `microsim`.
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Cohort => "cohort",
            Engine::Microsim => "microsim",
        }
    }
}

/// Why an adaptive run stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The asked number of draws (and children) was run.
    Fixed,
    /// The Monte Carlo standard error of every NPV reached the asked precision.
    Precision,
    /// The cap on draws or children was reached first.
    Cap,
}

impl Stop {
    pub fn as_str(self) -> &'static str {
        match self {
            Stop::Fixed => "fixed",
            Stop::Precision => "precision",
            Stop::Cap => "cap",
        }
    }
}

/// Progress of a run: units done out of the planned total (draws, or batches of children).
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Sync);

/// A configured run of a scenario.
///
/// # Example
///
/// ```
/// # fn main() -> Result<(), lifecost::Error> {
/// let scenario = lifecost::Scenario::default_scenario()?;
/// let run = lifecost::Simulation::new(&scenario).draws(200).seed(7).run()?;
/// let tsi = run.compare("tsi")?;
/// println!("{}", tsi.summary());
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[must_use]
pub struct Simulation<'a> {
    scenario: &'a Scenario,
    perspective: Perspective,
    engine: Engine,
    seed: u64,
    draws: Option<u64>,
    children: u64,
    precision: Option<f64>,
    max_draws: u64,
    max_children: u64,
    common_random_numbers: bool,
    progress: Option<Progress<'a>>,
    overrides: Vec<(usize, f64)>,
    discount: Option<DiscountRate>,
    break_even_state: Option<String>,
    break_even_curve: bool,
}

/// The economic figures of one draw (or of the expected streams).
#[derive(Clone, Debug)]
pub struct Figures {
    pub arms: Vec<ArmFigures>,
    pub comparisons: Vec<ComparisonFigures>,
}

/// Everything one draw produces.
struct Outcome {
    figures: Figures,
    streams: Vec<ArmStreams>,
    replicates: Vec<(u64, Figures)>,
    lifetime_cost: Vec<crate::stats::Histogram>,
}

impl<'a> Simulation<'a> {
    /// A base-case cohort run of `scenario` in its own perspective.
    pub fn new(scenario: &'a Scenario) -> Self {
        Simulation {
            scenario,
            perspective: scenario.perspective(),
            engine: Engine::Cohort,
            seed: DEFAULT_SEED,
            draws: None,
            children: DEFAULT_CHILDREN,
            precision: None,
            max_draws: DEFAULT_MAX_DRAWS,
            max_children: DEFAULT_MAX_CHILDREN,
            common_random_numbers: true,
            progress: None,
            overrides: Vec::new(),
            discount: None,
            break_even_state: None,
            break_even_curve: false,
        }
    }

    /// With draws, also evaluates every draw at effect fractions 0, 0.1, …, 1:
    /// the break-even curve (P(NPV > 0) at each fraction), and the
    /// break-even effect of the expected NPV read off it. Eleven more cohort
    /// runs per draw. The default is off: the break-even effect is then the
    /// base case's.
    pub fn break_even_curve(mut self, on: bool) -> Self {
        self.break_even_curve = on;
        self
    }

    /// Names the costly state (e.g. `residential_care`) whose avoided
    /// entries are counted in the break-even number of children. The
    /// default is none.
    pub fn break_even_state(mut self, state: impl Into<String>) -> Self {
        self.break_even_state = Some(state.into());
        self
    }

    /// Holds parameter `id` at `value` in the base case and in every draw.
    /// The default is none: every parameter as the scenario gives it.
    pub fn set(mut self, id: ParamId, value: f64) -> Self {
        self.overrides.retain(|(i, _)| *i != id.index());
        self.overrides.push((id.index(), value));
        self
    }

    /// Discounts costs and outcomes at `rate` instead of the scenario's rates.
    /// The default is the scenario's `[discounting]`.
    pub fn discount(mut self, rate: DiscountRate) -> Self {
        self.discount = Some(rate);
        self
    }

    fn frame(&self) -> Frame {
        let mut frame = Frame::new(self.scenario, self.perspective);
        if let Some(rate) = &self.discount {
            frame.cost_rate = rate.clone();
            frame.outcome_rate = rate.clone();
        }
        frame
    }

    fn with_overrides(&self, mut values: Vec<f64>) -> Vec<f64> {
        for &(i, v) in &self.overrides {
            if let Some(x) = values.get_mut(i) {
                *x = v;
            }
        }
        values
    }

    /// Which payers the headline figures add up. The default is the scenario's `perspective`.
    pub fn perspective(mut self, perspective: Perspective) -> Self {
        self.perspective = perspective;
        self
    }

    /// The engine. The default is [`Engine::Cohort`].
    pub fn engine(mut self, engine: Engine) -> Self {
        self.engine = engine;
        self
    }

    /// The seed of every random stream. The default is [`DEFAULT_SEED`].
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Probabilistic sensitivity analysis with `n` draws of every uncertain
    /// parameter. The default is none: the base case, every parameter at its mean.
    pub fn draws(mut self, n: u64) -> Self {
        self.draws = Some(n.max(1));
        self
    }

    /// Children simulated per draw by the microsimulation. The default is [`DEFAULT_CHILDREN`].
    pub fn children(mut self, n: u64) -> Self {
        self.children = n.max(1);
        self
    }

    /// Keep adding draws (with draws) or children (a microsimulation without
    /// draws) until the Monte Carlo standard error of every NPV is at most
    /// `relative · |NPV|`, or a cap is reached. Each round aims 1 % past the
    /// size the last one's standard errors predict, within a sixteenth more
    /// and twice as many (see the crate docs). The default is no target.
    pub fn precision(mut self, relative: f64) -> Self {
        self.precision = Some(relative);
        self
    }

    /// Caps for adaptive precision. The defaults are [`DEFAULT_MAX_DRAWS`] and [`DEFAULT_MAX_CHILDREN`].
    pub fn caps(mut self, max_draws: u64, max_children: u64) -> Self {
        self.max_draws = max_draws.max(1);
        self.max_children = max_children.max(1);
        self
    }

    /// Whether every arm of the microsimulation uses the same random numbers
    /// for a child. The default is `true`; `false` is for measuring what
    /// common random numbers gain.
    pub fn common_random_numbers(mut self, on: bool) -> Self {
        self.common_random_numbers = on;
        self
    }

    /// Called with (done, total) as the run proceeds. The default is none.
    pub fn progress(mut self, report: Progress<'a>) -> Self {
        self.progress = Some(report);
        self
    }

    /// Runs the simulation.
    ///
    /// With draws, the expected streams are the mean of the draws' streams,
    /// summed in a fixed binary tree over draw indices (see [`crate::shard`]),
    /// so that a run split into draw ranges and merged gives the same bits.
    ///
    /// # Errors
    ///
    /// [`Error::Scenario`] when the cohort engine is asked to run history
    /// rules, when the precision target is not a positive number, or when an
    /// effect or a drawn value makes a row of transition probabilities exceed
    /// 1 (naming the field, state, age, arm and draw).
    pub fn run(&self) -> Result<RunResult> {
        self.check()?;
        let base = self.with_overrides(self.scenario.base_values());
        let break_even = self.break_even(&base)?;
        let result = match self.draws {
            None => self.run_base(&base)?,
            Some(n) => self.run_draws(n)?,
        };
        Ok(Self::with_break_even(result, break_even))
    }

    /// Runs only draws `range` of a run of [`Simulation::draws`] draws, for a
    /// run split into shards: [`crate::shard::merge`] of parts covering every
    /// draw once gives the [`RunResult`] of [`Simulation::run`], to the bit.
    /// Draw `d` uses the same parameters and random streams as in the whole
    /// run, whatever the range.
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), lifecost::Error> {
    /// let scenario = lifecost::Scenario::default_scenario()?;
    /// let sim = lifecost::Simulation::new(&scenario).draws(20).seed(7);
    /// let parts = vec![sim.draw_range(0..5)?, sim.draw_range(5..20)?];
    /// let merged = lifecost::shard::merge(&parts)?;
    /// assert_eq!(merged.to_json(), sim.run()?.to_json());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Scenario`] when no draws are set, when a precision target is
    /// set (its number of draws is not known in advance), when the range is
    /// not within `0..draws` or is empty, when a stepped discount rate is set
    /// (a part stores a constant one only), and every error of
    /// [`Simulation::run`] for these draws.
    pub fn draw_range(&self, range: Range<u64>) -> Result<Part> {
        let Some(n) = self.draws else {
            return Err(Error::Scenario(ScenarioError::new(
                "draws",
                "is not set; expected a number of draws to split, e.g. draws(1000)",
            )));
        };
        if let Some(p) = self.precision {
            return Err(Error::Scenario(ScenarioError::new(
                "precision",
                format!(
                    "is {p}; expected no precision target with a draw range (its number of draws is not known in advance)"
                ),
            )));
        }
        if !(range.start < range.end && range.end <= n) {
            return Err(Error::Scenario(ScenarioError::new(
                "draw_range",
                format!(
                    "is {}..{}; expected A..B with 0 ≤ A < B ≤ {n}, the number of draws",
                    range.start, range.end
                ),
            )));
        }
        let settings = self.settings()?;
        self.check()?;
        // The base case is run here too, so that its errors show in the shard, not only at the merge.
        let base = self.with_overrides(self.scenario.base_values());
        self.break_even(&base)?;
        let mut figures = Vec::new();
        let mut tree = TreeSum::new(range.start);
        self.sum_draws(range.clone(), range.end - range.start, &mut figures, &mut tree)?;
        Ok(Part::new(self.scenario, settings, range, figures, tree.into_blocks()))
    }

    /// What a [`Part`] records of this simulation, to rebuild it at the merge.
    fn settings(&self) -> Result<Settings> {
        let discount = match &self.discount {
            None => None,
            Some(rate) => {
                let r = rate.initial_rate();
                if DiscountRate::constant(r) != *rate {
                    return Err(Error::Scenario(ScenarioError::new(
                        "discount",
                        "is a stepped schedule; expected a constant rate in a run split into draw ranges (give the schedule in the scenario's [discounting])",
                    )));
                }
                Some(r)
            }
        };
        Ok(Settings {
            perspective: self.perspective,
            engine: self.engine,
            seed: self.seed,
            draws: self.draws.unwrap_or(1),
            children: self.children,
            common_random_numbers: self.common_random_numbers,
            // An index past the scenario's parameters changes nothing, in a run or a part.
            overrides: self
                .overrides
                .iter()
                .copied()
                .filter(|&(i, _)| i < self.scenario.parameters().len())
                .collect(),
            discount,
            break_even_state: self.break_even_state.clone(),
            break_even_curve: self.break_even_curve,
        })
    }

    /// The simulation a [`Part`] was run with.
    pub(crate) fn from_settings(scenario: &'a Scenario, settings: &Settings) -> Self {
        let mut sim = Simulation::new(scenario)
            .perspective(settings.perspective)
            .engine(settings.engine)
            .seed(settings.seed)
            .draws(settings.draws)
            .children(settings.children)
            .common_random_numbers(settings.common_random_numbers)
            .break_even_curve(settings.break_even_curve);
        sim.overrides = settings.overrides.clone();
        if let Some(rate) = settings.discount {
            sim = sim.discount(DiscountRate::constant(rate));
        }
        if let Some(state) = &settings.break_even_state {
            sim = sim.break_even_state(state.clone());
        }
        sim
    }

    /// The result of the draws of every part, in draw order: the figures of
    /// each draw and the blocks of the sum of their streams.
    pub(crate) fn merged(&self, draws: Vec<Figures>, blocks: Vec<Block>) -> Result<RunResult> {
        self.check()?;
        let base = self.with_overrides(self.scenario.base_values());
        let break_even = self.break_even(&base)?;
        let result = self.finish(draws, blocks, Stop::Fixed)?;
        Ok(Self::with_break_even(result, break_even))
    }

    /// Refuses what no run can do, before any work.
    fn check(&self) -> Result<()> {
        let scenario = self.scenario;
        if self.engine == Engine::Cohort && !scenario.history().is_empty() {
            return Err(Error::Scenario(scenario.locate(ScenarioError::new(
                "history[0]",
                "is a rule on a child's past, which the cohort engine cannot follow; expected --engine microsim",
            ))));
        }
        if let Some(p) = self.precision
            && !(p.is_finite() && p > 0.0)
        {
            return Err(Error::Scenario(ScenarioError::new(
                "precision",
                format!("is {p}; expected a relative standard error > 0, e.g. 0.01"),
            )));
        }
        let draws = if self.precision.is_some() {
            self.max_draws
        } else {
            self.draws.unwrap_or(1)
        };
        if draws > MAX_DRAWS {
            return Err(Error::Scenario(ScenarioError::new(
                "draws",
                format!("is {draws}; expected at most {MAX_DRAWS} draws in one run (split larger runs by seed)"),
            )));
        }
        let children = if self.precision.is_some() {
            self.max_children
        } else {
            self.children
        };
        if self.engine == Engine::Microsim && children > MAX_CHILDREN {
            return Err(Error::Scenario(ScenarioError::new(
                "children",
                format!("is {children}; expected at most {MAX_CHILDREN} children per draw"),
            )));
        }
        Ok(())
    }

    fn run_base(&self, base: &[f64]) -> Result<RunResult> {
        let mut children = self.children;
        let mut stop = Stop::Fixed;
        loop {
            let outcome = self.evaluate(0, base, children, self.progress)?;
            let mut needed = f64::INFINITY;
            let done = match self.precision {
                Some(p) if self.engine == Engine::Microsim => {
                    let estimates = replicate_npv_estimates(&outcome);
                    let precise = precise(&estimates, outcome.replicates.len() > 1, p);
                    if precise {
                        stop = Stop::Precision;
                    } else if children >= self.max_children {
                        stop = Stop::Cap;
                    }
                    needed = size_needed(children, &estimates, p);
                    precise || children >= self.max_children
                }
                _ => true,
            };
            if done {
                let children = (self.engine == Engine::Microsim).then_some(children);
                let figures = outcome.figures.clone();
                return Ok(self.result(
                    vec![figures],
                    outcome.streams,
                    outcome.replicates,
                    &outcome.lifetime_cost,
                    children,
                    stop,
                ));
            }
            children = next_size(children, needed, self.max_children);
        }
    }

    fn run_draws(&self, n: u64) -> Result<RunResult> {
        let mut target = match self.precision {
            Some(_) => FIRST_ROUND.min(self.max_draws),
            None => n,
        };
        let mut draws: Vec<Figures> = Vec::new();
        let mut tree = TreeSum::new(0);
        let stop = loop {
            let first = draws.len() as u64;
            self.sum_draws(first..target, target, &mut draws, &mut tree)?;
            let len = draws.len() as u64;
            match self.precision {
                None => break Stop::Fixed,
                Some(p) => {
                    let estimates = npv_estimates(&draws);
                    if precise(&estimates, draws.len() > 1, p) {
                        break Stop::Precision;
                    }
                    if len >= self.max_draws {
                        break Stop::Cap;
                    }
                    target = next_size(len, size_needed(len, &estimates, p), self.max_draws);
                }
            }
        };
        self.finish(draws, tree.into_blocks(), stop)
    }

    /// Evaluates draws `range` in parallel and adds them in draw order:
    /// figures to `draws`, streams to `tree`. Each task evaluates an aligned
    /// block of draws one after another and sums them in the tree's order,
    /// its results written into the memory of those it has summed; the
    /// blocks are added in order. Progress counts up to `planned`.
    fn sum_draws(&self, range: Range<u64>, planned: u64, draws: &mut Vec<Figures>, tree: &mut TreeSum) -> Result<()> {
        let done = AtomicU64::new(draws.len() as u64);
        let blocks = aligned_blocks(range, BLOCK);
        for round in blocks.chunks(ROUND) {
            let sums: Vec<Result<(Vec<Figures>, Block)>> = round
                .par_iter()
                .map(|&(first, size)| self.sum_block(first, size, &done, planned))
                .collect();
            // Added in draw order, whatever the thread that ran each block.
            for sum in sums {
                let (figures, block) = sum?;
                draws.extend(figures);
                tree.push_block(block);
            }
        }
        Ok(())
    }

    /// The figures of the aligned block of draws `first..first + size` and the sum of their streams.
    fn sum_block(&self, first: u64, size: u64, done: &AtomicU64, planned: u64) -> Result<(Vec<Figures>, Block)> {
        let mut figures = Vec::with_capacity(size as usize);
        let mut tree = TreeSum::new(first);
        let step = if self.engine == Engine::Cohort {
            cohort::LANES
        } else {
            1
        };
        let mut models = Vec::new();
        for from in (first..first + size).step_by(step) {
            let draws = from..(from + step as u64).min(first + size);
            for (d, outcome) in draws.clone().zip(self.evaluate_draws(draws, &mut models)) {
                let outcome = outcome.map_err(|e| with_draw(e, d))?;
                if let Some(report) = self.progress {
                    report(done.fetch_add(1, Ordering::Relaxed) + 1, planned);
                }
                // Without its per-year budget (`draw_figures`): the expected streams carry that view.
                figures.push(outcome.figures);
                tree.push(outcome.streams, outcome.lifetime_cost);
            }
        }
        let mut blocks = tree.into_blocks();
        match (blocks.pop(), blocks.is_empty()) {
            (Some(block), true) => Ok((figures, block)),
            _ => Err(Error::Scenario(ScenarioError::new(
                "draws",
                format!("{first}..{} is not an aligned block of draws", first + size),
            ))),
        }
    }

    /// The result of `draws` whose streams sum to `blocks`: the expected
    /// streams are the total over the tree, divided by the number of draws.
    fn finish(&self, draws: Vec<Figures>, blocks: Vec<Block>, stop: Stop) -> Result<RunResult> {
        let Some(total) = crate::shard::total(blocks, draws.len() as u64) else {
            return Err(Error::Scenario(ScenarioError::new(
                "draws",
                "do not add up to every draw of the run; expected a block for each",
            )));
        };
        let w = 1.0 / draws.len() as f64;
        let mut streams = total.streams;
        for s in &mut streams {
            let sum = s.clone();
            *s = sum.zeroed();
            s.add_scaled(&sum, w);
        }
        let children = (self.engine == Engine::Microsim).then_some(self.children);
        Ok(self.result(draws, streams, Vec::new(), &total.lifetime_cost, children, stop))
    }

    /// Assembles the result: per-draw figures, and the figures of the expected streams.
    fn result(
        &self,
        mut draws: Vec<Figures>,
        streams: Vec<ArmStreams>,
        replicates: Vec<(u64, Figures)>,
        lifetime_cost: &[Histogram],
        children: Option<u64>,
        stop: Stop,
    ) -> RunResult {
        let frame = self.frame();
        let expected = figures(self.scenario, &frame, &streams);
        // Per-draw budgets are not reported; the expected streams carry the budget view.
        for d in &mut draws {
            for c in &mut d.comparisons {
                c.program.budget = Vec::new();
            }
        }
        let distribution: Option<Vec<DistributionSummary>> =
            children.map(|_| lifetime_cost.iter().map(|h| h.summary()).collect());
        RunResult::new(
            self.scenario,
            crate::result::RunParts {
                perspective: self.perspective,
                engine: self.engine,
                seed: self.seed,
                draws,
                expected,
                streams,
                replicates,
                children,
                distribution,
                stop,
                precision: self.precision,
            },
        )
    }

    /// Puts the base case's break-even figures on the expected comparisons.
    fn with_break_even(mut result: RunResult, break_even: Vec<BreakEven>) -> RunResult {
        let curves = result.mean_npv_by_effect_scale();
        for (k, (c, mut b)) in result.expected.comparisons.iter_mut().zip(break_even).enumerate() {
            // With draws, the effect that zeroes the expected NPV, read off the mean curve.
            // The curve stops at the full effect: beyond it, the base case's search stands.
            if let Some(curve) = curves.get(k).filter(|c| !c.is_empty()) {
                b.effect_scale = break_even::crossing(curve).or(b.effect_scale.filter(|&s| s > 1.0));
            }
            b.children = match b.excess_cost {
                Some(excess) if excess > 0.0 => Some(c.program.cost / excess),
                _ => None,
            };
            c.break_even = b;
        }
        result
    }

    /// Compiles and runs draws `draws` of the run with the configured
    /// engine: with the cohort engine, side by side ([`cohort::run_many`]),
    /// compiled into `models`, the models of the draws before.
    fn evaluate_draws(&self, draws: Range<u64>, models: &mut Vec<Model>) -> Vec<Result<Outcome>> {
        let values: Vec<Vec<f64>> = draws
            .clone()
            .map(|d| self.with_overrides(draw_values(self.scenario, self.seed, d)))
            .collect();
        if self.engine == Engine::Cohort && Model::recompile_many(models, self.scenario, &values).is_ok() {
            let models = &models[..values.len()];
            let streams = cohort::run_many(models, 1.0);
            return draws
                .zip(models)
                .zip(streams)
                .map(|((d, model), streams)| self.evaluate_model(d, model, Some(streams), self.children, None))
                .collect();
        }
        // One at a time, each with its own error.
        draws
            .zip(&values)
            .map(|(d, values)| self.evaluate(d, values, self.children, None))
            .collect()
    }

    /// Compiles and runs one draw with the configured engine.
    fn evaluate(&self, draw: u64, values: &[f64], children: u64, progress: Option<Progress<'_>>) -> Result<Outcome> {
        // Both engines read the tables once per age segment.
        let model = Model::compile_lean(self.scenario, values)?;
        self.evaluate_model(draw, &model, None, children, progress)
    }

    /// Runs one draw of `model` with the configured engine; with the
    /// cohort engine, `streams` are its streams when it has been run.
    fn evaluate_model(
        &self,
        draw: u64,
        model: &Model,
        streams: Option<std::result::Result<Vec<ArmStreams>, EngineError>>,
        children: u64,
        progress: Option<Progress<'_>>,
    ) -> Result<Outcome> {
        let scenario = self.scenario;
        let frame = self.frame();
        let mut outcome = match self.engine {
            Engine::Cohort => {
                let streams = streams
                    .unwrap_or_else(|| cohort::run(model, 1.0))
                    .map_err(|e| engine_error(scenario, e))?;
                Outcome {
                    figures: draw_figures(scenario, &frame, &streams),
                    streams,
                    replicates: Vec::new(),
                    lifetime_cost: Vec::new(),
                }
            }
            Engine::Microsim => {
                let valuation = economics::valuation(&frame, model);
                let options = MicrosimOptions {
                    seed: self.seed,
                    draw,
                    children,
                    common_random_numbers: self.common_random_numbers,
                };
                let out = microsim::run(model, &valuation, options, progress).map_err(|e| engine_error(scenario, e))?;
                let replicates = out
                    .replicates
                    .par_iter()
                    .map(|(n, streams)| (*n, figures(scenario, &frame, streams)))
                    .collect();
                Outcome {
                    figures: draw_figures(scenario, &frame, &out.streams),
                    streams: out.streams,
                    replicates,
                    lifetime_cost: out.lifetime_cost,
                }
            }
        };
        if let Some(sroi) = scenario.adjustments().sroi {
            for (c, npv) in outcome
                .figures
                .comparisons
                .iter_mut()
                .zip(self.sroi_npv(model, &frame, sroi)?)
            {
                c.sroi_npv = Some(npv);
            }
        }
        // The break-even curve across draws: each draw's NPV at each effect fraction.
        if self.draws.is_some() && self.break_even_curve && scenario.history().is_empty() {
            for (c, curve) in outcome
                .figures
                .comparisons
                .iter_mut()
                .zip(self.npv_curve(model, &frame)?)
            {
                c.npv_by_effect_scale = curve;
            }
        }
        Ok(outcome)
    }

    /// Break-even figures of each intervention at the base case, by the
    /// cohort engine: the effect scale, and the excess cost of the named
    /// break-even state (empty when history rules need the microsimulation).
    fn break_even(&self, base: &[f64]) -> Result<Vec<BreakEven>> {
        let scenario = self.scenario;
        let state = match &self.break_even_state {
            None => None,
            Some(id) => Some(scenario.states().iter().position(|s| &s.id == id).ok_or_else(|| {
                let known: Vec<&str> = scenario.states().iter().map(|s| s.id.as_str()).collect();
                Error::Scenario(ScenarioError::new(
                    "break_even_state",
                    format!("`{id}` is not a state; expected one of: {}", known.join(", ")),
                ))
            })?),
        };
        if !scenario.history().is_empty() {
            return Ok(vec![BreakEven::default(); scenario.interventions().len()]);
        }
        let model = Model::compile_lean(scenario, base)?;
        let frame = self.frame();
        let status_quo = cohort::run_arm(&model, &model.arms[0], 1.0).map_err(|e| engine_error(scenario, e))?;
        let mut out = Vec::with_capacity(scenario.interventions().len());
        for (k, iv) in scenario.interventions().iter().enumerate() {
            let effect_scale =
                break_even::effect_scale(|scale| self.scaled_npv(&model, &frame, &status_quo, k, scale))?;
            let age = iv.enrol_ages.map_or(scenario.groups()[0].start_age, |(from, _)| from);
            let excess_cost = match state {
                Some(s) => Some(self.excess_cost(&model, &frame, s, age)?),
                None => None,
            };
            out.push(BreakEven {
                effect_scale,
                state: self.break_even_state.clone(),
                excess_cost,
                children: None,
            });
        }
        Ok(out)
    }

    /// PV of the lifetime cost (status quo, perspective) of a child entering
    /// `state` at `age`, minus that of a child of the population who does not:
    /// the population's start distribution at that age without `state`.
    fn excess_cost(&self, model: &Model, frame: &Frame, state: usize, age: u32) -> Result<f64> {
        let scenario = self.scenario;
        let n = model.n_states();
        let mut rest = vec![0.0; n];
        for g in &model.groups {
            for (s, share) in g.start.iter().enumerate() {
                rest[s] += g.weight * share;
            }
        }
        rest[state] = 0.0;
        let total: f64 = rest.iter().sum();
        if total <= 0.0 {
            return Err(Error::Scenario(ScenarioError::new(
                "break_even_state",
                format!(
                    "`{}` holds the whole population at the start; expected a state children can be kept out of",
                    scenario.states()[state].id
                ),
            )));
        }
        let cost_from = |start: Vec<f64>| -> Result<f64> {
            let mut m = model.clone();
            m.groups = vec![crate::model::GroupModel {
                weight: 1.0,
                start_age: age,
                start: nalgebra::DVector::from_vec(start),
            }];
            let streams = cohort::run_arm(&m, &m.arms[0], 1.0).map_err(|e| engine_error(scenario, e))?;
            Ok(economics::arm_figures(frame, &streams).cost)
        };
        let mut entering = vec![0.0; n];
        entering[state] = 1.0;
        // Entering is a move: its one-off cost counts, in cycle 0.
        let entry: f64 = (0..model.n_payers())
            .filter(|&p| frame.included[p])
            .map(|p| model.entry_costs[(state, p)])
            .sum();
        let entry_pv = entry * frame.cost_rate.factor(frame.offset);
        Ok(cost_from(entering)? + entry_pv - cost_from(rest.iter().map(|x| x / total).collect())?)
    }

    /// NPV of each intervention with the SROI multipliers on its effects, by the cohort engine.
    fn sroi_npv(&self, model: &Model, frame: &Frame, sroi: Sroi) -> Result<Vec<f64>> {
        let scenario = self.scenario;
        let mut adjusted = model.clone();
        for arm in &mut adjusted.arms {
            if let Some(iv) = &mut arm.intervention {
                for e in &mut iv.effects {
                    e.ratio = e.ratio.powf(sroi.scale());
                    e.drop_off = sroi.drop_off;
                }
            }
        }
        let status_quo = cohort::run_arm(model, &model.arms[0], 1.0).map_err(|e| engine_error(scenario, e))?;
        (0..scenario.interventions().len())
            .map(|k| self.scaled_npv(&adjusted, frame, &status_quo, k, 1.0))
            .collect()
    }

    /// NPV of intervention `k` of `model` with every effect scaled by `scale`, by the cohort engine.
    fn scaled_npv(&self, model: &Model, frame: &Frame, status_quo: &ArmStreams, k: usize, scale: f64) -> Result<f64> {
        let scenario = self.scenario;
        let arm = cohort::run_arm(model, &model.arms[k + 1], scale).map_err(|e| engine_error(scenario, e))?;
        let start_year = scenario.interventions()[k].program.start_year;
        Ok(economics::compare(frame, status_quo, &arm, start_year).npv)
    }

    /// NPV of each intervention with every effect scaled by each fraction of
    /// [`break_even::CURVE`], by the cohort engine on this draw's model.
    fn npv_curve(&self, model: &Model, frame: &Frame) -> Result<Vec<Vec<f64>>> {
        let scenario = self.scenario;
        let status_quo = cohort::run_arm(model, &model.arms[0], 1.0).map_err(|e| engine_error(scenario, e))?;
        (0..scenario.interventions().len())
            .map(|k| {
                break_even::CURVE
                    .iter()
                    .map(|&scale| self.scaled_npv(model, frame, &status_quo, k, scale))
                    .collect()
            })
            .collect()
    }
}

/// Economic figures of one set of arm streams.
fn figures(scenario: &Scenario, frame: &Frame, streams: &[ArmStreams]) -> Figures {
    figures_with(scenario, frame, streams, true)
}

/// The figures of one draw, without the per-year program budget, which is
/// reported only for the expected streams.
fn draw_figures(scenario: &Scenario, frame: &Frame, streams: &[ArmStreams]) -> Figures {
    figures_with(scenario, frame, streams, false)
}

fn figures_with(scenario: &Scenario, frame: &Frame, streams: &[ArmStreams], budget: bool) -> Figures {
    let start_years = scenario.start_years();
    let (arms, comparisons) = economics::draw_figures(frame, streams, &start_years, budget);
    Figures { arms, comparisons }
}

/// Per comparison of a single microsimulation draw: its NPV and that NPV's
/// standard error from the replicates.
fn replicate_npv_estimates(outcome: &Outcome) -> Vec<(f64, f64)> {
    let comparisons = outcome.figures.comparisons.iter().enumerate();
    comparisons
        .map(|(k, c)| {
            let se = crate::result::replicate_se(&outcome.replicates, c.npv, |d| Some(d.comparisons[k].npv));
            (c.npv, se)
        })
        .collect()
}

/// The mean and standard error of each comparison's NPV over `draws`.
fn npv_estimates(draws: &[Figures]) -> Vec<(f64, f64)> {
    let n_comparisons = draws.first().map_or(0, |d| d.comparisons.len());
    let mut values = Vec::with_capacity(draws.len());
    (0..n_comparisons)
        .filter_map(|k| {
            values.clear();
            values.extend(draws.iter().map(|d| d.comparisons[k].npv));
            crate::stats::mean_se(&values)
        })
        .collect()
}

/// Whether every NPV `(mean, se)` of `estimates` is pinned down to
/// `relative`, the standard errors resting on `enough` samples (more than one).
fn precise(estimates: &[(f64, f64)], enough: bool, relative: f64) -> bool {
    estimates
        .iter()
        .all(|&(mean, se)| enough && se <= relative * mean.abs())
}

/// The size (draws or children) every NPV `(mean, se)` of `estimates`, worked
/// out from `n`, needs to reach `relative`: standard errors fall as one over
/// the square root of the size.
fn size_needed(n: u64, estimates: &[(f64, f64)], relative: f64) -> f64 {
    let needed = estimates
        .iter()
        .map(|&(mean, se)| n as f64 * (se / (relative * mean.abs())).powi(2));
    needed.fold(0.0, f64::max)
}

/// The size of the next round of adaptive precision after a round of `n`
/// (draws or children) fell short: 1 % past the `needed` its standard
/// errors predict, but at least a sixteenth more than `n` (when the
/// prediction falls short in turn, a few percent more usually suffice) and
/// at most twice `n` (a prediction from a small round is rough), and at
/// most `cap`.
fn next_size(n: u64, needed: f64, cap: u64) -> u64 {
    let most = n.saturating_mul(2);
    let least = n.saturating_add((n / 16).max(1));
    let aimed = (1.01 * needed).ceil();
    let next = if aimed.is_finite() && aimed < most as f64 {
        (aimed as u64).max(least)
    } else {
        most
    };
    next.min(cap)
}

fn with_draw(e: Error, draw: u64) -> Error {
    match e {
        Error::Scenario(mut s) => {
            s.message = format!("{} (draw {draw})", s.message);
            Error::Scenario(s)
        }
        other => other,
    }
}

fn engine_error(scenario: &Scenario, e: EngineError) -> Error {
    match e {
        EngineError::RowAboveOne { path, state, age, arm, sum } => Error::Scenario(scenario.locate(ScenarioError::new(
            path,
            format!(
                "makes the probabilities out of `{}` at age {age} in arm `{arm}` sum to {sum}; expected at most 1 (a hazard_ratio always gives a valid row)",
                scenario.states()[state].id
            ),
        ))),
    }
}

/// The draw whose parameters `sample_all` would give; for callers that replay one draw.
pub fn draw_values(scenario: &Scenario, seed: u64, draw: u64) -> Vec<f64> {
    let mut values = vec![0.0; scenario.parameters().len()];
    let mut stream = rng::parameter_stream(seed, draw);
    crate::param::sample_all(scenario.parameters(), scenario.correlations(), &mut stream, &mut values);
    values
}

#[cfg(test)]
mod tests {
    use super::next_size;

    #[test]
    fn the_next_round_aims_past_the_predicted_size_within_its_bounds() {
        // 1 % past the prediction when that lies between a sixteenth more and twice as many.
        assert_eq!(next_size(1_000, 1_500.0, 1_000_000), 1_515);
        // Never less than a sixteenth more, even when the prediction says the run is nearly there.
        assert_eq!(next_size(1_000, 900.0, 1_000_000), 1_062);
        assert_eq!(next_size(1, 0.5, 1_000_000), 2);
        // At most twice as many, also when no prediction can be made (an NPV of 0).
        assert_eq!(next_size(1_000, 5_000.0, 1_000_000), 2_000);
        assert_eq!(next_size(1_000, f64::INFINITY, 1_000_000), 2_000);
        assert_eq!(next_size(1_000, f64::NAN, 1_000_000), 2_000);
        // Within the cap.
        assert_eq!(next_size(1_000, 1_500.0, 1_200), 1_200);
        assert_eq!(next_size(u64::MAX / 2 + 1, 1e300, u64::MAX), u64::MAX);
    }
}
