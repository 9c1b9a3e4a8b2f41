//! Checking the numbers of a scenario: parameters, distributions, what a
//! number may stand for, discount rates, price indices and adjustments.

use std::collections::HashMap;

use indexmap::IndexMap;

use super::{Check, Checker, check_id, err};
use crate::economics::DiscountRate;
use crate::error::ScenarioError;
use crate::param::{Distribution, ParamId, Parameter, ParameterSpec, Quantity, Scalar, Value};
use crate::scenario::price_index::{self, PriceIndex};
use crate::scenario::spec::{AdjustmentsSpec, PriceIndexSpec, RateSpec};
use crate::scenario::{Adjustments, Sroi};

/// What a number stands for, and so which values it may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Probability,
    Cost,
    Ratio,
    /// A standardised mean difference: its value (or mean) within ±[`MAX_EFFECT_SIZE`].
    EffectSize,
    Real,
}

impl Kind {
    pub(super) fn admits(self, lo: f64, hi: f64) -> bool {
        match self {
            Kind::Probability => lo >= 0.0 && hi <= 1.0,
            Kind::Cost => lo >= 0.0 && (lo < hi || lo <= MAX_AMOUNT),
            Kind::Ratio => lo >= 0.0,
            Kind::EffectSize => lo < hi || lo.abs() <= MAX_EFFECT_SIZE,
            Kind::Real => true,
        }
    }

    pub(super) fn expected(self) -> &'static str {
        match self {
            Kind::Probability => {
                "a probability in [0, 1] (a number, or a beta, uniform, triangular or PERT within [0, 1])"
            }
            Kind::Cost => {
                "an amount ≥ 0 and at most 1e13 (a number, or a gamma, lognormal, or a bounded distribution within [0, ∞) with its mean there)"
            }
            Kind::Ratio => "a ratio ≥ 0 (a number, or a lognormal, gamma, or a bounded distribution within [0, ∞))",
            Kind::EffectSize => "an effect size d with |d| ≤ 5 (a number, or a distribution with its mean there)",
            Kind::Real => "a finite number or distribution",
        }
    }
}

/// Largest |d| accepted: an odds ratio of exp(1.65·5) ≈ 3 800 is far beyond any evaluation.
pub const MAX_EFFECT_SIZE: f64 = 5.0;

/// Largest amount accepted (value or mean): ten trillion, far above any
/// public budget, so that sums over a lifetime and a program stay finite.
pub const MAX_AMOUNT: f64 = 1e13;

pub(super) fn adjustments(spec: Option<&AdjustmentsSpec>) -> Check<Adjustments> {
    let Some(a) = spec else {
        return Ok(Adjustments::default());
    };
    let share = |key: &str, v: Option<f64>| -> Check<Option<f64>> {
        match v {
            Some(x) if !(x.is_finite() && (0.0..=1.0).contains(&x)) => err(
                format!("adjustments.{key}"),
                format!("is {x}; expected a share in [0, 1]"),
            ),
            other => Ok(other),
        }
    };
    let tax_factor = match a.tax_factor {
        Some(f) if !(f.is_finite() && (0.0..=10.0).contains(&f)) => {
            return err(
                "adjustments.tax_factor",
                format!("is {f}; expected a factor in [0, 10], e.g. 0.2"),
            );
        }
        other => other,
    };
    let (attribution, deadweight, drop_off) = (
        share("attribution", a.attribution)?,
        share("deadweight", a.deadweight)?,
        share("drop_off", a.drop_off)?,
    );
    let sroi = (attribution.is_some() || deadweight.is_some() || drop_off.is_some()).then(|| Sroi {
        attribution: attribution.unwrap_or(1.0),
        deadweight: deadweight.unwrap_or(0.0),
        drop_off: drop_off.unwrap_or(0.0),
    });
    Ok(Adjustments { tax_factor, sroi })
}

