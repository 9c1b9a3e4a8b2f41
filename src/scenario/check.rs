//! Checking a [`ScenarioSpec`] into a [`Scenario`], once, with precise errors.

use std::collections::HashMap;

use indexmap::IndexMap;

use super::price_index::PriceIndex;
use super::spec::{CorrelationSpec, EffectSpec, HistorySpec, InterventionSpec, OneOrMany, ScenarioSpec};
use super::{
    Band, Discounting, Effect, EffectKind, Group, HistoryCondition, HistoryRule, Intervention, Payer, Program,
    Scenario, State,
};
use crate::error::ScenarioError;
use crate::param::{Correlation, ParamId, Parameter, Quantity, Value};

/// Longest horizon accepted, in years.
pub const MAX_HORIZON: u32 = 150;
/// Most states accepted.
pub const MAX_STATES: usize = 1_000;
/// Longest program accepted, in years.
pub const MAX_PROGRAM_YEARS: u32 = 100;

mod numbers;

use numbers::{Kind, adjustments, price_index, rate};

type Check<T> = Result<T, ScenarioError>;

fn err<T>(path: impl Into<String>, message: impl Into<String>) -> Check<T> {
    Err(ScenarioError::new(path, message))
}

struct Checker {
    price_year: i32,
    price_index: Option<PriceIndex>,
    parameters: Vec<Parameter>,
    names: HashMap<String, ParamId>,
    payer_index: HashMap<String, usize>,
    state_index: HashMap<String, usize>,
}

