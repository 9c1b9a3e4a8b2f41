//! The scenario file as written: plain serde data, before any check.
//!
//! Every struct denies unknown fields, so a misspelt key is an error naming
//! it rather than a silently ignored line. [`super::Scenario`] is the
//! checked form built from this tree.

use std::fmt;

use indexmap::IndexMap;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::param::Quantity;

/// The whole scenario file.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioSpec {
    pub scenario: Header,
    #[serde(default)]
    pub discounting: DiscountingSpec,
    #[serde(deserialize_with = "unique")]
    pub payers: IndexMap<String, PayerSpec>,
    #[serde(default, deserialize_with = "unique", skip_serializing_if = "IndexMap::is_empty")]
    pub parameters: IndexMap<String, Quantity>,
    pub states: Vec<StateSpec>,
    #[serde(default)]
    pub transitions: Vec<TransitionSpec>,
    pub population: Vec<GroupSpec>,
    #[serde(default)]
    pub interventions: Vec<InterventionSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<HistorySpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub correlations: Vec<CorrelationSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_index: Option<PriceIndexSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adjustments: Option<AdjustmentsSpec>,
}

/// `[adjustments]`: explicit adjustments, each reported on its own line.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentsSpec {
    /// Deadweight cost of taxation per unit of net public flow (the marginal
    /// cost of public funds minus 1): 0.5 in WSIPP, 0.2 in Norway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_factor: Option<f64>,
    /// SROI: share of the effect attributable to the intervention.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribution: Option<f64>,
    /// SROI: share of the effect that would have happened anyway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadweight: Option<f64>,
    /// SROI: share of the effect lost each year after enrolment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drop_off: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<crate::param::Confidence>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// `[price_index]`: how amounts of other price years are converted to the
/// scenario's `price_year`. A shipped index by `name` (`kpi_sweden`), own
/// `levels` by year, or both (own levels add to or replace the shipped ones).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceIndexSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "unique", skip_serializing_if = "IndexMap::is_empty")]
    pub levels: IndexMap<String, f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<crate::param::Confidence>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// `[scenario]`: what the analysis is and its frame.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// A scenario this one is built on: a shipped name (`tsi_sweden`) or a
    /// TOML file beside this one. Merged away when read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default = "default_currency")]
    pub currency: String,
    pub price_year: i32,
    pub start_age: u32,
    #[serde(default = "default_end_age")]
    pub end_age: u32,
    #[serde(default)]
    pub perspective: Perspective,
}

fn default_currency() -> String {
    "SEK".to_owned()
}

fn default_end_age() -> u32 {
    80
}

/// Which payers a headline figure adds up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Perspective {
    /// Public budgets only: the payers marked `public = true`.
    #[default]
    Fiscal,
    /// Every payer, public or not (production loss, the individual, victims).
    Societal,
}

impl Perspective {
    /// The name used in files and results: `fiscal` or `societal`.
    pub fn as_str(self) -> &'static str {
        match self {
            Perspective::Fiscal => "fiscal",
            Perspective::Societal => "societal",
        }
    }

    /// Whether a payer with the given `public` flag counts in this perspective.
    pub fn includes(self, public: bool) -> bool {
        match self {
            Perspective::Fiscal => public,
            Perspective::Societal => true,
        }
    }
}

/// `[discounting]`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscountingSpec {
    #[serde(default = "default_rate")]
    pub costs: RateSpec,
    #[serde(default = "default_rate")]
    pub outcomes: RateSpec,
    #[serde(default)]
    pub timing: Timing,
    #[serde(default)]
    pub cycle_counting: CycleCounting,
    /// Where the rates come from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<crate::param::Confidence>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Default for DiscountingSpec {
    fn default() -> Self {
        DiscountingSpec {
            costs: default_rate(),
            outcomes: default_rate(),
            timing: Timing::default(),
            cycle_counting: CycleCounting::default(),
            source: None,
            confidence: None,
            note: None,
        }
    }
}

fn default_rate() -> RateSpec {
    RateSpec::Constant(0.035)
}