pub(super) fn price_index(spec: Option<&PriceIndexSpec>) -> Check<Option<PriceIndex>> {
    let Some(spec) = spec else { return Ok(None) };
    let mut index = match &spec.name {
        Some(name) => PriceIndex::shipped(name).ok_or_else(|| {
            ScenarioError::new(
                "price_index.name",
                format!(
                    "`{name}` is not a shipped price index; expected one of: {}",
                    price_index::SHIPPED.join(", ")
                ),
            )
        })?,
        None => PriceIndex::new("price_index", Default::default()),
    };
    let mut levels = Vec::with_capacity(spec.levels.len());
    for (year, &level) in &spec.levels {
        let path = format!("price_index.levels.{year}");
        let Ok(y) = year.parse::<i32>() else {
            return err(path, format!("`{year}` is not a year; expected keys such as \"2021\""));
        };
        if !(level.is_finite() && level > 0.0) {
            return err(path, format!("is {level}; expected an index level > 0"));
        }
        levels.push((y, level));
    }
    index.extend(levels);
    Ok(Some(index))
}

pub(super) fn rate(spec: &RateSpec, path: &str) -> Check<DiscountRate> {
    let check_one = |r: f64, p: &str| -> Check<f64> {
        if r.is_finite() && (0.0..1.0).contains(&r) {
            Ok(r)
        } else {
            err(p, format!("is {r}; expected an annual rate in [0, 1), e.g. 0.035"))
        }
    };
    match spec {
        RateSpec::Constant(r) => Ok(DiscountRate::constant(check_one(*r, path)?)),
        RateSpec::Schedule(steps) => {
            if steps.is_empty() {
                return err(
                    path,
                    "is an empty schedule; expected [{ from_year = 0, rate = 0.035 }, …]",
                );
            }
            let mut out = Vec::with_capacity(steps.len());
            for (i, s) in steps.iter().enumerate() {
                let p = format!("{path}[{i}]");
                let r = check_one(s.rate, &format!("{p}.rate"))?;
                let expected_first = i == 0 && s.from_year != 0.0;
                let not_increasing = i > 0 && s.from_year <= steps[i - 1].from_year;
                if !s.from_year.is_finite() || expected_first || not_increasing {
                    return err(
                        format!("{p}.from_year"),
                        format!(
                            "is {}; expected 0 for the first step and increasing years after it",
                            s.from_year
                        ),
                    );
                }
                out.push((s.from_year, r));
            }
            Ok(DiscountRate::schedule(out))
        }
    }
}

fn has_distribution(spec: &ParameterSpec) -> bool {
    spec.beta.is_some()
        || spec.gamma.is_some()
        || spec.lognormal.is_some()
        || spec.normal.is_some()
        || spec.uniform.is_some()
        || spec.triangular.is_some()
        || spec.pert.is_some()
}

fn distribution(spec: &ParameterSpec, path: &str) -> Check<Distribution> {
    let kinds = [
        ("beta", &spec.beta),
        ("gamma", &spec.gamma),
        ("lognormal", &spec.lognormal),
        ("normal", &spec.normal),
        ("uniform", &spec.uniform),
        ("triangular", &spec.triangular),
        ("pert", &spec.pert),
    ];
    let dists: Vec<(&str, &crate::param::DistArgs)> = kinds
        .into_iter()
        .filter_map(|(k, a)| a.as_ref().map(|a| (k, a)))
        .collect();
    match (&spec.value, dists.as_slice()) {
        (Some(Scalar::Number(x)), []) => {
            if x.is_finite() {
                Ok(Distribution::Fixed(*x))
            } else {
                err(format!("{path}.value"), format!("is {x}; expected a finite number"))
            }
        }
        (None, [(kind, args)]) => {
            Distribution::from_spec(kind, args).map_err(|m| ScenarioError::new(format!("{path}.{kind}"), m))
        }
        (Some(Scalar::Reference(_)), []) => err(
            format!("{path}.value"),
            "is a reference inside an inline table; expected a number, or the reference written directly",
        ),
        _ => err(
            path,
            format!(
                "gives {} of value and distributions; expected exactly one of value, beta, gamma, lognormal, normal, uniform, triangular, pert",
                usize::from(spec.value.is_some()) + dists.len()
            ),
        ),
    }
}