pub(super) fn check(spec: ScenarioSpec) -> Check<Scenario> {
    let header = &spec.scenario;
    if header.name.trim().is_empty() {
        return err("scenario.name", "is empty; expected a name for the analysis");
    }
    if header.end_age <= header.start_age {
        return err(
            "scenario.end_age",
            format!(
                "is {}; expected an age above start_age {}",
                header.end_age, header.start_age
            ),
        );
    }
    if header.end_age - header.start_age > MAX_HORIZON {
        return err(
            "scenario.end_age",
            format!(
                "is {}, a horizon of {} years from start_age {}; expected at most {MAX_HORIZON} years",
                header.end_age,
                header.end_age - header.start_age,
                header.start_age
            ),
        );
    }
    if !(1800..=2200).contains(&header.price_year) {
        return err(
            "scenario.price_year",
            format!("is {}; expected a calendar year", header.price_year),
        );
    }

    let discounting = Discounting {
        costs: rate(&spec.discounting.costs, "discounting.costs")?,
        outcomes: rate(&spec.discounting.outcomes, "discounting.outcomes")?,
        timing: spec.discounting.timing,
        cycle_counting: spec.discounting.cycle_counting,
    };

    let mut c = Checker {
        price_year: header.price_year,
        price_index: price_index(spec.price_index.as_ref())?,
        parameters: Vec::new(),
        names: HashMap::new(),
        payer_index: HashMap::new(),
        state_index: HashMap::new(),
    };

    if spec.payers.is_empty() {
        return err(
            "payers",
            "is empty; expected at least one payer, e.g. kommun = { public = true }",
        );
    }
    let mut payers = Vec::new();
    for (id, p) in &spec.payers {
        check_id(id, &format!("payers.{id}"))?;
        c.payer_index.insert(id.clone(), payers.len());
        payers.push(Payer {
            id: id.clone(),
            name: p.name.clone().unwrap_or_else(|| id.clone()),
            public: p.public,
        });
    }

    c.named_parameters(&spec.parameters)?;

    if spec.states.is_empty() {
        return err("states", "is empty; expected at least one state");
    }
    if spec.states.len() > MAX_STATES {
        return err(
            "states",
            format!("has {} states; expected at most {MAX_STATES}", spec.states.len()),
        );
    }
    for (i, s) in spec.states.iter().enumerate() {
        let path = format!("states[{i}].id");
        check_id(&s.id, &path)?;
        if c.state_index.insert(s.id.clone(), i).is_some() {
            return err(path, format!("`{}` is used by two states; expected unique ids", s.id));
        }
    }
    let mut outcomes: Vec<String> = Vec::new();
    for s in &spec.states {
        for name in s.outcomes.keys() {
            if !outcomes.contains(name) {
                outcomes.push(name.clone());
            }
        }
    }
    let mut states = Vec::with_capacity(spec.states.len());
    for (i, s) in spec.states.iter().enumerate() {
        let path = format!("states[{i}]");
        let costs = c.by_payer(&s.costs, &format!("{path}.costs"))?;
        let entry_costs = c.by_payer(&s.entry_costs, &format!("{path}.entry_costs"))?;
        let mut weights = vec![Value::Const(0.0); outcomes.len()];
        for (name, q) in &s.outcomes {
            check_id(name, &format!("{path}.outcomes.{name}"))?;
            let k = outcomes.iter().position(|o| o == name).unwrap_or_default();
            weights[k] = c.value(q, &format!("{path}.outcomes.{name}"), Kind::Real)?;
        }
        states.push(State {
            id: s.id.clone(),
            name: s.name.clone().unwrap_or_else(|| s.id.clone()),
            costs,
            entry_costs,
            outcomes: weights,
            absorbing: s.absorbing,
        });
    }

    let horizon = (header.start_age, header.end_age);
    let bands = c.transitions(&spec, &states, horizon)?;

    if spec.population.is_empty() {
        return err("population", "is empty; expected at least one [[population]] group");
    }
    let mut groups = Vec::new();
    for (g, group) in spec.population.iter().enumerate() {
        let path = format!("population[{g}]");
        if !(group.size.is_finite() && group.size > 0.0) {
            return err(
                format!("{path}.size"),
                format!("is {}; expected a number of children > 0", group.size),
            );
        }
        let start_age = group.start_age.unwrap_or(header.start_age);
        if start_age < horizon.0 || start_age >= horizon.1 {
            return err(
                format!("{path}.start_age"),
                format!(
                    "is {start_age}; expected an age in [{}, {}) (scenario.start_age..end_age)",
                    horizon.0, horizon.1
                ),
            );
        }
        let mut start = vec![0.0; states.len()];
        for (id, &share) in &group.start {
            let p = format!("{path}.start.{id}");
            let k = c.state(id, &p)?;
            if !(share.is_finite() && (0.0..=1.0).contains(&share)) {
                return err(p, format!("is {share}; expected a share in [0, 1]"));
            }
            start[k] = share;
        }
        let total: f64 = start.iter().sum();
        if (total - 1.0).abs() > 1e-9 {
            return err(format!("{path}.start"), format!("shares sum to {total}; expected 1"));
        }
        groups.push(Group {
            name: group.name.clone().unwrap_or_else(|| format!("group {}", g + 1)),
            size: group.size,
            start_age,
            start,
        });
    }
    let population: f64 = groups.iter().map(|g| g.size).sum();

    let mut interventions = Vec::new();
    for (k, iv) in spec.interventions.iter().enumerate() {
        let path = format!("interventions[{k}]");
        check_id(&iv.id, &format!("{path}.id"))?;
        if iv.id == crate::STATUS_QUO {
            return err(
                format!("{path}.id"),
                "is `status_quo`, the name of the arm without intervention; expected another id",
            );
        }
        if interventions.iter().any(|o: &Intervention| o.id == iv.id) {
            return err(
                format!("{path}.id"),
                format!("`{}` is used by two interventions; expected unique ids", iv.id),
            );
        }
        interventions.push(c.intervention(iv, &path, &states, horizon, population, header.price_year)?);
    }

    let mut history = Vec::with_capacity(spec.history.len());
    for (h, rule) in spec.history.iter().enumerate() {
        history.push(c.history_rule(rule, &format!("history[{h}]"), &states)?);
    }
    let correlations = c.correlations(&spec.correlations)?;

    let adjustments = adjustments(spec.adjustments.as_ref())?;

    Ok(Scenario {
        adjustments,
        toml_source: None,
        layout: std::sync::OnceLock::new(),
        history,
        correlations,
        payers,
        parameters: c.parameters,
        states,
        outcomes,
        bands,
        groups,
        interventions,
        discounting,
        spec,
    })
}

