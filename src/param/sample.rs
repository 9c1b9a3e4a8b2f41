//! Drawing parameter values: samplers, distribution and quantile functions,
//! truncation, and the joint draw of all parameters of a scenario.
//!
//! Sampling an untruncated distribution uses `rand_distr` (its fastest
//! algorithm for that family). Everything that needs a probability scale —
//! truncation, the Gaussian copula, one-way sensitivity at p5/p95 — goes
//! through [`Distribution::quantile`] instead, built on `statrs` and on
//! closed forms.

use libm::erfc;
use rand::{Rng, RngExt};
use rand_distr::Distribution as _;
use statrs::distribution::{Continuous, ContinuousCDF};
use statrs::function::erf::erfc_inv;

use super::{Correlation, Distribution, Parameter};

/// The largest `f64` below 1. Draws use probabilities in
/// `[f64::MIN_POSITIVE, U_MAX]` so that they never land on an infinite end
/// of the support (a normal's ±∞, a gamma's +∞).
const U_MAX: f64 = 1.0 - f64::EPSILON / 2.0;

/// `1/√(2π)`, the standard normal density at 0.
const FRAC_1_SQRT_2PI: f64 = 0.398_942_280_401_432_7;

/// Moves a probability off 0 and 1 (see [`U_MAX`]).
fn interior(u: f64) -> f64 {
    u.clamp(f64::MIN_POSITIVE, U_MAX)
}

/// Standard normal CDF Φ. `erfc` keeps full relative accuracy in the lower
/// tail, where `1 + erf` would cancel. It is libm's (musl's, < 1 ulp):
/// statrs 0.19's `erfc` is off by up to ~1e-10 relative.
pub(crate) fn std_normal_cdf(z: f64) -> f64 {
    0.5 * erfc(-z * std::f64::consts::FRAC_1_SQRT_2)
}

/// Standard normal survival function `1 − Φ(z) = Φ(−z)`, accurate in the upper tail.
fn std_normal_sf(z: f64) -> f64 {
    std_normal_cdf(-z)
}

/// Standard normal quantile Φ⁻¹; ±∞ at 0 and 1. statrs' `erfc_inv` is
/// accurate here: `Φ(Φ⁻¹(p)) = p` to 2e-15 relative down to p = 1e-10.
fn std_normal_quantile(u: f64) -> f64 {
    -std::f64::consts::SQRT_2 * erfc_inv(2.0 * u)
}

/// Standard normal density φ.
fn std_normal_pdf(z: f64) -> f64 {
    FRAC_1_SQRT_2PI * (-0.5 * z * z).exp()
}

/// `P(lo < X ≤ hi)` from a CDF and a survival function. Above the median the
/// difference of survival values is taken instead, so a window in the upper
/// tail keeps its relative accuracy rather than cancelling against 1.
fn mass(lo: f64, hi: f64, cdf: impl Fn(f64) -> f64, sf: impl Fn(f64) -> f64) -> f64 {
    let below = cdf(lo);
    if below > 0.5 { sf(lo) - sf(hi) } else { cdf(hi) - below }
}

/// The shapes `(α, β)` of the beta distribution behind a PERT on `[min, max]`
/// (λ = 4): `X = min + (max − min)·Beta(α, β)`.
fn pert_shapes(min: f64, mode: f64, max: f64) -> (f64, f64) {
    let range = max - min;
    (1.0 + 4.0 * (mode - min) / range, 1.0 + 4.0 * (max - mode) / range)
}

/// Position of `x` on `[min, max]`, for the PERT's standard beta.
fn unit(x: f64, min: f64, max: f64) -> f64 {
    (x - min) / (max - min)
}

/// A standard beta for `cdf`, `sf` and `quantile`; `None` only for shapes
/// that [`Distribution::is_valid`] already excludes.
fn std_beta(alpha: f64, beta: f64) -> Option<statrs::distribution::Beta> {
    statrs::distribution::Beta::new(alpha, beta).ok()
}

/// A unit-scale gamma (rate 1). Working on `x / scale` keeps statrs' quantile
/// search, whose bracket starts at `[1, 2]`, short whatever the scale of the
/// amounts (statrs' `Gamma::new` takes a rate, not a scale).
fn std_gamma(shape: f64) -> Option<statrs::distribution::Gamma> {
    statrs::distribution::Gamma::new(shape, 1.0).ok()
}

impl Distribution {
    /// Whether the natural parameters are possible. [`Distribution::from_spec`]
    /// guarantees it; a value built by hand might not, and is then treated as
    /// `Fixed(self.mean())` so that no method panics.
    fn is_valid(&self) -> bool {
        let pos = |x: f64| x.is_finite() && x > 0.0;
        match *self {
            Distribution::Fixed(_) => true,
            Distribution::Beta { alpha, beta } => pos(alpha) && pos(beta),
            Distribution::Gamma { shape, scale } => pos(shape) && pos(scale),
            Distribution::LogNormal { mu, sigma } => mu.is_finite() && pos(sigma),
            Distribution::Normal { mean, sd } => mean.is_finite() && pos(sd),
            Distribution::Uniform { min, max } => min.is_finite() && max.is_finite() && min < max,
            Distribution::Triangular { min, mode, max } | Distribution::Pert { min, mode, max } => {
                min.is_finite() && max.is_finite() && min <= mode && mode <= max && min < max
            }
        }
    }