fn describe(d: &Distribution) -> String {
    match *d {
        Distribution::Fixed(x) => format!("fixed {x}"),
        Distribution::Beta { alpha, beta } => format!("beta α={alpha:.4}, β={beta:.4}"),
        Distribution::Gamma { shape, scale } => format!("gamma shape {shape:.4}, scale {scale:.4}"),
        Distribution::LogNormal { mu, sigma } => format!("lognormal μ={mu:.4}, σ={sigma:.4}"),
        Distribution::Normal { mean, sd } => format!("normal mean {mean}, sd {sd}"),
        Distribution::Uniform { min, max } => format!("uniform {min}–{max}"),
        Distribution::Triangular { min, mode, max } => format!("triangular {min}/{mode}/{max}"),
        Distribution::Pert { min, mode, max } => format!("PERT {min}/{mode}/{max}"),
    }
}

impl Checker {
    pub(super) fn named_parameters(&mut self, specs: &IndexMap<String, Quantity>) -> Check<()> {
        let mut aliases: Vec<(&str, &str)> = Vec::new();
        for (name, q) in specs {
            let path = format!("parameters.{name}");
            check_id(name, &path)?;
            match q {
                Quantity::Number(x) => {
                    let spec = ParameterSpec {
                        value: Some(Scalar::Number(*x)),
                        ..ParameterSpec::default()
                    };
                    self.push_parameter(name, true, &spec, &path)?;
                }
                Quantity::Reference(target) => aliases.push((name, target)),
                Quantity::Table(spec) => match &spec.value {
                    Some(Scalar::Reference(target)) => {
                        if has_distribution(spec) {
                            return err(
                                format!("{path}.value"),
                                "is a reference next to a distribution; expected one or the other",
                            );
                        }
                        aliases.push((name, target));
                    }
                    _ => {
                        self.push_parameter(name, true, spec, &path)?;
                    }
                },
            }
        }
        // Follow each alias to a parameter with a value, refusing unknown names and cycles.
        let alias_of: HashMap<&str, &str> = aliases.iter().copied().collect();
        for &(name, _) in &aliases {
            let mut chain = vec![name];
            let mut at = name;
            let id = loop {
                let target = alias_of[at];
                if let Some(&id) = self.names.get(target) {
                    break id;
                }
                if chain.contains(&target) {
                    chain.push(target);
                    return err(
                        format!("parameters.{name}"),
                        format!(
                            "refers to itself through {}; expected a chain ending in a value",
                            chain.join(" → ")
                        ),
                    );
                }
                if !alias_of.contains_key(target) {
                    return err(
                        format!("parameters.{at}"),
                        format!(
                            "refers to `${target}`, which is not defined; expected the name of a [parameters] entry"
                        ),
                    );
                }
                chain.push(target);
                at = target;
            };
            self.names.insert(name.to_owned(), id);
        }
        Ok(())
    }