fn check_id(id: &str, path: &str) -> Check<()> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-')
        && !id.starts_with('-');
    if ok {
        Ok(())
    } else {
        err(
            path,
            format!("`{id}` is not a valid id; expected 1–64 ASCII letters, digits, `_` or `-`"),
        )
    }
}

impl Checker {
    fn by_payer(&mut self, costs: &IndexMap<String, Quantity>, path: &str) -> Check<Vec<Value>> {
        let mut out = vec![Value::Const(0.0); self.payer_index.len()];
        for (payer, q) in costs {
            let p = format!("{path}.{payer}");
            let Some(&k) = self.payer_index.get(payer) else {
                return err(
                    p,
                    format!("`{payer}` is not a payer; expected one of: {}", self.known_payers()),
                );
            };
            out[k] = self.value(q, &p, Kind::Cost)?;
        }
        Ok(out)
    }

    fn known_payers(&self) -> String {
        let mut v: Vec<(&String, &usize)> = self.payer_index.iter().collect();
        v.sort_by_key(|(_, i)| **i);
        v.into_iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>().join(", ")
    }

    fn state(&self, id: &str, path: &str) -> Check<usize> {
        match self.state_index.get(id) {
            Some(&k) => Ok(k),
            None => {
                let mut v: Vec<(&String, &usize)> = self.state_index.iter().collect();
                v.sort_by_key(|(_, i)| **i);
                let known = v.into_iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>().join(", ");
                err(path, format!("`{id}` is not a state; expected one of: {known}"))
            }
        }
    }

    fn transitions(&mut self, spec: &ScenarioSpec, states: &[State], horizon: (u32, u32)) -> Check<Vec<Band>> {
        let mut bands: Vec<Band> = Vec::new();
        for (i, t) in spec.transitions.iter().enumerate() {
            let path = format!("transitions[{i}]");
            let from = self.state(&t.from, &format!("{path}.from"))?;
            if states[from].absorbing {
                return err(
                    format!("{path}.from"),
                    format!("`{}` is absorbing; expected no transitions out of it", t.from),
                );
            }
            let ages = match t.ages {
                Some([a, b]) if a < b => (a, b),
                Some([a, b]) => {
                    return err(
                        format!("{path}.ages"),
                        format!("is [{a}, {b}]; expected [from, to) with from < to"),
                    );
                }
                None => horizon,
            };
            let mut to = Vec::with_capacity(t.to.len());
            for (target, q) in &t.to {
                let p = format!("{path}.to.{target}");
                let j = self.state(target, &p)?;
                if j == from {
                    return err(
                        p,
                        "is a move into the state itself; expected only moves out (the remainder stays)",
                    );
                }
                to.push((j, self.value(q, &p, Kind::Probability)?));
            }
            let base = self.base_values();
            let total: f64 = to.iter().map(|(_, v)| v.get(&base)).sum();
            if total > 1.0 + 1e-12 {
                return err(
                    format!("{path}.to"),
                    format!(
                        "probabilities out of `{}` at ages {}–{} sum to {total}; expected at most 1",
                        t.from, ages.0, ages.1
                    ),
                );
            }
            bands.push(Band { from, ages, to, path });
        }
        // Each state with transitions needs bands that tile the horizon.
        for (s, state) in states.iter().enumerate() {
            let mut own: Vec<&Band> = bands.iter().filter(|b| b.from == s).collect();
            if own.is_empty() {
                continue;
            }
            own.sort_by_key(|b| b.ages.0);
            for pair in own.windows(2) {
                if pair[1].ages.0 < pair[0].ages.1 {
                    return err(
                        format!("{}.ages", pair[1].path),
                        format!(
                            "is [{}, {}], overlapping [{}, {}] of {} for `{}`; expected age bands that do not overlap",
                            pair[1].ages.0, pair[1].ages.1, pair[0].ages.0, pair[0].ages.1, pair[0].path, state.id
                        ),
                    );
                }
            }
            let mut covered = horizon.0;
            for b in &own {
                if b.ages.1 <= covered {
                    continue;
                }
                if b.ages.0 > covered {
                    return err(
                        format!("{}.ages", b.path),
                        format!(
                            "is [{}, {}], leaving ages {covered}–{} without transitions for `{}`; expected bands covering {}–{}",
                            b.ages.0, b.ages.1, b.ages.0, state.id, horizon.0, horizon.1
                        ),
                    );
                }
                covered = b.ages.1;
            }
            if covered < horizon.1 {
                let last = own.last().map(|b| b.path.clone()).unwrap_or_default();
                return err(
                    format!("{last}.ages"),
                    format!(
                        "bands for `{}` end at age {covered}; expected bands covering {}–{} (scenario.start_age..end_age)",
                        state.id, horizon.0, horizon.1
                    ),
                );
            }
        }
        Ok(bands)
    }