    /// One random value (the fast path: `rand_distr`'s sampler for the family).
    ///
    /// `Fixed` returns its value without consuming randomness.
    ///
    /// ```
    /// use lifecost::param::Distribution;
    /// use rand::SeedableRng;
    ///
    /// let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(7);
    /// let d = Distribution::Gamma { shape: 25.0, scale: 200.0 };
    /// assert!(d.sample(&mut rng) > 0.0);
    /// ```
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let mean = self.mean();
        if !self.is_valid() {
            return mean;
        }
        // The constructors cannot fail for valid parameters; the fallback keeps `sample` total.
        match *self {
            Distribution::Fixed(x) => x,
            Distribution::Beta { alpha, beta } => rand_distr::Beta::new(alpha, beta).map_or(mean, |d| d.sample(rng)),
            Distribution::Gamma { shape, scale } => {
                rand_distr::Gamma::new(shape, scale).map_or(mean, |d| d.sample(rng))
            }
            Distribution::LogNormal { mu, sigma } => {
                rand_distr::LogNormal::new(mu, sigma).map_or(mean, |d| d.sample(rng))
            }
            Distribution::Normal { mean: m, sd } => rand_distr::Normal::new(m, sd).map_or(mean, |d| d.sample(rng)),
            Distribution::Uniform { min, max } => rand_distr::Uniform::new(min, max).map_or(mean, |d| d.sample(rng)),
            Distribution::Triangular { min, mode, max } => {
                rand_distr::Triangular::new(min, max, mode).map_or(mean, |d| d.sample(rng))
            }
            Distribution::Pert { min, mode, max } => rand_distr::Pert::new(min, max)
                .with_mode(mode)
                .map_or(mean, |d| d.sample(rng)),
        }
    }

    /// The cumulative distribution function `P(X ≤ x)`.
    ///
    /// 0 below the support and 1 above it; NaN for a NaN `x`.
    ///
    /// ```
    /// use lifecost::param::Distribution;
    ///
    /// let d = Distribution::Normal { mean: 10.0, sd: 2.0 };
    /// assert!((d.cdf(10.0) - 0.5).abs() < 1e-15);
    /// ```
    pub fn cdf(&self, x: f64) -> f64 {
        if x.is_nan() {
            return f64::NAN;
        }
        if !self.is_valid() {
            return Distribution::Fixed(self.mean()).cdf(x);
        }
        let (lo, hi) = self.support();
        if x < lo {
            return 0.0;
        }
        if x >= hi {
            return 1.0;
        }
        match *self {
            Distribution::Fixed(_) => 1.0, // x ≥ the value here
            Distribution::Beta { alpha, beta } => std_beta(alpha, beta).map_or(f64::NAN, |d| d.cdf(x)),
            Distribution::Gamma { shape, scale } => std_gamma(shape).map_or(f64::NAN, |d| d.cdf(x / scale)),
            Distribution::LogNormal { mu, sigma } => std_normal_cdf((x.ln() - mu) / sigma),
            Distribution::Normal { mean, sd } => std_normal_cdf((x - mean) / sd),
            Distribution::Uniform { min, max } => (x - min) / (max - min),
            Distribution::Triangular { min, mode, max } => {
                if x <= mode {
                    (x - min).powi(2) / ((max - min) * (mode - min))
                } else {
                    1.0 - (max - x).powi(2) / ((max - min) * (max - mode))
                }
            }
            Distribution::Pert { min, mode, max } => {
                let (a, b) = pert_shapes(min, mode, max);
                std_beta(a, b).map_or(f64::NAN, |d| d.cdf(unit(x, min, max)))
            }
        }
    }

    /// The survival function `P(X > x)`, computed directly where that is more
    /// accurate than `1 − cdf(x)` (upper tails).
    fn sf(&self, x: f64) -> f64 {
        if x.is_nan() {
            return f64::NAN;
        }
        if !self.is_valid() {
            return Distribution::Fixed(self.mean()).sf(x);
        }
        let (lo, hi) = self.support();
        if x < lo {
            return 1.0;
        }
        if x >= hi {
            return 0.0;
        }
        match *self {
            Distribution::Beta { alpha, beta } => std_beta(alpha, beta).map_or(f64::NAN, |d| d.sf(x)),
            Distribution::Gamma { shape, scale } => std_gamma(shape).map_or(f64::NAN, |d| d.sf(x / scale)),
            Distribution::LogNormal { mu, sigma } => std_normal_sf((x.ln() - mu) / sigma),
            Distribution::Normal { mean, sd } => std_normal_sf((x - mean) / sd),
            Distribution::Pert { min, mode, max } => {
                let (a, b) = pert_shapes(min, mode, max);
                std_beta(a, b).map_or(f64::NAN, |d| d.sf(unit(x, min, max)))
            }
            Distribution::Fixed(_) | Distribution::Uniform { .. } | Distribution::Triangular { .. } => {
                1.0 - self.cdf(x)
            }
        }
    }

    /// The quantile function (inverse CDF): the smallest `x` with `cdf(x) ≥ u`.
    ///
    /// `u` is clamped to `[0, 1]`; `quantile(0)` and `quantile(1)` are the ends
    /// of [`Distribution::support`] (possibly infinite). NaN for a NaN `u`.
    ///
    /// ```
    /// use lifecost::param::Distribution;
    ///
    /// let d = Distribution::Uniform { min: 2.0, max: 4.0 };
    /// assert_eq!(d.quantile(0.25), 2.5);
    /// assert_eq!(d.quantile(-1.0), 2.0);
    /// ```
    pub fn quantile(&self, u: f64) -> f64 {
        if u.is_nan() {
            return f64::NAN;
        }
        if !self.is_valid() {
            return self.mean();
        }
        let u = u.clamp(0.0, 1.0);
        let (lo, hi) = self.support();
        if u == 0.0 {
            return lo;
        }
        if u == 1.0 {
            return hi;
        }
        let x = match *self {
            Distribution::Fixed(x) => x,
            Distribution::Beta { alpha, beta } => std_beta(alpha, beta).map_or(f64::NAN, |d| d.inverse_cdf(u)),
            Distribution::Gamma { shape, scale } => scale * gamma_quantile(shape, u),
            Distribution::LogNormal { mu, sigma } => (mu + sigma * std_normal_quantile(u)).exp(),
            Distribution::Normal { mean, sd } => mean + sd * std_normal_quantile(u),
            Distribution::Uniform { min, max } => min + u * (max - min),
            Distribution::Triangular { min, mode, max } => {
                let range = max - min;
                if u * range < mode - min {
                    min + (u * range * (mode - min)).sqrt()
                } else {
                    max - ((1.0 - u) * range * (max - mode)).sqrt()
                }
            }
            Distribution::Pert { min, mode, max } => {
                let (a, b) = pert_shapes(min, mode, max);
                std_beta(a, b).map_or(f64::NAN, |d| min + (max - min) * d.inverse_cdf(u))
            }
        };
        // Rounding may step a hair outside the support; a quantile never does.
        if x.is_nan() { self.mean() } else { x.clamp(lo, hi) }
    }

    /// `E[X | lo ≤ X ≤ hi]` for `lo < hi` within the support, in closed form:
    /// the partial expectation of a beta, gamma or lognormal is its mean times
    /// the mass of the size-biased law (`Beta(α+1, β)`, `Gamma(k+1, θ)`,
    /// `LogNormal(μ+σ², σ)`) on the same window, so only CDFs are needed.
    fn truncated_mean(&self, lo: f64, hi: f64) -> f64 {
        let mean = self.mean();
        // An empty window (or one with no representable mass, far in a tail)
        // leaves the bound nearest to the untruncated mean, as sampling does.
        let fallback = mean.clamp(lo, hi);
        if !self.is_valid() || lo.is_nan() || hi.is_nan() || lo >= hi {
            return fallback;
        }
        let m = match *self {
            Distribution::Fixed(x) => x,
            Distribution::Beta { alpha, beta } => {
                mean * beta_mass(alpha + 1.0, beta, lo, hi) / beta_mass(alpha, beta, lo, hi)
            }
            Distribution::Gamma { shape, scale } => {
                let (a, b) = (lo / scale, hi / scale);
                mean * gamma_mass(shape + 1.0, a, b) / gamma_mass(shape, a, b)
            }
            Distribution::LogNormal { mu, sigma } => {
                let z = |x: f64, m: f64| (x.ln() - m) / sigma;
                let biased = mu + sigma * sigma;
                mean * normal_mass(z(lo, biased), z(hi, biased)) / normal_mass(z(lo, mu), z(hi, mu))
            }
            Distribution::Normal { mean, sd } => {
                let (a, b) = ((lo - mean) / sd, (hi - mean) / sd);
                mean + sd * (std_normal_pdf(a) - std_normal_pdf(b)) / normal_mass(a, b)
            }
            Distribution::Uniform { .. } => 0.5 * (lo + hi),
            Distribution::Triangular { min, mode, max } => triangular_truncated_mean(min, mode, max, lo, hi),
            Distribution::Pert { min, mode, max } => {
                let (a, b) = pert_shapes(min, mode, max);
                let (ulo, uhi) = (unit(lo, min, max), unit(hi, min, max));
                let beta_mean = a / (a + b) * beta_mass(a + 1.0, b, ulo, uhi) / beta_mass(a, b, ulo, uhi);
                min + (max - min) * beta_mean
            }
        };
        if m.is_finite() { m.clamp(lo, hi) } else { fallback }
    }
}

