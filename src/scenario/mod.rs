//! Scenarios: reading, checking, and the checked form every engine uses.
//!
//! A file is read into a [`ScenarioSpec`] (plain serde data, unknown keys
//! refused) and then checked once into a [`Scenario`]: ids resolved to
//! indices, every number turned into a constant or a [`Parameter`], age bands
//! proven to cover the horizon. Nothing downstream re-reads the file.

pub mod base;
mod check;
mod locate;
pub mod price_index;
pub mod spec;

use std::path::Path;
use std::sync::{Arc, OnceLock};

pub use spec::{CycleCounting, Perspective, ScenarioSpec, Timing};

use crate::error::{Error, Result, ScenarioError};
use crate::model::Layout;
use crate::param::{Correlation, ParamId, Parameter, Value};

/// A checked scenario.
///
/// # Example
///
/// ```
/// # fn main() -> Result<(), lifecost::Error> {
/// let scenario = lifecost::Scenario::default_scenario()?;
/// assert!(scenario.states().iter().any(|s| s.id == "dead"));
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Scenario {
    pub(crate) spec: ScenarioSpec,
    pub(crate) toml_source: Option<Arc<str>>,
    pub(crate) payers: Vec<Payer>,
    pub(crate) parameters: Vec<Parameter>,
    pub(crate) states: Vec<State>,
    pub(crate) outcomes: Vec<String>,
    pub(crate) bands: Vec<Band>,
    pub(crate) groups: Vec<Group>,
    pub(crate) interventions: Vec<Intervention>,
    pub(crate) discounting: Discounting,
    pub(crate) history: Vec<HistoryRule>,
    pub(crate) correlations: Vec<Correlation>,
    pub(crate) adjustments: Adjustments,
    /// The age segments and the moves of their rows, worked out on first use.
    pub(crate) layout: OnceLock<Arc<Layout>>,
}

/// Explicit adjustments, each reported on its own line, never inside other figures.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Adjustments {
    /// Deadweight cost of taxation per unit of net public flow.
    pub tax_factor: Option<f64>,
    /// SROI multipliers on effects.
    pub sroi: Option<Sroi>,
}

/// SROI-style multipliers on effects: an effect keeps the share
/// `attribution · (1 − deadweight)` of its strength (on the log scale for
/// ratios), less `drop_off` for each year since enrolment.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sroi {
    pub attribution: f64,
    pub deadweight: f64,
    pub drop_off: f64,
}

impl Sroi {
    /// The share of each effect kept.
    pub fn scale(&self) -> f64 {
        self.attribution * (1.0 - self.deadweight)
    }
}

/// A change to transitions for children with a given past (microsimulation only).
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryRule {
    /// States whose moves out are changed.
    pub from: Vec<usize>,
    pub to: Vec<usize>,
    pub condition: HistoryCondition,
    pub kind: EffectKind,
    pub value: Value,
    pub(crate) path: String,
}

/// Which children a [`HistoryRule`] applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HistoryCondition {
    /// Children who have ever been in the state, the current cycle included.
    EverIn(usize),
    /// Children who have spent at least this many whole years in their current state.
    MinYearsInState(u32),
}

/// Who bears a cost or receives a saving.
#[derive(Clone, Debug, PartialEq)]
pub struct Payer {
    pub id: String,
    pub name: String,
    pub public: bool,
}

/// A life situation, with what a year in it costs and counts.
#[derive(Clone, Debug, PartialEq)]
pub struct State {
    pub id: String,
    pub name: String,
    /// Annual cost, indexed by payer.
    pub costs: Vec<Value>,
    /// One-off cost on entering, indexed by payer.
    pub entry_costs: Vec<Value>,
    /// Weight per cycle in the state, indexed by outcome.
    pub outcomes: Vec<Value>,
    pub absorbing: bool,
}

/// Annual transition probabilities out of one state on an age band `[ages.0, ages.1)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Band {
    pub from: usize,
    pub ages: (u32, u32),
    pub to: Vec<(usize, Value)>,
    pub(crate) path: String,
}