    fn intervention(
        &mut self,
        iv: &InterventionSpec,
        path: &str,
        states: &[State],
        horizon: (u32, u32),
        population: f64,
        price_year: i32,
    ) -> Check<Intervention> {
        let mut enrol_states = vec![false; states.len()];
        if iv.enrol.states.is_empty() {
            return err(
                format!("{path}.enrol.states"),
                "is empty; expected the states whose children are enrolled",
            );
        }
        for (i, id) in iv.enrol.states.iter().enumerate() {
            enrol_states[self.state(id, &format!("{path}.enrol.states[{i}]"))?] = true;
        }
        let uptake = self.value(&iv.enrol.uptake, &format!("{path}.enrol.uptake"), Kind::Probability)?;
        let enrol_ages = match iv.enrol.ages {
            None => None,
            Some([a, b]) if a < b && a >= horizon.0 && b <= horizon.1 => Some((a, b)),
            Some([a, b]) => {
                return err(
                    format!("{path}.enrol.ages"),
                    format!(
                        "is [{a}, {b}]; expected [from, to) with from < to within {}–{}",
                        horizon.0, horizon.1
                    ),
                );
            }
        };

        let program = match &iv.program {
            Some(p) => {
                if p.years == 0 || p.years > MAX_PROGRAM_YEARS {
                    return err(
                        format!("{path}.program.years"),
                        format!("is {}; expected 1–{MAX_PROGRAM_YEARS} program years", p.years),
                    );
                }
                let children_per_year = p.children_per_year.unwrap_or(population);
                if !(children_per_year.is_finite() && children_per_year > 0.0) {
                    return err(
                        format!("{path}.program.children_per_year"),
                        format!("is {children_per_year}; expected a number of children > 0"),
                    );
                }
                Program {
                    years: p.years,
                    children_per_year,
                    fixed_costs: self.by_payer(&p.fixed_costs, &format!("{path}.program.fixed_costs"))?,
                    start_year: match p.start_year {
                        None => price_year,
                        Some(y) if (1800..=2200).contains(&y) => y,
                        Some(y) => {
                            return err(
                                format!("{path}.program.start_year"),
                                format!("is {y}; expected a calendar year"),
                            );
                        }
                    },
                }
            }
            None => Program {
                years: 1,
                children_per_year: population,
                fixed_costs: vec![Value::Const(0.0); self.payer_index.len()],
                start_year: price_year,
            },
        };

        let (once_costs, yearly_costs, cost_years) = match &iv.participant_costs {
            Some(pc) => {
                if pc.years == 0 || pc.years > MAX_HORIZON {
                    return err(
                        format!("{path}.participant_costs.years"),
                        format!("is {}; expected 1–{MAX_HORIZON} years", pc.years),
                    );
                }
                (
                    self.by_payer(&pc.once, &format!("{path}.participant_costs.once"))?,
                    self.by_payer(&pc.per_year, &format!("{path}.participant_costs.per_year"))?,
                    pc.years,
                )
            }
            None => {
                let zero = vec![Value::Const(0.0); self.payer_index.len()];
                (zero.clone(), zero, 1)
            }
        };

        let mut effects = Vec::new();
        for (e, effect) in iv.effects.iter().enumerate() {
            effects.push(self.effect(effect, &format!("{path}.effects[{e}]"), states)?);
        }

        Ok(Intervention {
            id: iv.id.clone(),
            name: iv.name.clone().unwrap_or_else(|| iv.id.clone()),
            enrol_states,
            uptake,
            enrol_ages,
            program,
            once_costs,
            yearly_costs,
            cost_years,
            effects,
        })
    }