/// Quantile of the unit-scale `Gamma(shape)` at `0 < u < 1`.
///
/// statrs stops its Newton iteration at an absolute step of 1e-9, which
/// leaves `cdf(x) − u` near 1e-10; a few more Newton steps (on the survival
/// function above the median, where `1 − u` is exact) reach full precision.
fn gamma_quantile(shape: f64, u: f64) -> f64 {
    let Some(d) = std_gamma(shape) else {
        return f64::NAN;
    };
    let mut x = d.inverse_cdf(u);
    for _ in 0..4 {
        let gap = if u > 0.5 { (1.0 - u) - d.sf(x) } else { d.cdf(x) - u };
        let next = x - gap / d.pdf(x);
        if !(next.is_finite() && next > 0.0) {
            break;
        }
        let step = (next - x).abs();
        x = next;
        if step <= 4.0 * f64::EPSILON * x {
            break;
        }
    }
    x
}

/// Mass of `Beta(a, b)` on `[lo, hi]`.
fn beta_mass(a: f64, b: f64, lo: f64, hi: f64) -> f64 {
    std_beta(a, b).map_or(f64::NAN, |d| mass(lo, hi, |x| d.cdf(x), |x| d.sf(x)))
}

/// Mass of the unit-scale `Gamma(shape)` on `[lo, hi]`.
fn gamma_mass(shape: f64, lo: f64, hi: f64) -> f64 {
    std_gamma(shape).map_or(f64::NAN, |d| mass(lo, hi, |x| d.cdf(x), |x| d.sf(x)))
}