    fn push_parameter(&mut self, name: &str, named: bool, spec: &ParameterSpec, path: &str) -> Check<ParamId> {
        let distribution = distribution(spec, path)?;
        if let (Some(lo), Some(hi)) = (spec.low, spec.high)
            && lo > hi
        {
            return err(
                format!("{path}.low"),
                format!("is {lo}, above high {hi}; expected low ≤ high"),
            );
        }
        for (key, v) in [("low", spec.low), ("high", spec.high)] {
            if let Some(v) = v
                && !v.is_finite()
            {
                return err(format!("{path}.{key}"), format!("is {v}; expected a finite number"));
            }
        }
        if let Some(y) = spec.price_year
            && !(1800..=2200).contains(&y)
        {
            return err(
                format!("{path}.price_year"),
                format!("is {y}; expected a calendar year"),
            );
        }
        let truncate = match spec.truncate {
            None => None,
            Some([lo, hi]) => {
                let (dlo, dhi) = distribution.support();
                let valid =
                    !lo.is_nan() && !hi.is_nan() && lo < hi && lo < dhi && hi > dlo && distribution.is_uncertain();
                if !valid {
                    return err(
                        format!("{path}.truncate"),
                        format!(
                            "is [{lo}, {hi}]; expected bounds lo < hi that overlap the distribution's support [{dlo}, {dhi}]"
                        ),
                    );
                }
                Some((lo.max(dlo), hi.min(dhi)))
            }
        };
        let (distribution, truncate, low, high, price_factor) = match spec.price_year {
            Some(year) if year != self.price_year => {
                let f = self.price_factor(year, path)?;
                let Some(d) = distribution.scaled(f) else {
                    return err(
                        format!("{path}.price_year"),
                        format!("is {year} on a beta distribution; expected a price year only on amounts"),
                    );
                };
                let scale = |x: Option<f64>| x.map(|v| v * f);
                (
                    d,
                    truncate.map(|(lo, hi)| (lo * f, hi * f)),
                    scale(spec.low),
                    scale(spec.high),
                    f,
                )
            }
            _ => (distribution, truncate, spec.low, spec.high, 1.0),
        };
        let id = ParamId(self.parameters.len());
        self.parameters.push(Parameter {
            name: name.to_owned(),
            named,
            distribution,
            truncate,
            price_factor,
            unit: spec.unit.clone(),
            price_year: spec.price_year,
            source: spec.source.clone(),
            confidence: spec.confidence,
            note: spec.note.clone(),
            low,
            high,
        });
        if named {
            self.names.insert(name.to_owned(), id);
        }
        Ok(id)
    }

    /// The factor from `year`'s prices to the scenario's, by the price index.
    fn price_factor(&self, year: i32, path: &str) -> Check<f64> {
        let Some(index) = &self.price_index else {
            return err(
                format!("{path}.price_year"),
                format!(
                    "is {year}, but the scenario's price_year is {} and there is no [price_index] to convert it; expected {} or a [price_index] such as name = \"kpi_sweden\"",
                    self.price_year, self.price_year
                ),
            );
        };
        match index.factor(year, self.price_year) {
            Some(f) => Ok(f),
            None => {
                let missing = if index.level(year).is_none() {
                    year
                } else {
                    self.price_year
                };
                err(
                    format!("{path}.price_year"),
                    format!(
                        "is {year}, but the price index `{}` has no level for {missing}; expected a year it covers ({}, gaps included) or a level added under [price_index.levels]",
                        index.name,
                        index.span()
                    ),
                )
            }
        }
    }

    /// Resolves a written number and checks it can stand for `kind`.
    pub(super) fn value(&mut self, q: &Quantity, path: &str, kind: Kind) -> Check<Value> {
        let id = match q {
            Quantity::Number(x) => {
                if x.is_finite() && kind.admits(*x, *x) {
                    return Ok(Value::Const(*x));
                }
                return err(path, format!("is {x}; expected {}", kind.expected()));
            }
            Quantity::Reference(name) => match self.names.get(name) {
                Some(&id) => id,
                None => {
                    return err(
                        path,
                        format!("refers to `${name}`, which is not defined; expected the name of a [parameters] entry"),
                    );
                }
            },
            Quantity::Table(spec) => {
                if let Some(Scalar::Reference(_)) = spec.value {
                    return err(
                        format!("{path}.value"),
                        "is a reference inside an inline table; expected a number, or the reference written directly",
                    );
                }
                self.push_parameter(path, false, spec, path)?
            }
        };
        let d = &self.parameters[id.0].distribution;
        let (lo, hi) = self.parameters[id.0].support();
        if !kind.admits(lo, hi) {
            let shown = match q {
                Quantity::Reference(name) => format!("`${name}`"),
                _ => "the distribution".to_owned(),
            };
            return err(
                path,
                format!(
                    "{shown} ({}) can take values in [{lo}, {hi}]; expected {}",
                    describe(d),
                    kind.expected()
                ),
            );
        }
        let mean = self.parameters[id.0].mean();
        let too_large = match kind {
            Kind::EffectSize => mean.abs() > MAX_EFFECT_SIZE,
            Kind::Cost => mean > MAX_AMOUNT,
            _ => false,
        };
        if too_large {
            return err(path, format!("has mean {mean}; expected {}", kind.expected()));
        }
        Ok(Value::Param(id))
    }
}