    fn effect(&mut self, e: &EffectSpec, path: &str, states: &[State]) -> Check<Effect> {
        let from = self.state(&e.from, &format!("{path}.from"))?;
        if states[from].absorbing {
            return err(
                format!("{path}.from"),
                format!("`{}` is absorbing; expected a state with moves out", e.from),
            );
        }
        let to = self.state_list(e.to.as_slice(), &e.to, &format!("{path}.to"))?;
        if to.is_empty() {
            return err(
                format!("{path}.to"),
                "is empty; expected the states whose entry the effect changes",
            );
        }
        if to.contains(&from) {
            return err(
                format!("{path}.to"),
                format!(
                    "contains `{}`, the state the effect starts from; expected destinations",
                    e.from
                ),
            );
        }
        let (kind, value) = self.measure(
            [&e.hazard_ratio, &e.relative_risk, &e.odds_ratio, &e.effect_size_d],
            path,
        )?;
        let duration = match e.duration {
            None => f64::INFINITY,
            Some(d) if d.is_finite() && d >= 0.0 => d,
            Some(d) => return err(format!("{path}.duration"), format!("is {d}; expected years ≥ 0")),
        };
        let half_life = match e.half_life {
            None => None,
            Some(h) if h.is_finite() && h > 0.0 => Some(h),
            Some(h) => return err(format!("{path}.half_life"), format!("is {h}; expected years > 0")),
        };
        Ok(Effect {
            from,
            to,
            kind,
            value,
            duration,
            half_life,
            path: path.to_owned(),
        })
    }

    /// The one effect measure given among hazard_ratio, relative_risk, odds_ratio, effect_size_d.
    fn measure(&mut self, given: [&Option<Quantity>; 4], path: &str) -> Check<(EffectKind, Value)> {
        let kinds = [
            EffectKind::HazardRatio,
            EffectKind::RelativeRisk,
            EffectKind::OddsRatio,
            EffectKind::EffectSizeD,
        ];
        let present: Vec<(EffectKind, &Quantity)> = kinds
            .into_iter()
            .zip(given)
            .filter_map(|(k, q)| q.as_ref().map(|q| (k, q)))
            .collect();
        let [(kind, q)] = present.as_slice() else {
            return err(
                path,
                format!(
                    "gives {} effect measures; expected exactly one of hazard_ratio, relative_risk, odds_ratio, effect_size_d",
                    present.len()
                ),
            );
        };
        let value_kind = if *kind == EffectKind::EffectSizeD {
            Kind::EffectSize
        } else {
            Kind::Ratio
        };
        Ok((*kind, self.value(q, &format!("{path}.{}", kind.as_str()), value_kind)?))
    }