/// Mass of the standard normal on `[a, b]`.
fn normal_mass(a: f64, b: f64) -> f64 {
    mass(a, b, std_normal_cdf, std_normal_sf)
}

/// `E[X | lo ≤ X ≤ hi]` of a triangular distribution. The density is linear
/// on each side of the mode, so a two-point Gauss–Legendre rule integrates
/// both `f` and `x·f` exactly on each piece.
fn triangular_truncated_mean(min: f64, mode: f64, max: f64, lo: f64, hi: f64) -> f64 {
    let range = max - min;
    let pdf = |x: f64| {
        if x <= mode {
            2.0 * (x - min) / (range * (mode - min))
        } else {
            2.0 * (max - x) / (range * (max - mode))
        }
    };
    // Nodes ±1/√3 on [−1, 1], weights 1.
    const NODE: f64 = 0.577_350_269_189_625_8;
    let (mut mass, mut moment) = (0.0, 0.0);
    for (a, b) in [(lo, hi.min(mode)), (lo.max(mode), hi)] {
        if a < b {
            let (mid, half) = (0.5 * (a + b), 0.5 * (b - a));
            for x in [mid - half * NODE, mid + half * NODE] {
                let w = half * pdf(x);
                mass += w;
                moment += w * x;
            }
        }
    }
    moment / mass
}

impl Parameter {
    /// The expected value: the base case uses it.
    ///
    /// For a truncated parameter this is the mean of the truncated
    /// distribution, in closed form for every family (incomplete beta and
    /// gamma functions, normal tails, exact quadrature of the piecewise-linear
    /// triangular density), with a relative error near machine precision
    /// (agreement with quadrature of the quantile to ~1e-14 in the tests).
    ///
    /// ```
    /// # use lifecost::param::{Distribution, Parameter};
    /// # fn param(distribution: Distribution, truncate: Option<(f64, f64)>) -> Parameter {
    /// #     Parameter { name: "p".into(), named: true, distribution, truncate, price_factor: 1.0, unit: None, price_year: None,
    /// #         source: None, confidence: None, note: None, low: None, high: None }
    /// # }
    /// // The standard normal truncated to [0, ∞) has mean √(2/π).
    /// let half = param(Distribution::Normal { mean: 0.0, sd: 1.0 }, Some((0.0, f64::INFINITY)));
    /// assert!((half.mean() - (2.0 / std::f64::consts::PI).sqrt()).abs() < 1e-15);
    /// ```
    pub fn mean(&self) -> f64 {
        match self.truncate {
            None => self.distribution.mean(),
            Some((lo, hi)) => self.distribution.truncated_mean(lo, hi),
        }
    }

