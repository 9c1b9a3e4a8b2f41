//! Running a scenario: `Simulation::new(&scenario)…run()`.

use crate::economics::{self, ArmFigures, ComparisonFigures, Frame, break_even};
use crate::engine::{ArmStreams, EngineError, cohort};
use crate::error::{Error, Result, ScenarioError};
use crate::model::Model;
use crate::result::RunResult;
use crate::scenario::{Perspective, Scenario};

/// The seed used when none is given. The library never takes entropy from the OS.
pub const DEFAULT_SEED: u64 = 20_240_101;

/// How the expected streams of a draw are computed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Engine {
    /// Exact expected state occupancy by matrix–vector products.
    #[default]
    Cohort,
}

impl Engine {
    /// The name used by the CLI and in results: `cohort`.
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Cohort => "cohort",
        }
    }
}

/// A configured run of a scenario.
///
/// # Example
///
/// ```
/// # fn main() -> Result<(), lifecost::Error> {
/// let scenario = lifecost::Scenario::default_scenario()?;
/// let run = lifecost::Simulation::new(&scenario).run()?;
/// let tsi = run.compare("tsi")?;
/// println!("{}", tsi.summary());
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct Simulation<'a> {
    scenario: &'a Scenario,
    perspective: Perspective,
    engine: Engine,
    seed: u64,
}

/// Everything one draw produces: the streams and the figures.
#[derive(Clone, Debug)]
pub(crate) struct Draw {
    pub streams: Vec<ArmStreams>,
    pub arms: Vec<ArmFigures>,
    pub comparisons: Vec<ComparisonFigures>,
}

impl<'a> Simulation<'a> {
    /// A base-case run of `scenario` in its own perspective.
    pub fn new(scenario: &'a Scenario) -> Self {
        Simulation {
            scenario,
            perspective: scenario.perspective(),
            engine: Engine::Cohort,
            seed: DEFAULT_SEED,
        }
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

    /// The seed recorded with the result. The default is [`DEFAULT_SEED`].
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Runs the base case: every parameter at its mean.
    ///
    /// # Errors
    ///
    /// [`Error::Scenario`] when an effect or a drawn value makes a row of
    /// transition probabilities exceed 1, naming the field, state, age and arm.
    pub fn run(&self) -> Result<RunResult> {
        let values = self.scenario.base_values();
        let draw = evaluate(self.scenario, &values, self.perspective)?;
        Ok(RunResult::new(
            self.scenario,
            self.perspective,
            self.engine,
            self.seed,
            vec![draw],
        ))
    }
}

/// Compiles, runs and evaluates one draw.
pub(crate) fn evaluate(scenario: &Scenario, values: &[f64], perspective: Perspective) -> Result<Draw> {
    let model = Model::compile(scenario, values)?;
    let streams = cohort::run(&model, 1.0).map_err(|e| engine_error(scenario, e))?;
    let frame = Frame::new(scenario, perspective);
    let arms = streams
        .iter()
        .enumerate()
        .map(|(a, s)| economics::arm_figures(&frame, &model, a, s))
        .collect();
    let mut comparisons = Vec::with_capacity(scenario.interventions().len());
    for (k, iv) in scenario.interventions().iter().enumerate() {
        let arm = k + 1;
        let start_year = iv.program.start_year;
        let mut c = economics::compare(&frame, &model, &streams[0], arm, &streams[arm], start_year);
        c.break_even_effect_scale = break_even::effect_scale(|scale| {
            let scaled = cohort::run_arm(&model, &model.arms[arm], scale).map_err(|e| engine_error(scenario, e))?;
            Ok::<_, Error>(economics::compare(&frame, &model, &streams[0], arm, &scaled, start_year).npv)
        })?;
        comparisons.push(c);
    }
    Ok(Draw {
        streams,
        arms,
        comparisons,
    })
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