/// A discount rate: one constant annual rate, or a piecewise schedule.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum RateSpec {
    Constant(f64),
    Schedule(Vec<RateStep>),
}

/// One segment of a schedule: `rate` applies from `from_year` until the next step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateStep {
    pub from_year: f64,
    pub rate: f64,
}

/// When within a cycle its flows are discounted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timing {
    /// Factor `D(t)`.
    Start,
    /// Factor `D(t + 0.5)`.
    #[default]
    Mid,
    /// Factor `D(t + 1)`.
    End,
}

impl Timing {
    /// The offset `τ` within the cycle.
    pub fn offset(self) -> f64 {
        match self {
            Timing::Start => 0.0,
            Timing::Mid => 0.5,
            Timing::End => 1.0,
        }
    }
}

/// Which occupancy a cycle is charged for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CycleCounting {
    /// `x_t`, the distribution at the start of the cycle.
    #[default]
    Beginning,
    /// `x_{t+1}`, the distribution at the end of the cycle.
    End,
    /// `(x_t + x_{t+1}) / 2`, the half-cycle correction.
    LifeTable,
}

/// `[payers.<id>]`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayerSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub public: bool,
}

/// `[[states]]`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateSpec {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Annual cost per payer for every cycle spent in the state.
    #[serde(default, deserialize_with = "unique", skip_serializing_if = "IndexMap::is_empty")]
    pub costs: IndexMap<String, Quantity>,
    /// One-off cost per payer on entering the state.
    #[serde(default, deserialize_with = "unique", skip_serializing_if = "IndexMap::is_empty")]
    pub entry_costs: IndexMap<String, Quantity>,
    /// Non-monetary weights per cycle in the state, e.g. `placement_years = 1`.
    #[serde(default, deserialize_with = "unique", skip_serializing_if = "IndexMap::is_empty")]
    pub outcomes: IndexMap<String, Quantity>,
    #[serde(default)]
    pub absorbing: bool,
}

/// `[[transitions]]`: annual probabilities out of `from` on an age band.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransitionSpec {
    /// `[from, to)`; omitted means the whole horizon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ages: Option<[u32; 2]>,
    pub from: String,
    #[serde(deserialize_with = "unique")]
    pub to: IndexMap<String, Quantity>,
}

/// `[[population]]`: one group of children.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub size: f64,
    /// Defaults to `scenario.start_age`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_age: Option<u32>,
    /// Share of the group in each state at the start; the shares sum to 1.
    #[serde(deserialize_with = "unique")]
    pub start: IndexMap<String, f64>,
}

/// `[[interventions]]`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterventionSpec {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub enrol: EnrolSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program: Option<ProgramSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participant_costs: Option<ParticipantCostsSpec>,
    #[serde(default)]
    pub effects: Vec<EffectSpec>,
}

/// Who the intervention reaches.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolSpec {
    pub states: Vec<String>,
    #[serde(default = "default_uptake")]
    pub uptake: Quantity,
    /// Enrolment window `[from, to)` in age; omitted means at the start age only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ages: Option<[u32; 2]>,
}

fn default_uptake() -> Quantity {
    Quantity::Number(1.0)
}

/// The program that delivers the intervention.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgramSpec {
    #[serde(default = "default_program_years")]
    pub years: u32,
    /// Children of the population reached each program year; defaults to the population size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub children_per_year: Option<f64>,
    /// Fixed cost per program year, per payer.
    #[serde(default, deserialize_with = "unique", skip_serializing_if = "IndexMap::is_empty")]
    pub fixed_costs: IndexMap<String, Quantity>,
    /// Calendar year of the first program year; defaults to `scenario.price_year`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_year: Option<i32>,
}

fn default_program_years() -> u32 {
    1
}

/// Costs per participant.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParticipantCostsSpec {
    /// Once, in the cycle of enrolment, per payer.
    #[serde(default, deserialize_with = "unique", skip_serializing_if = "IndexMap::is_empty")]
    pub once: IndexMap<String, Quantity>,
    /// Each of the first `years` cycles of participation while alive, per payer.
    #[serde(default, deserialize_with = "unique", skip_serializing_if = "IndexMap::is_empty")]
    pub per_year: IndexMap<String, Quantity>,
    #[serde(default = "default_cost_years")]
    pub years: u32,
}