    /// One random value of the parameter.
    ///
    /// Untruncated: [`Distribution::sample`]. Truncated: one uniform draw `u`
    /// mapped by [`Parameter::value_at`] (inverse CDF on `[F(lo), F(hi)]`, no
    /// rejection loop, so the amount of randomness used is fixed). `Fixed`
    /// returns its value without consuming randomness.
    ///
    /// ```
    /// # use lifecost::param::{Distribution, Parameter};
    /// # fn param(distribution: Distribution, truncate: Option<(f64, f64)>) -> Parameter {
    /// #     Parameter { name: "p".into(), named: true, distribution, truncate, price_factor: 1.0, unit: None, price_year: None,
    /// #         source: None, confidence: None, note: None, low: None, high: None }
    /// # }
    /// use rand::SeedableRng;
    ///
    /// let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(7);
    /// let share = param(Distribution::Beta { alpha: 2.0, beta: 5.0 }, Some((0.1, 0.3)));
    /// let x = share.sample(&mut rng);
    /// assert!((0.1..=0.3).contains(&x));
    /// ```
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        if let Distribution::Fixed(x) = self.distribution {
            return x;
        }
        match self.truncate {
            None => self.distribution.sample(rng),
            Some(_) => self.value_at(interior(rng.random::<f64>())),
        }
    }

    /// The value at probability `u` of the (truncated) distribution:
    /// `F⁻¹(F(lo) + u·(F(hi) − F(lo)))` when truncated to `[lo, hi]`, else
    /// `F⁻¹(u)`. Used by the copula and by one-way sensitivity (p5/p95).
    ///
    /// `u` is clamped to `[0, 1]`; `value_at(0)` and `value_at(1)` are the
    /// ends of [`Parameter::support`]. For `0 < u < 1` the value is finite:
    /// probabilities are kept off 0 and 1 (by less than 2⁻⁵³), so rounding in
    /// `F(lo) + u·(F(hi) − F(lo))` cannot reach an infinite end of the support.
    ///
    /// ```
    /// # use lifecost::param::{Distribution, Parameter};
    /// # fn param(distribution: Distribution, truncate: Option<(f64, f64)>) -> Parameter {
    /// #     Parameter { name: "p".into(), named: true, distribution, truncate, price_factor: 1.0, unit: None, price_year: None,
    /// #         source: None, confidence: None, note: None, low: None, high: None }
    /// # }
    /// let cost = param(Distribution::Uniform { min: 100.0, max: 200.0 }, Some((150.0, 200.0)));
    /// assert_eq!(cost.value_at(0.5), 175.0);
    /// assert_eq!((cost.value_at(0.0), cost.value_at(1.0)), (150.0, 200.0));
    /// ```
    pub fn value_at(&self, u: f64) -> f64 {
        if u.is_nan() {
            return f64::NAN;
        }
        let d = &self.distribution;
        if let Distribution::Fixed(x) = *d {
            return x;
        }
        let (lo, hi) = self.support();
        if u <= 0.0 {
            return lo;
        }
        if u >= 1.0 {
            return hi;
        }
        let p = match self.truncate {
            None => u,
            // The width via `mass`, not `F(hi) − F(lo)`, so a window in an upper tail does not cancel.
            Some((lo, hi)) => d.cdf(lo) + u * mass(lo, hi, |x| d.cdf(x), |x| d.sf(x)),
        };
        d.quantile(interior(p)).clamp(lo, hi)
    }
}

