//! Parameters: the numbers of a scenario, fixed or uncertain.
//!
//! Every number a scenario writes becomes a [`Parameter`] (named ones from
//! `[parameters]`, anonymous ones from inline tables) or a plain constant.
//! A set of values for all parameters is one *draw*; the base case is the
//! draw in which every parameter takes its [`Distribution::mean`].

mod correlation;
mod sample;
mod spec;

pub use correlation::Correlation;
pub use sample::sample_all;
pub use spec::{Confidence, DistArgs, ParameterSpec, Quantity, Scalar};

/// 97.5th percentile of the standard normal: the half-width of a 95 % interval in SDs.
const Z975: f64 = 1.959_963_984_540_054;

/// A checked probability distribution (or a fixed value).
///
/// Built only through [`Distribution::from_spec`], which rejects impossible
/// parameters, so every method here is total.
#[derive(Clone, Debug, PartialEq)]
pub enum Distribution {
    Fixed(f64),
    Beta { alpha: f64, beta: f64 },
    Gamma { shape: f64, scale: f64 },
    LogNormal { mu: f64, sigma: f64 },
    Normal { mean: f64, sd: f64 },
    Uniform { min: f64, max: f64 },
    Triangular { min: f64, mode: f64, max: f64 },
    Pert { min: f64, mode: f64, max: f64 },
}

impl Distribution {
    /// The expected value; the base case uses it.
    pub fn mean(&self) -> f64 {
        match *self {
            Distribution::Fixed(x) => x,
            Distribution::Beta { alpha, beta } => alpha / (alpha + beta),
            Distribution::Gamma { shape, scale } => shape * scale,
            Distribution::LogNormal { mu, sigma } => (mu + 0.5 * sigma * sigma).exp(),
            Distribution::Normal { mean, .. } => mean,
            Distribution::Uniform { min, max } => 0.5 * (min + max),
            Distribution::Triangular { min, mode, max } => (min + mode + max) / 3.0,
            Distribution::Pert { min, mode, max } => (min + 4.0 * mode + max) / 6.0,
        }
    }

    /// Smallest and largest value the distribution can take.
    pub fn support(&self) -> (f64, f64) {
        match *self {
            Distribution::Fixed(x) => (x, x),
            Distribution::Beta { .. } => (0.0, 1.0),
            Distribution::Gamma { .. } | Distribution::LogNormal { .. } => (0.0, f64::INFINITY),
            Distribution::Normal { .. } => (f64::NEG_INFINITY, f64::INFINITY),
            Distribution::Uniform { min, max }
            | Distribution::Triangular { min, max, .. }
            | Distribution::Pert { min, max, .. } => (min, max),
        }
    }

    /// The distribution of `factor ·` a value (an amount converted to
    /// other prices); `None` for a beta, which is bounded to [0, 1].
    pub fn scaled(&self, factor: f64) -> Option<Distribution> {
        let f = factor;
        Some(match *self {
            Distribution::Fixed(x) => Distribution::Fixed(x * f),
            Distribution::Beta { .. } => return None,
            Distribution::Gamma { shape, scale } => Distribution::Gamma {
                shape,
                scale: scale * f,
            },
            Distribution::LogNormal { mu, sigma } => Distribution::LogNormal { mu: mu + f.ln(), sigma },
            Distribution::Normal { mean, sd } => Distribution::Normal {
                mean: mean * f,
                sd: sd * f,
            },
            Distribution::Uniform { min, max } => Distribution::Uniform {
                min: min * f,
                max: max * f,
            },
            Distribution::Triangular { min, mode, max } => Distribution::Triangular {
                min: min * f,
                mode: mode * f,
                max: max * f,
            },
            Distribution::Pert { min, mode, max } => Distribution::Pert {
                min: min * f,
                mode: mode * f,
                max: max * f,
            },
        })
    }

    /// Whether the value varies between draws.
    pub fn is_uncertain(&self) -> bool {
        !matches!(self, Distribution::Fixed(_))
    }