fn default_cost_years() -> u32 {
    1
}

/// `[[interventions.effects]]`: one effect on transitions out of `from`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EffectSpec {
    pub from: String,
    pub to: OneOrMany,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hazard_ratio: Option<Quantity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relative_risk: Option<Quantity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub odds_ratio: Option<Quantity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effect_size_d: Option<Quantity>,
    /// Years at full strength from enrolment; omitted means the whole horizon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
    /// Half-life of the fading after `duration`; omitted means the effect stops.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub half_life: Option<f64>,
}

/// A state id or a list of them.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn as_slice(&self) -> &[String] {
        match self {
            OneOrMany::One(s) => std::slice::from_ref(s),
            OneOrMany::Many(v) => v,
        }
    }
}

/// `[[history]]`: a change to transitions for children with a given past.
/// Only the microsimulation can follow a child's past, so the cohort engine
/// refuses scenarios with such rules.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistorySpec {
    /// States whose moves are changed; omitted means every non-absorbing state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<OneOrMany>,
    pub to: OneOrMany,
    /// Applies to children who have ever been in this state (the current cycle included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ever_in: Option<String>,
    /// Applies once a child has spent at least this many whole years in its current state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_years_in_state: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hazard_ratio: Option<Quantity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relative_risk: Option<Quantity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub odds_ratio: Option<Quantity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effect_size_d: Option<Quantity>,
}

/// `[[correlations]]`: a pair with `rho`, or several parameters with a `matrix`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorrelationSpec {
    pub parameters: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rho: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matrix: Option<Vec<Vec<f64>>>,
}

impl<'de> Deserialize<'de> for RateSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RateVisitor;

        impl<'de> Visitor<'de> for RateVisitor {
            type Value = RateSpec;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a rate such as 0.035, or a schedule [{ from_year = 0, rate = 0.035 }, …]")
            }

            fn visit_f64<E: de::Error>(self, x: f64) -> Result<RateSpec, E> {
                Ok(RateSpec::Constant(x))
            }

            fn visit_i64<E: de::Error>(self, x: i64) -> Result<RateSpec, E> {
                Ok(RateSpec::Constant(x as f64))
            }

            fn visit_u64<E: de::Error>(self, x: u64) -> Result<RateSpec, E> {
                Ok(RateSpec::Constant(x as f64))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<RateSpec, A::Error> {
                Vec::<RateStep>::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(RateSpec::Schedule)
            }
        }

        deserializer.deserialize_any(RateVisitor)
    }
}

/// Reads a table whose keys must be unique (JSON objects may repeat keys; TOML tables may not).
fn unique<'de, D, V>(deserializer: D) -> Result<IndexMap<String, V>, D::Error>
where
    D: Deserializer<'de>,
    V: Deserialize<'de>,
{
    struct UniqueVisitor<V>(std::marker::PhantomData<V>);

    impl<'de, V: Deserialize<'de>> Visitor<'de> for UniqueVisitor<V> {
        type Value = IndexMap<String, V>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a table")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = IndexMap::new();
            while let Some(key) = map.next_key::<String>()? {
                if out.contains_key(&key) {
                    return Err(de::Error::custom(format!(
                        "duplicate key `{key}`; expected each key once"
                    )));
                }
                let value = map.next_value()?;
                out.insert(key, value);
            }
            Ok(out)
        }
    }

    deserializer.deserialize_map(UniqueVisitor(std::marker::PhantomData))
}

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IdsVisitor;

        impl<'de> Visitor<'de> for IdsVisitor {
            type Value = OneOrMany;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a state id such as \"neet\", or a list such as [\"foster_care\", \"residential_care\"]")
            }

            fn visit_str<E: de::Error>(self, s: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany::One(s.to_owned()))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<OneOrMany, A::Error> {
                Vec::<String>::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(OneOrMany::Many)
            }
        }

        deserializer.deserialize_any(IdsVisitor)
    }
}