/// Draws one value of every parameter into `out` (`out[i]` is `params[i]`).
///
/// # Order of random numbers
///
/// The stream is consumed in a fixed order that depends only on the
/// scenario, so a draw is reproducible from the seed:
///
/// 1. Parameters are visited in index order `0, 1, …`.
/// 2. A fixed parameter outside any correlation block consumes nothing.
/// 3. An independent uncertain parameter consumes what [`Parameter::sample`]
///    needs: one uniform if truncated, otherwise whatever `rand_distr`'s
///    sampler for the family consumes (deterministic given the stream).
/// 4. When the visit reaches the lowest index of a correlation block, the
///    whole block is drawn: `m` standard normals `z` (`rand_distr::StandardNormal`,
///    one per entry of [`Correlation::params`], in that order, fixed members
///    included), `y = L·z` with `L` the block's Cholesky factor, `u_k = Φ(y_k)`,
///    and `out[k] = params[k].value_at(u_k)`. Its other members are skipped
///    when the visit reaches them.
///
/// Blocks are expected to be disjoint; if a parameter is listed in several,
/// it takes its value from the first block in `correlations` that lists it.
///
/// # Panics
///
/// If `out.len() != params.len()`, or a block names an index outside `params`.
///
/// ```
/// use lifecost::param::{sample_all, Correlation};
/// # use lifecost::param::{Distribution, Parameter};
/// use rand::SeedableRng;
///
/// # fn p(d: Distribution) -> Parameter {
/// #     Parameter { name: String::new(), named: false, distribution: d, truncate: None, price_factor: 1.0, unit: None,
/// #         price_year: None, source: None, confidence: None, note: None, low: None, high: None }
/// # }
/// let params = [
///     p(Distribution::Gamma { shape: 4.0, scale: 1.0 }),
///     p(Distribution::Fixed(3.0)),
///     p(Distribution::Beta { alpha: 2.0, beta: 5.0 }),
/// ];
/// let correlations = [Correlation::pair(0, 2, 0.5).unwrap()];
/// let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(1);
/// let mut out = [0.0; 3];
/// sample_all(&params, &correlations, &mut rng, &mut out);
/// assert_eq!(out[1], 3.0);
/// ```
pub fn sample_all<R: Rng + ?Sized>(params: &[Parameter], correlations: &[Correlation], rng: &mut R, out: &mut [f64]) {
    assert_eq!(
        out.len(),
        params.len(),
        "sample_all: out has {} slots for {} parameters; expected one slot per parameter",
        out.len(),
        params.len()
    );
    let block_of = |i: usize| correlations.iter().position(|c| c.params.contains(&i));
    let mut z = Vec::new();
    for (i, param) in params.iter().enumerate() {
        let Some(b) = block_of(i) else {
            out[i] = param.sample(rng);
            continue;
        };
        let block = &correlations[b];
        if block.params.iter().min() != Some(&i) {
            continue; // drawn with the block's lowest index
        }
        let l = block.cholesky();
        z.clear();
        z.extend(
            block
                .params
                .iter()
                .map(|_| rng.sample::<f64, _>(rand_distr::StandardNormal)),
        );
        for (r, &k) in block.params.iter().enumerate() {
            if block_of(k) != Some(b) {
                continue; // listed in an earlier block too, which set it
            }
            // L is lower triangular: row r only mixes z[0..=r].
            let y: f64 = (0..=r).map(|c| l[(r, c)] * z[c]).sum();
            out[k] = params[k].value_at(interior(std_normal_cdf(y)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn param(distribution: Distribution, truncate: Option<(f64, f64)>) -> Parameter {
        Parameter::bare(distribution, truncate)
    }

    /// Every uncertain family, with its exact standard deviation.
    fn families() -> Vec<(Distribution, f64)> {
        let (a, b) = (2.0, 5.0);
        let (k, th) = (3.0, 1500.0);
        let (mu, s) = (-0.4, 0.3);
        let (pa, pb) = pert_shapes(1.0, 2.0, 6.0);
        let tri_var = (1.0f64 + 4.0 + 36.0 - 1.0 * 2.0 - 1.0 * 6.0 - 2.0 * 6.0) / 18.0;
        vec![
            (
                Distribution::Beta { alpha: a, beta: b },
                (a * b / ((a + b).powi(2) * (a + b + 1.0))).sqrt(),
            ),
            (Distribution::Gamma { shape: k, scale: th }, k.sqrt() * th),
            (
                Distribution::LogNormal { mu, sigma: s },
                ((s * s).exp_m1() * (2.0 * mu + s * s).exp()).sqrt(),
            ),
            (Distribution::Normal { mean: -3.0, sd: 2.5 }, 2.5),
            (Distribution::Uniform { min: 10.0, max: 40.0 }, 30.0 / 12f64.sqrt()),
            (
                Distribution::Triangular {
                    min: 1.0,
                    mode: 2.0,
                    max: 6.0,
                },
                tri_var.sqrt(),
            ),
            (
                Distribution::Pert {
                    min: 1.0,
                    mode: 2.0,
                    max: 6.0,
                },
                5.0 * (pa * pb / ((pa + pb).powi(2) * (pa + pb + 1.0))).sqrt(),
            ),
        ]
    }

    /// Sample mean and standard deviation.
    fn moments(xs: &[f64]) -> (f64, f64) {
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (mean, var.sqrt())
    }

    /// `∫ F⁻¹(u) du` over `[F(lo), F(hi)]` divided by its width, by a 64-panel
    /// 8-point composite Gauss–Legendre rule: an independent check of the
    /// closed-form truncated means on windows where the quantile is smooth.
    fn quadrature_mean(d: &Distribution, lo: f64, hi: f64) -> f64 {
        const X: [f64; 4] = [
            0.183_434_642_495_649_8,
            0.525_532_409_916_329,
            0.796_666_477_413_626_7,
            0.960_289_856_497_536_2,
        ];
        const W: [f64; 4] = [
            0.362_683_783_378_362,
            0.313_706_645_877_887_3,
            0.222_381_034_453_374_5,
            0.101_228_536_290_376_3,
        ];
        let (a, b) = (d.cdf(lo), d.cdf(hi));
        let panels = 64;
        let h = (b - a) / panels as f64;
        let mut sum = 0.0;
        for j in 0..panels {
            let mid = a + (j as f64 + 0.5) * h;
            for (x, w) in X.iter().zip(W) {
                sum += w * 0.5 * h * (d.quantile(mid - 0.5 * h * x) + d.quantile(mid + 0.5 * h * x));
            }
        }
        sum / (b - a)
    }

    /// 200 000 draws: |mean − μ| < 5·σ/√n and the sample sd within 2 % of σ
    /// (the sd's own standard error is under 0.5 % for these families).
    #[test]
    fn sampled_moments_match_parameters() {
        let n = 200_000;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(20_240_601);
        for (d, sd) in families() {
            let xs: Vec<f64> = (0..n).map(|_| d.sample(&mut rng)).collect();
            let (m, s) = moments(&xs);
            let se = sd / (n as f64).sqrt();
            assert!(
                (m - d.mean()).abs() < 5.0 * se,
                "{d:?}: mean {m} vs {} (se {se})",
                d.mean()
            );
            assert!((s / sd - 1.0).abs() < 0.02, "{d:?}: sd {s} vs {sd}");
            let (lo, hi) = d.support();
            assert!(
                xs.iter().all(|&x| lo <= x && x <= hi),
                "{d:?}: a draw outside the support"
            );
        }
    }

    /// Inverse-CDF draws (`quantile` of a uniform) have the same moments,
    /// which checks `quantile` against the closed-form mean and sd.
    #[test]
    fn quantile_draws_match_parameters() {
        let n = 200_000;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(99);
        for (d, sd) in families() {
            let xs: Vec<f64> = (0..n).map(|_| d.quantile(rng.random::<f64>())).collect();
            let (m, s) = moments(&xs);
            let se = sd / (n as f64).sqrt();
            assert!(
                (m - d.mean()).abs() < 5.0 * se,
                "{d:?}: mean {m} vs {} (se {se})",
                d.mean()
            );
            assert!((s / sd - 1.0).abs() < 0.02, "{d:?}: sd {s} vs {sd}");
        }
    }

    /// At the 0.1 %, …, 99.9 % points `cdf(quantile(u)) = u` to 1e-14 absolute
    /// and `quantile(cdf(x)) = x` to 1e-12 relative (observed: 9e-16 and 6e-15).
    #[test]
    fn quantile_inverts_cdf() {
        for (d, _) in families() {
            for u in [0.001, 0.01, 0.05, 0.2, 0.5, 0.8, 0.95, 0.99, 0.999] {
                let x = d.quantile(u);
                assert!((d.cdf(x) - u).abs() < 1e-14, "{d:?}: cdf(quantile({u})) = {}", d.cdf(x));
                let back = d.quantile(d.cdf(x));
                assert!((back - x).abs() <= 1e-12 * x.abs().max(1.0), "{d:?}: {x} -> {back}");
            }
            let (lo, hi) = d.support();
            assert_eq!((d.quantile(0.0), d.quantile(1.0)), (lo, hi), "{d:?}");
            assert_eq!((d.quantile(-0.5), d.quantile(1.5)), (lo, hi), "{d:?}");
            assert!(d.quantile(f64::NAN).is_nan() && d.cdf(f64::NAN).is_nan());
            let x = d.quantile(0.7);
            assert!((d.cdf(x) + d.sf(x) - 1.0).abs() < 1e-14, "{d:?}: cdf + sf at {x}");
        }
    }

    /// Standard normal on `[0, ∞)`: √(2/π). On `[−1, 2]`: (φ(−1) − φ(2)) / (Φ(2) − Φ(−1)),
    /// evaluated from tabulated φ and Φ below (0.229 637 …). Relative error ≤ 1e-12.
    #[test]
    fn truncated_normal_mean_is_closed_form() {
        let std = Distribution::Normal { mean: 0.0, sd: 1.0 };
        let half = param(std.clone(), Some((0.0, f64::INFINITY)));
        let expect = (2.0 / std::f64::consts::PI).sqrt();
        assert!((half.mean() / expect - 1.0).abs() < 1e-12, "{}", half.mean());
        // φ(1) = 0.241 970 724 519 143 37, φ(2) = 0.053 990 966 513 188 06,
        // Φ(2) − Φ(−1) = 0.977 249 868 051 820 8 − 0.158 655 253 931 457 05.
        let expect = (0.241_970_724_519_143_37 - 0.053_990_966_513_188_06)
            / (0.977_249_868_051_820_8 - 0.158_655_253_931_457_05);
        let window = param(std, Some((-1.0, 2.0)));
        assert!(
            (window.mean() / expect - 1.0).abs() < 1e-12,
            "{} vs {expect}",
            window.mean()
        );
        // Scaled, and in the upper tail (5 to 6 sd, F(lo) ≈ 1 − 3e-7); the reference
        // 5.183 147 090 477 162 is the same formula in Python's `math.erfc`.
        let tail = param(Distribution::Normal { mean: 100.0, sd: 10.0 }, Some((150.0, 160.0)));
        let expect = 100.0 + 10.0 * 5.183_147_090_477_162;
        assert!(
            (tail.mean() / expect - 1.0).abs() < 1e-12,
            "{} vs {expect}",
            tail.mean()
        );
    }

    /// A truncated uniform is uniform on the window; relative error ≤ 1e-15.
    #[test]
    fn truncated_uniform_mean_is_midpoint() {
        let p = param(Distribution::Uniform { min: 0.0, max: 10.0 }, Some((2.0, 3.0)));
        assert!((p.mean() - 2.5).abs() < 2.5e-15, "{}", p.mean());
    }

    /// The closed forms for the other families agree with Gauss–Legendre
    /// integration of the quantile to 1e-6 relative (observed ≲ 1e-10).
    #[test]
    fn truncated_means_agree_with_quadrature() {
        let cases = [
            (Distribution::Beta { alpha: 2.0, beta: 5.0 }, 0.1, 0.5),
            (
                Distribution::Beta {
                    alpha: 0.06 * 50.0,
                    beta: 0.94 * 50.0,
                },
                0.02,
                0.12,
            ),
            (
                Distribution::Gamma {
                    shape: 3.0,
                    scale: 1500.0,
                },
                1000.0,
                9000.0,
            ),
            (
                Distribution::Gamma {
                    shape: 3.0,
                    scale: 1500.0,
                },
                12_000.0,
                20_000.0,
            ),
            (Distribution::LogNormal { mu: -0.4, sigma: 0.3 }, 0.5, 0.9),
            (
                Distribution::Triangular {
                    min: 1.0,
                    mode: 2.0,
                    max: 6.0,
                },
                1.5,
                4.0,
            ),
            (
                Distribution::Triangular {
                    min: 1.0,
                    mode: 2.0,
                    max: 6.0,
                },
                2.5,
                5.0,
            ),
            (
                Distribution::Pert {
                    min: 1.0,
                    mode: 2.0,
                    max: 6.0,
                },
                1.5,
                4.0,
            ),
            (Distribution::Normal { mean: -3.0, sd: 2.5 }, -4.0, 1.0),
        ];
        for (d, lo, hi) in cases {
            let closed = param(d.clone(), Some((lo, hi))).mean();
            let numeric = quadrature_mean(&d, lo, hi);
            assert!(
                (closed / numeric - 1.0).abs() < 1e-6,
                "{d:?} on [{lo}, {hi}]: {closed} vs {numeric}"
            );
        }
    }

    /// 100 000 truncated draws stay in `[lo, hi]` and their mean is within
    /// 5 standard errors of `Parameter::mean()`.
    #[test]
    fn truncated_draws_stay_inside_and_match_mean() {
        let n = 100_000;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        let cases = [
            (Distribution::Normal { mean: 0.0, sd: 1.0 }, (-0.5, f64::INFINITY)),
            (Distribution::Normal { mean: 100.0, sd: 10.0 }, (125.0, 140.0)),
            (Distribution::Gamma { shape: 2.0, scale: 3.0 }, (1.0, 4.0)),
            (Distribution::Beta { alpha: 2.0, beta: 5.0 }, (0.3, 1.0)),
            (Distribution::LogNormal { mu: 0.0, sigma: 1.0 }, (0.0, 2.0)),
            (
                Distribution::Triangular {
                    min: 0.0,
                    mode: 1.0,
                    max: 4.0,
                },
                (0.5, 3.0),
            ),
            (
                Distribution::Pert {
                    min: 0.0,
                    mode: 1.0,
                    max: 4.0,
                },
                (2.0, 4.0),
            ),
            (Distribution::Uniform { min: 0.0, max: 1.0 }, (0.25, 0.5)),
        ];
        for (d, (lo, hi)) in cases {
            let p = param(d.clone(), Some((lo, hi)));
            let xs: Vec<f64> = (0..n).map(|_| p.sample(&mut rng)).collect();
            assert!(
                xs.iter().all(|&x| lo <= x && x <= hi),
                "{d:?}: a draw outside [{lo}, {hi}]"
            );
            let (m, s) = moments(&xs);
            let se = s / (n as f64).sqrt();
            assert!((m - p.mean()).abs() < 5.0 * se, "{d:?}: {m} vs {} (se {se})", p.mean());
            assert_eq!((p.value_at(0.0), p.value_at(1.0)), (lo, hi));
        }
    }

    /// A window far in the upper tail (a normal on `[μ + 7σ, μ + 8σ]`, mass
    /// 1.3e-12) still spreads its values over the window, and its mean matches
    /// 7.137 067 160 546 624 (Python `math.erfc`) to 1e-12 relative; the
    /// probability scale near 1 resolves the window to about 1e-4 of its mass.
    #[test]
    fn upper_tail_window_keeps_resolution() {
        let p = param(Distribution::Normal { mean: 0.0, sd: 1.0 }, Some((7.0, 8.0)));
        let (q1, q2) = (p.value_at(0.25), p.value_at(0.75));
        assert!(7.0 < q1 && q1 < q2 && q2 < 8.0, "{q1} {q2}");
        assert!((p.mean() / 7.137_067_160_546_624 - 1.0).abs() < 1e-12, "{}", p.mean());
        assert!(p.value_at(1e-300).is_finite() && p.value_at(U_MAX).is_finite());
        let free = param(Distribution::Normal { mean: 0.0, sd: 1.0 }, None);
        assert!(free.value_at(1e-300).is_finite() && free.value_at(U_MAX).is_finite());
    }

    /// A fixed parameter consumes no randomness: two streams stay in lockstep.
    #[test]
    fn fixed_consumes_no_randomness() {
        let (mut a, mut b) = (
            Xoshiro256PlusPlus::seed_from_u64(3),
            Xoshiro256PlusPlus::seed_from_u64(3),
        );
        let fixed = param(Distribution::Fixed(4.5), None);
        let fixed_truncated = param(Distribution::Fixed(4.5), Some((4.5, 4.5)));
        assert_eq!(fixed.sample(&mut a), 4.5);
        assert_eq!(fixed_truncated.sample(&mut a), 4.5);
        assert_eq!(Distribution::Fixed(4.5).sample(&mut a), 4.5);
        assert_eq!(a.next_u64(), b.next_u64());
    }

    /// `sample_all` without correlations draws in index order, skipping
    /// fixed parameters, exactly as sequential `Parameter::sample` calls.
    #[test]
    fn sample_all_consumes_in_index_order() {
        let params = [
            param(Distribution::Gamma { shape: 2.0, scale: 3.0 }, None),
            param(Distribution::Fixed(1.0), None),
            param(Distribution::Normal { mean: 0.0, sd: 1.0 }, Some((-1.0, 1.0))),
            param(Distribution::Beta { alpha: 2.0, beta: 5.0 }, None),
        ];
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
        let mut out = [0.0; 4];
        sample_all(&params, &[], &mut rng, &mut out);
        let mut check = Xoshiro256PlusPlus::seed_from_u64(11);
        let expect: Vec<f64> = params.iter().map(|p| p.sample(&mut check)).collect();
        assert_eq!(out.to_vec(), expect);
        assert_eq!(rng.next_u64(), check.next_u64());
    }

    /// A hand-built impossible distribution behaves as its mean and never panics.
    #[test]
    fn invalid_distribution_does_not_panic() {
        let d = Distribution::Gamma {
            shape: -1.0,
            scale: 2.0,
        };
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        assert_eq!(d.sample(&mut rng), -2.0);
        assert_eq!(d.quantile(0.3), -2.0);
        assert_eq!((d.cdf(-2.5), d.cdf(-2.0)), (0.0, 1.0));
        assert_eq!(param(d, Some((0.0, 1.0))).mean(), 0.0);
    }
}