    /// Checks a written distribution and converts it to its natural parameters.
    ///
    /// # Errors
    ///
    /// A message saying what was expected when the arguments are missing,
    /// not finite, or impossible (e.g. a beta whose variance exceeds
    /// `mean·(1−mean)`).
    pub fn from_spec(kind: &str, a: &DistArgs) -> Result<Distribution, String> {
        let d = Self::from_args(kind, a)?;
        let mean = d.mean();
        let spread_ok = match d {
            Distribution::LogNormal { mu, sigma } => (mu + sigma * sigma).exp().is_finite(),
            _ => true,
        };
        if mean.is_finite() && spread_ok {
            Ok(d)
        } else {
            Err(format!(
                "{kind} with these arguments has no finite mean or variance; expected arguments of ordinary size"
            ))
        }
    }

    fn from_args(kind: &str, a: &DistArgs) -> Result<Distribution, String> {
        let given = given_keys(a);
        let forms = match kind {
            "beta" => Some((&["mean", "sd", "alpha", "beta"][..], "{ mean, sd } or { alpha, beta }")),
            "gamma" => Some((
                &["mean", "sd", "shape", "scale"][..],
                "{ mean, sd } or { shape, scale }",
            )),
            "lognormal" => Some((
                &["mean", "sd", "median", "ci95"][..],
                "{ mean, sd } or { median, ci95 }",
            )),
            "normal" => Some((&["mean", "sd"][..], "{ mean, sd }")),
            "uniform" => Some((&["min", "max"][..], "{ min, max }")),
            "triangular" | "pert" => Some((&["min", "mode", "max"][..], "{ min, mode, max }")),
            _ => None,
        };
        if let Some((allowed, form)) = forms
            && let Some(k) = given.iter().find(|k| !allowed.contains(k))
        {
            return Err(format!("`{k}` is not an argument of {kind}; expected {kind} = {form}"));
        }
        let only = |allowed: &[&str], form: &str| -> Result<(), String> {
            match given.iter().find(|k| !allowed.contains(k)) {
                Some(k) => Err(format!("`{k}` is not an argument of {kind}; expected {form}")),
                None => Ok(()),
            }
        };
        let finite = |name: &str, x: f64| -> Result<f64, String> {
            if x.is_finite() {
                Ok(x)
            } else {
                Err(format!("{kind}.{name} is {x}; expected a finite number"))
            }
        };
        let positive = |name: &str, x: f64| -> Result<f64, String> {
            if x.is_finite() && x > 0.0 {
                Ok(x)
            } else {
                Err(format!("{kind}.{name} is {x}; expected a finite number > 0"))
            }
        };
        match kind {
            "beta" => match (a.mean, a.sd, a.alpha, a.beta) {
                (Some(m), Some(s), None, None) => {
                    only(&["mean", "sd"], "{ mean, sd } or { alpha, beta }")?;
                    let (m, s) = (finite("mean", m)?, positive("sd", s)?);
                    if !(m > 0.0 && m < 1.0) {
                        return Err(format!("beta.mean is {m}; expected a number in (0, 1)"));
                    }
                    let var = s * s;
                    if var >= m * (1.0 - m) {
                        return Err(format!(
                            "beta with mean {m} and sd {s} is impossible; expected sd < sqrt(mean·(1−mean)) = {}",
                            (m * (1.0 - m)).sqrt()
                        ));
                    }
                    let k = m * (1.0 - m) / var - 1.0;
                    Ok(Distribution::Beta {
                        alpha: m * k,
                        beta: (1.0 - m) * k,
                    })
                }
                (None, None, Some(al), Some(be)) => {
                    only(&["alpha", "beta"], "{ mean, sd } or { alpha, beta }")?;
                    Ok(Distribution::Beta {
                        alpha: positive("alpha", al)?,
                        beta: positive("beta", be)?,
                    })
                }
                _ => Err("expected beta = { mean, sd } or beta = { alpha, beta }".to_owned()),
            },
            "gamma" => match (a.mean, a.sd, a.shape, a.scale) {
                (Some(m), Some(s), None, None) => {
                    only(&["mean", "sd"], "{ mean, sd } or { shape, scale }")?;
                    let (m, s) = (positive("mean", m)?, positive("sd", s)?);
                    Ok(Distribution::Gamma {
                        shape: (m / s).powi(2),
                        scale: s * s / m,
                    })
                }
                (None, None, Some(k), Some(th)) => {
                    only(&["shape", "scale"], "{ mean, sd } or { shape, scale }")?;
                    Ok(Distribution::Gamma {
                        shape: positive("shape", k)?,
                        scale: positive("scale", th)?,
                    })
                }
                _ => Err("expected gamma = { mean, sd } or gamma = { shape, scale }".to_owned()),
            },
            "lognormal" => match (a.mean, a.sd, a.median, a.ci95) {
                (Some(m), Some(s), None, None) => {
                    only(&["mean", "sd"], "{ mean, sd } or { median, ci95 }")?;
                    let (m, s) = (positive("mean", m)?, positive("sd", s)?);
                    let sigma2 = (1.0 + (s / m).powi(2)).ln();
                    Ok(Distribution::LogNormal {
                        mu: m.ln() - 0.5 * sigma2,
                        sigma: sigma2.sqrt(),
                    })
                }
                (None, None, Some(med), Some([lo, hi])) => {
                    only(&["median", "ci95"], "{ mean, sd } or { median, ci95 }")?;
                    let med = positive("median", med)?;
                    let (lo, hi) = (positive("ci95[0]", lo)?, positive("ci95[1]", hi)?);
                    if !(lo < med && med < hi) {
                        return Err(format!(
                            "lognormal ci95 [{lo}, {hi}] does not surround the median {med}; expected ci95[0] < median < ci95[1]"
                        ));
                    }
                    // The interval's width on the log scale fixes sigma; the median fixes mu.
                    let sigma = (hi / lo).ln() / (2.0 * Z975);
                    Ok(Distribution::LogNormal { mu: med.ln(), sigma })
                }
                _ => Err("expected lognormal = { mean, sd } or lognormal = { median, ci95 = [lo, hi] }".to_owned()),
            },
            "normal" => match (a.mean, a.sd) {
                (Some(m), Some(s)) => {
                    only(&["mean", "sd"], "{ mean, sd }")?;
                    Ok(Distribution::Normal {
                        mean: finite("mean", m)?,
                        sd: positive("sd", s)?,
                    })
                }
                _ => Err("expected normal = { mean, sd }".to_owned()),
            },
            "uniform" => match (a.min, a.max) {
                (Some(lo), Some(hi)) => {
                    only(&["min", "max"], "{ min, max }")?;
                    let (lo, hi) = (finite("min", lo)?, finite("max", hi)?);
                    if lo >= hi {
                        return Err(format!("uniform min {lo} is not below max {hi}; expected min < max"));
                    }
                    Ok(Distribution::Uniform { min: lo, max: hi })
                }
                _ => Err("expected uniform = { min, max }".to_owned()),
            },
            "triangular" | "pert" => match (a.min, a.mode, a.max) {
                (Some(lo), Some(mo), Some(hi)) => {
                    only(&["min", "mode", "max"], "{ min, mode, max }")?;
                    let (lo, mo, hi) = (finite("min", lo)?, finite("mode", mo)?, finite("max", hi)?);
                    if !(lo <= mo && mo <= hi && lo < hi) {
                        return Err(format!(
                            "{kind} min {lo}, mode {mo}, max {hi}; expected min ≤ mode ≤ max and min < max"
                        ));
                    }
                    Ok(if kind == "pert" {
                        Distribution::Pert {
                            min: lo,
                            mode: mo,
                            max: hi,
                        }
                    } else {
                        Distribution::Triangular {
                            min: lo,
                            mode: mo,
                            max: hi,
                        }
                    })
                }
                _ => Err(format!("expected {kind} = {{ min, mode, max }}")),
            },
            other => Err(format!("unknown distribution `{other}`")),
        }
    }
}