/// A group of children with its start age and start distribution.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    pub name: String,
    pub size: f64,
    pub start_age: u32,
    /// Share in each state at the start, indexed by state.
    pub start: Vec<f64>,
}

/// How an effect changes a transition probability.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EffectKind {
    HazardRatio,
    RelativeRisk,
    OddsRatio,
    /// Standardised mean difference, turned into an odds ratio `exp(1.65·d)`.
    EffectSizeD,
}

impl EffectKind {
    /// The key used in scenario files.
    pub fn as_str(self) -> &'static str {
        match self {
            EffectKind::HazardRatio => "hazard_ratio",
            EffectKind::RelativeRisk => "relative_risk",
            EffectKind::OddsRatio => "odds_ratio",
            EffectKind::EffectSizeD => "effect_size_d",
        }
    }
}

/// An effect of an intervention on transitions out of `from` into `to`.
#[derive(Clone, Debug, PartialEq)]
pub struct Effect {
    pub from: usize,
    pub to: Vec<usize>,
    pub kind: EffectKind,
    pub value: Value,
    /// Years at full strength from enrolment (`f64::INFINITY` when omitted).
    pub duration: f64,
    /// Half-life of the fading after `duration`; `None` stops the effect at once.
    pub half_life: Option<f64>,
    pub(crate) path: String,
}

impl Effect {
    /// Strength `w` of the effect `cycles` cycles after enrolment: 1 for
    /// `duration` years, then `0.5^((cycles − duration)/half_life)`, or 0.
    pub fn weight(&self, cycles: f64) -> f64 {
        if cycles < self.duration {
            1.0
        } else {
            match self.half_life {
                Some(h) => 0.5f64.powf((cycles - self.duration) / h),
                None => 0.0,
            }
        }
    }
}

/// An intervention: who it reaches, what it costs, what it changes.
#[derive(Clone, Debug, PartialEq)]
pub struct Intervention {
    pub id: String,
    pub name: String,
    /// Whether each state is a target state for enrolment.
    pub enrol_states: Vec<bool>,
    pub uptake: Value,
    /// Ages `[from, to)` at which children are enrolled; `None` is the start age only.
    pub enrol_ages: Option<(u32, u32)>,
    pub program: Program,
    /// Per participant, once at enrolment, indexed by payer.
    pub once_costs: Vec<Value>,
    /// Per participant and year while alive, indexed by payer.
    pub yearly_costs: Vec<Value>,
    /// How many cycles the yearly costs run.
    pub cost_years: u32,
    pub effects: Vec<Effect>,
}

/// The program that delivers an intervention.
#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    pub years: u32,
    /// Children of the population reached in each program year.
    pub children_per_year: f64,
    /// Fixed cost per program year, indexed by payer.
    pub fixed_costs: Vec<Value>,
    /// Calendar year of program year 0.
    pub start_year: i32,
}

impl Program {
    /// Children reached over the whole program.
    pub fn children(&self) -> f64 {
        self.children_per_year * f64::from(self.years)
    }
}

/// Discount rates and conventions.
#[derive(Clone, Debug, PartialEq)]
pub struct Discounting {
    pub costs: crate::economics::DiscountRate,
    pub outcomes: crate::economics::DiscountRate,
    pub timing: Timing,
    pub cycle_counting: CycleCounting,
}

/// Largest scenario file read (16 MiB): far beyond any real scenario, small enough to refuse at once.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// The default scenario, `scenarios/tsi_sweden.toml`, embedded in the crate.
pub const DEFAULT_SCENARIO_TOML: &str = include_str!("../../scenarios/tsi_sweden.toml");

impl Scenario {
    /// Reads and checks a scenario written in TOML.
    ///
    /// # Errors
    ///
    /// [`Error::Scenario`] naming the field path, the value and what was
    /// expected, with the line and column.
    pub fn from_toml_str(source: &str) -> Result<Scenario> {
        Scenario::from_toml_in(source, None)
    }