    fn history_rule(&mut self, h: &HistorySpec, path: &str, states: &[State]) -> Check<HistoryRule> {
        let to = self.state_list(h.to.as_slice(), &h.to, &format!("{path}.to"))?;
        if to.is_empty() {
            return err(
                format!("{path}.to"),
                "is empty; expected the states whose entry the rule changes",
            );
        }
        let from = match &h.from {
            Some(list) => {
                let from = self.state_list(list.as_slice(), list, &format!("{path}.from"))?;
                for (&s, id) in from.iter().zip(list.as_slice()) {
                    if states[s].absorbing {
                        return err(
                            format!("{path}.from"),
                            format!("`{id}` is absorbing; expected states with moves out"),
                        );
                    }
                }
                from
            }
            None => (0..states.len())
                .filter(|&s| !states[s].absorbing && !to.contains(&s))
                .collect(),
        };
        if let Some(&s) = from.iter().find(|s| to.contains(s)) {
            return err(
                format!("{path}.to"),
                format!(
                    "`{}` is both a source and a destination; expected moves out of `from` only",
                    states[s].id
                ),
            );
        }
        let condition = match (&h.ever_in, h.min_years_in_state) {
            (Some(id), None) => HistoryCondition::EverIn(self.state(id, &format!("{path}.ever_in"))?),
            (None, Some(years)) if years > 0 => HistoryCondition::MinYearsInState(years),
            (None, Some(_)) => return err(format!("{path}.min_years_in_state"), "is 0; expected at least 1 year"),
            _ => {
                return err(
                    path,
                    "expected exactly one condition: ever_in = \"state\" or min_years_in_state = years",
                );
            }
        };
        let (kind, value) = self.measure(
            [&h.hazard_ratio, &h.relative_risk, &h.odds_ratio, &h.effect_size_d],
            path,
        )?;
        Ok(HistoryRule {
            from,
            to,
            condition,
            kind,
            value,
            path: path.to_owned(),
        })
    }

    fn state_list(&self, ids: &[String], written: &OneOrMany, path: &str) -> Check<Vec<usize>> {
        ids.iter()
            .enumerate()
            .map(|(i, id)| {
                let p = if matches!(written, OneOrMany::One(_)) {
                    path.to_owned()
                } else {
                    format!("{path}[{i}]")
                };
                self.state(id, &p)
            })
            .collect()
    }

    fn correlations(&self, specs: &[CorrelationSpec]) -> Check<Vec<Correlation>> {
        let mut seen: HashMap<usize, usize> = HashMap::new();
        let mut out = Vec::with_capacity(specs.len());
        for (k, c) in specs.iter().enumerate() {
            let path = format!("correlations[{k}]");
            let mut params = Vec::with_capacity(c.parameters.len());
            for (i, name) in c.parameters.iter().enumerate() {
                let p = format!("{path}.parameters[{i}]");
                let Some(&id) = self.names.get(name.trim_start_matches('$')) else {
                    return err(
                        p,
                        format!("`{name}` is not defined; expected the name of a [parameters] entry"),
                    );
                };
                if !self.parameters[id.0].distribution.is_uncertain() {
                    return err(
                        p,
                        format!("`{name}` is a fixed value; expected a parameter with a distribution"),
                    );
                }
                if params.contains(&id.0) {
                    return err(p, format!("`{name}` appears twice; expected distinct parameters"));
                }
                if let Some(other) = seen.insert(id.0, k) {
                    return err(
                        p,
                        format!("`{name}` is already in correlations[{other}]; expected each parameter in one block"),
                    );
                }
                params.push(id.0);
            }
            let n = params.len();
            if n < 2 {
                return err(
                    format!("{path}.parameters"),
                    format!("has {n} parameter(s); expected at least 2"),
                );
            }
            let matrix = match (c.rho, &c.matrix) {
                (Some(rho), None) if n == 2 => {
                    if !(rho.is_finite() && (-1.0..=1.0).contains(&rho)) {
                        return err(
                            format!("{path}.rho"),
                            format!("is {rho}; expected a correlation in [-1, 1]"),
                        );
                    }
                    nalgebra::DMatrix::from_row_slice(2, 2, &[1.0, rho, rho, 1.0])
                }
                (None, Some(rows)) => {
                    if rows.len() != n || rows.iter().any(|r| r.len() != n) {
                        return err(
                            format!("{path}.matrix"),
                            format!("is not {n} × {n}; expected one row and column per parameter"),
                        );
                    }
                    nalgebra::DMatrix::from_fn(n, n, |i, j| rows[i][j])
                }
                _ => {
                    return err(path, "expected `rho` for a pair of parameters, or `matrix` for several");
                }
            };
            out.push(Correlation::new(params, matrix).map_err(|m| ScenarioError::new(path.clone(), m))?);
        }
        Ok(out)
    }

    fn base_values(&self) -> Vec<f64> {
        self.parameters.iter().map(Parameter::mean).collect()
    }
}