fn given_keys(a: &DistArgs) -> Vec<&'static str> {
    [
        ("mean", a.mean.is_some()),
        ("sd", a.sd.is_some()),
        ("alpha", a.alpha.is_some()),
        ("beta", a.beta.is_some()),
        ("shape", a.shape.is_some()),
        ("scale", a.scale.is_some()),
        ("median", a.median.is_some()),
        ("ci95", a.ci95.is_some()),
        ("min", a.min.is_some()),
        ("mode", a.mode.is_some()),
        ("max", a.max.is_some()),
    ]
    .into_iter()
    .filter_map(|(k, present)| present.then_some(k))
    .collect()
}

/// One parameter of a checked scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct Parameter {
    /// The `[parameters]` key, or the field path of an inline table.
    pub name: String,
    /// Whether it was declared in `[parameters]` (and so may be referenced).
    pub named: bool,
    pub distribution: Distribution,
    /// Draws are restricted to `[lo, hi]`.
    pub truncate: Option<(f64, f64)>,
    /// Factor that converted the written amount from its `price_year` to the
    /// scenario's (1 when no conversion was needed); the distribution,
    /// bounds and `low`/`high` are already converted.
    pub price_factor: f64,
    pub unit: Option<String>,
    pub price_year: Option<i32>,
    pub source: Option<String>,
    pub confidence: Option<Confidence>,
    pub note: Option<String>,
    pub low: Option<f64>,
    pub high: Option<f64>,
}

