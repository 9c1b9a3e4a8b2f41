//! Summaries of a figure across draws: mean, Monte Carlo standard error, percentiles.

mod accumulate;

pub use accumulate::{DistributionSummary, Histogram};
use serde::Serialize;

/// A figure across draws: `{ mean, se, p2_5, p5, p50, p95, p97_5 }`.
///
/// `se` is the Monte Carlo standard error of the mean (`sd/√n`); with one
/// draw it is 0 and every percentile equals the mean.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Estimate {
    pub mean: f64,
    pub se: f64,
    pub p2_5: f64,
    pub p5: f64,
    pub p50: f64,
    pub p95: f64,
    pub p97_5: f64,
}

/// The mean of `values` and its standard error (0 for one value); `None` when empty.
pub(crate) fn mean_se(values: &[f64]) -> Option<(f64, f64)> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let se = if n > 1 {
        let ss: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
        (ss / (n as f64 - 1.0) / n as f64).sqrt()
    } else {
        0.0
    };
    Some((mean, se))
}

impl Estimate {
    /// Summarises `values` (one per draw, in draw order). `None` when empty.
    pub fn from_draws(values: &[f64]) -> Option<Estimate> {
        let n = values.len();
        if n == 0 {
            return None;
        }
        let (mean, se) = mean_se(values)?;
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let q = |p: f64| quantile_sorted(&sorted, p);
        Some(Estimate {
            mean,
            se,
            p2_5: q(0.025),
            p5: q(0.05),
            p50: q(0.5),
            p95: q(0.95),
            p97_5: q(0.975),
        })
    }

    /// A figure known exactly.
    pub fn exact(x: f64) -> Estimate {
        Estimate {
            mean: x,
            se: 0.0,
            p2_5: x,
            p5: x,
            p50: x,
            p95: x,
            p97_5: x,
        }
    }
}

/// Linear interpolation between order statistics (Hyndman–Fan type 7, R's default).
pub fn quantile_sorted(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    if n == 1 {
        return sorted[0];
    }
    let h = (n - 1) as f64 * p.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_match_type_7() {
        let e = Estimate::from_draws(&[4.0, 1.0, 3.0, 2.0, 5.0]).unwrap();
        assert_eq!(e.mean, 3.0);
        assert_eq!(e.p50, 3.0);
        assert!((e.p5 - 1.2).abs() < 1e-12);
        assert!((e.se - (2.5f64 / 5.0).sqrt()).abs() < 1e-12);
        assert_eq!(Estimate::from_draws(&[7.0]).unwrap(), Estimate::exact(7.0));
    }
}