    /// Reads TOML whose `scenario.base` files are resolved in `dir`.
    fn from_toml_in(source: &str, dir: Option<&Path>) -> Result<Scenario> {
        let wants_base = source
            .parse::<toml::Table>()
            .ok()
            .is_some_and(|t| base::base_of(&t).is_some());
        if wants_base {
            let (table, layers) = base::merged(source, dir)?;
            let spec: ScenarioSpec = serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
                let path = clean_path(&e.path().to_string());
                let message = e.into_inner().message().trim_end().to_owned();
                base::locate_in_layers(
                    ScenarioError {
                        path,
                        message,
                        location: None,
                    },
                    &layers,
                )
            })?;
            let mut scenario = Scenario::from_spec(spec).map_err(|e| base::locate_in_layers(e, &layers))?;
            scenario.toml_source = Some(Arc::from(source));
            return Ok(scenario);
        }
        let spec = parse_toml(source)?;
        let mut scenario = Scenario::from_spec(spec).map_err(|e| Error::Scenario(with_location(e, source)))?;
        scenario.toml_source = Some(Arc::from(source));
        Ok(scenario)
    }

    /// Reads and checks a scenario written in JSON (the same tree as TOML).
    ///
    /// # Errors
    ///
    /// [`Error::Scenario`] naming the field path, the value and what was expected.
    pub fn from_json_str(source: &str) -> Result<Scenario> {
        let mut de = serde_json::Deserializer::from_str(source);
        let spec: ScenarioSpec = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let location = Some(crate::error::Location {
                line: inner.line(),
                column: inner.column(),
            });
            ScenarioError {
                path: clean_path(&path),
                message: json_message(&inner),
                location,
            }
        })?;
        de.end()
            .map_err(|e| ScenarioError::new("", format!("trailing characters after the scenario: {e}")))?;
        Ok(Scenario::from_spec(spec)?)
    }

    /// Reads a scenario file: `.json` as JSON, anything else as TOML.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the file cannot be read, [`Error::Scenario`] when it
    /// is not a valid scenario.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Scenario> {
        let path = path.as_ref();
        let size = std::fs::metadata(path)
            .map_err(|source| Error::Io {
                path: path.to_owned(),
                source,
            })?
            .len();
        if size > MAX_FILE_BYTES {
            return Err(Error::Scenario(ScenarioError::new(
                "",
                format!(
                    "{} is {size} bytes; expected a scenario file of at most {MAX_FILE_BYTES} bytes",
                    path.display()
                ),
            )));
        }
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        let text = String::from_utf8(bytes).map_err(|e| {
            let at = crate::scenario::locate::location_of(
                &String::from_utf8_lossy(&e.as_bytes()[..e.utf8_error().valid_up_to()]),
                usize::MAX,
            );
            ScenarioError {
                path: String::new(),
                message: format!("{} is not UTF-8 text; expected a TOML or JSON scenario", path.display()),
                location: Some(at),
            }
        })?;
        let is_json = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
        if is_json {
            Scenario::from_json_str(&text)
        } else {
            Scenario::from_toml_in(&text, path.parent())
        }
    }

    /// The embedded default scenario (`scenarios/tsi_sweden.toml`).
    ///
    /// # Errors
    ///
    /// None in practice: the embedded file is checked by the test suite.
    pub fn default_scenario() -> Result<Scenario> {
        Scenario::from_toml_str(DEFAULT_SCENARIO_TOML)
    }

    /// Checks a parsed scenario tree.
    ///
    /// # Errors
    ///
    /// [`ScenarioError`] naming the field path, the value and what was expected.
    pub fn from_spec(spec: ScenarioSpec) -> Result<Scenario, ScenarioError> {
        check::check(spec)
    }

    /// The scenario tree as read.
    pub fn spec(&self) -> &ScenarioSpec {
        &self.spec
    }

    pub fn name(&self) -> &str {
        &self.spec.scenario.name
    }

    pub fn currency(&self) -> &str {
        &self.spec.scenario.currency
    }

    pub fn price_year(&self) -> i32 {
        self.spec.scenario.price_year
    }

    /// The age at which the horizon ends.
    pub fn end_age(&self) -> u32 {
        self.spec.scenario.end_age
    }

    /// The perspective of the headline figures.
    pub fn perspective(&self) -> Perspective {
        self.spec.scenario.perspective
    }

    pub fn payers(&self) -> &[Payer] {
        &self.payers
    }

    pub fn parameters(&self) -> &[Parameter] {
        &self.parameters
    }

    /// A parameter declared in `[parameters]`, by name.
    pub fn parameter(&self, name: &str) -> Option<ParamId> {
        self.parameters
            .iter()
            .position(|p| p.named && p.name == name)
            .map(ParamId)
    }

    pub fn states(&self) -> &[State] {
        &self.states
    }

    /// Names of the non-monetary outcomes, in order of first appearance.
    pub fn outcomes(&self) -> &[String] {
        &self.outcomes
    }

    /// Transition bands, in file order.
    pub fn transitions(&self) -> &[Band] {
        &self.bands
    }

    /// The age segments of the horizon and the moves of their rows, the
    /// same for every draw: worked out once, on first use.
    pub(crate) fn layout(&self) -> &Arc<Layout> {
        self.layout.get_or_init(|| Arc::new(Layout::of(self)))
    }

    pub fn groups(&self) -> &[Group] {
        &self.groups
    }

    pub fn interventions(&self) -> &[Intervention] {
        &self.interventions
    }

    /// The first calendar year of each intervention's program, in order.
    pub fn start_years(&self) -> Vec<i32> {
        self.interventions.iter().map(|iv| iv.program.start_year).collect()
    }

    /// Rules that depend on a child's past.
    pub fn history(&self) -> &[HistoryRule] {
        &self.history
    }

    /// Explicit adjustments (`[adjustments]`).
    pub fn adjustments(&self) -> Adjustments {
        self.adjustments
    }

    /// Correlated blocks of parameters.
    pub fn correlations(&self) -> &[Correlation] {
        &self.correlations
    }

    pub fn discounting(&self) -> &Discounting {
        &self.discounting
    }

    /// Total size of the population.
    pub fn population_size(&self) -> f64 {
        self.groups.iter().map(|g| g.size).sum()
    }

    /// The base-case draw: every parameter at its mean.
    pub fn base_values(&self) -> Vec<f64> {
        self.parameters.iter().map(Parameter::mean).collect()
    }

    /// Adds the TOML line and column to an error found after parsing.
    pub(crate) fn locate(&self, error: ScenarioError) -> ScenarioError {
        match &self.toml_source {
            Some(src) if error.location.is_none() => with_location(error, src),
            _ => error,
        }
    }

    /// A stable digest of the scenario tree (hex, 16 digits).
    pub fn hash(&self) -> String {
        use sha2::Digest;
        let json = serde_json::to_string(&self.spec).unwrap_or_default();
        let digest = sha2::Sha256::digest(json.as_bytes());
        digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
    }
}

fn parse_toml(source: &str) -> Result<ScenarioSpec, ScenarioError> {
    let de = toml::Deserializer::parse(source).map_err(|e| toml_error(source, String::new(), &e))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = clean_path(&e.path().to_string());
        toml_error(source, path, e.inner())
    })
}

fn toml_error(source: &str, path: String, e: &toml::de::Error) -> ScenarioError {
    let location = e.span().map(|s| locate::location_of(source, s.start));
    ScenarioError {
        path,
        message: e.message().trim_end().to_owned(),
        location,
    }
}

fn json_message(e: &serde_json::Error) -> String {
    // serde_json appends " at line L column C"; the location is reported separately.
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

/// serde_path_to_error writes `?` for the root and for untagged enum levels.
fn clean_path(path: &str) -> String {
    if path == "." || path == "?" {
        String::new()
    } else {
        path.trim_end_matches(".?").replace(".?", "").to_owned()
    }
}

fn with_location(mut error: ScenarioError, source: &str) -> ScenarioError {
    if error.location.is_none() && !error.path.is_empty() {
        error.location = locate::locate(source, &error.path);
    }
    error
}