impl Parameter {
    /// An anonymous parameter with no provenance, for tests.
    #[cfg(test)]
    pub(crate) fn bare(distribution: Distribution, truncate: Option<(f64, f64)>) -> Parameter {
        Parameter {
            name: "p".to_owned(),
            named: true,
            distribution,
            truncate,
            price_factor: 1.0,
            unit: None,
            price_year: None,
            source: None,
            confidence: None,
            note: None,
            low: None,
            high: None,
        }
    }

    /// Smallest and largest value a draw can take, truncation included.
    pub fn support(&self) -> (f64, f64) {
        self.truncate.unwrap_or_else(|| self.distribution.support())
    }
}

/// Index of a parameter in [`crate::Scenario::parameters`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ParamId(pub(crate) usize);

impl ParamId {
    /// The position in [`crate::Scenario::parameters`].
    pub fn index(self) -> usize {
        self.0
    }
}

/// A number of a checked scenario: a constant or a parameter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    Const(f64),
    Param(ParamId),
}

impl Value {
    /// The value in a draw (`values[i]` is parameter `i`).
    #[inline]
    pub fn get(self, values: &[f64]) -> f64 {
        match self {
            Value::Const(x) => x,
            Value::Param(ParamId(i)) => values[i],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    fn args(f: impl FnOnce(&mut DistArgs)) -> DistArgs {
        let mut a = DistArgs::default();
        f(&mut a);
        a
    }

    #[test]
    fn moments_round_trip() {
        let b = Distribution::from_spec("beta", &args(|a| (a.mean, a.sd) = (Some(0.06), Some(0.01)))).unwrap();
        assert_relative_eq!(b.mean(), 0.06, max_relative = 1e-12);
        let g = Distribution::from_spec("gamma", &args(|a| (a.mean, a.sd) = (Some(5000.0), Some(1000.0)))).unwrap();
        assert_relative_eq!(g.mean(), 5000.0, max_relative = 1e-12);
        let l = Distribution::from_spec("lognormal", &args(|a| (a.mean, a.sd) = (Some(0.7), Some(0.08)))).unwrap();
        assert_relative_eq!(l.mean(), 0.7, max_relative = 1e-12);
    }

    #[test]
    fn lognormal_from_median_and_interval() {
        let l = Distribution::from_spec(
            "lognormal",
            &args(|a| (a.median, a.ci95) = (Some(0.7), Some([0.5, 0.98]))),
        )
        .unwrap();
        let Distribution::LogNormal { mu, sigma } = l else {
            panic!("not lognormal")
        };
        assert_relative_eq!(mu.exp(), 0.7, max_relative = 1e-12);
        assert_relative_eq!(sigma, (0.98f64 / 0.5).ln() / (2.0 * Z975), max_relative = 1e-12);
    }

    #[test]
    fn impossible_beta_is_refused() {
        let e = Distribution::from_spec("beta", &args(|a| (a.mean, a.sd) = (Some(0.5), Some(0.6)))).unwrap_err();
        assert!(e.contains("impossible"), "{e}");
        let e = Distribution::from_spec("beta", &args(|a| (a.mean, a.mode) = (Some(0.5), Some(0.6)))).unwrap_err();
        assert!(e.contains("expected beta"), "{e}");
    }
}
