//! A mergeable histogram of amounts.
//!
//! It merges in a fixed order (batch by batch), so a result does not
//! depend on how many threads computed it.

use serde::Serialize;

/// Lowest positive bin edge of [`Histogram`]; amounts below it share bin 0.
const HIST_MIN: f64 = 1.0;
/// Bins per factor of 10: a relative resolution of about 0.58 %.
const BINS_PER_DECADE: usize = 400;
const DECADES: usize = 11;

/// A histogram of non-negative amounts on log-spaced bins from 1 to 10¹¹,
/// with the sum of the amounts in each bin, so shares of the total can be
/// read off as well as percentiles.
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    counts: Vec<u64>,
    sums: Vec<f64>,
}

impl Default for Histogram {
    fn default() -> Self {
        let n = BINS_PER_DECADE * DECADES + 1;
        Histogram {
            counts: vec![0; n],
            sums: vec![0.0; n],
        }
    }
}

impl Histogram {
    fn bin(x: f64) -> usize {
        if x.is_nan() || x < HIST_MIN {
            return 0;
        }
        let b = 1 + ((x / HIST_MIN).log10() * BINS_PER_DECADE as f64) as usize;
        b.min(BINS_PER_DECADE * DECADES)
    }

    fn lower_edge(b: usize) -> f64 {
        if b == 0 {
            0.0
        } else {
            HIST_MIN * 10f64.powf((b - 1) as f64 / BINS_PER_DECADE as f64)
        }
    }

    #[inline]
    pub fn push(&mut self, x: f64) {
        self.push_binned(Self::bin(x), x);
    }

    /// The bin `x` falls in: to bin amounts apart from adding them up.
    #[inline]
    pub fn bin_of(x: f64) -> usize {
        Self::bin(x)
    }

    /// Adds `x`, whose bin [`Histogram::bin_of`] gave as `b`.
    #[inline]
    pub fn push_binned(&mut self, b: usize, x: f64) {
        self.counts[b] += 1;
        self.sums[b] += x;
    }

    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        for (a, b) in self.sums.iter_mut().zip(&other.sums) {
            *a += b;
        }
    }

    /// Count and sum of the amounts in each bin, for storing the histogram.
    pub(crate) fn bins(&self) -> (&[u64], &[f64]) {
        (&self.counts, &self.sums)
    }

    /// The histogram with these bins, as [`Histogram::bins`] gave them;
    /// `None` unless both have as many bins as every histogram.
    pub(crate) fn from_bins(counts: Vec<u64>, sums: Vec<f64>) -> Option<Histogram> {
        let n = Histogram::default().counts.len();
        (counts.len() == n && sums.len() == n).then_some(Histogram { counts, sums })
    }

    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The `p`-quantile, interpolated geometrically within its bin.
    pub fn quantile(&self, p: f64) -> f64 {
        let n = self.count();
        if n == 0 {
            return f64::NAN;
        }
        let target = p.clamp(0.0, 1.0) * n as f64;
        let mut below = 0u64;
        for (b, &c) in self.counts.iter().enumerate() {
            if c > 0 && (below + c) as f64 >= target {
                let (lo, hi) = (Self::lower_edge(b), Self::lower_edge(b + 1));
                let frac = ((target - below as f64) / c as f64).clamp(0.0, 1.0);
                return if b == 0 { hi * frac } else { lo * (hi / lo).powf(frac) };
            }
            below += c;
        }
        Self::lower_edge(self.counts.len())
    }

    /// Share of the total amount carried by the top fraction `top` of the
    /// values (e.g. 0.1 for the costliest 10 %); a partial bin contributes
    /// its mean amount per value.
    pub fn top_share(&self, top: f64) -> f64 {
        let total: f64 = self.sums.iter().sum();
        if total <= 0.0 {
            return f64::NAN;
        }
        let mut left = top.clamp(0.0, 1.0) * self.count() as f64;
        let mut carried = 0.0;
        for (&c, &s) in self.counts.iter().zip(&self.sums).rev() {
            if left <= 0.0 {
                break;
            }
            if c == 0 {
                continue;
            }
            let take = left.min(c as f64);
            carried += s * take / c as f64;
            left -= take;
        }
        carried / total
    }

    /// The summary reported for a distribution over children.
    pub fn summary(&self) -> DistributionSummary {
        DistributionSummary {
            p10: self.quantile(0.10),
            p25: self.quantile(0.25),
            p50: self.quantile(0.50),
            p75: self.quantile(0.75),
            p90: self.quantile(0.90),
            p99: self.quantile(0.99),
            top10_share: self.top_share(0.10),
        }
    }
}

/// Percentiles of lifetime cost per child and the share carried by the costliest 10 %.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct DistributionSummary {
    pub p10: f64,
    pub p25: f64,
    pub p50: f64,
    pub p75: f64,
    pub p90: f64,
    pub p99: f64,
    pub top10_share: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_quantiles_and_top_share_within_resolution() {
        let mut h = Histogram::default();
        // 1 000 values 1 000..=1 000 000 in steps of 1 000.
        for k in 1..=1000 {
            h.push(1000.0 * f64::from(k));
        }
        let median = h.quantile(0.5);
        assert!((median / 500_000.0 - 1.0).abs() < 0.01, "median {median}");
        // Top 100 values: 901..=1000 thousand, sum 95 050 000 of 500 500 000.
        let share = h.top_share(0.1);
        assert!((share - 95_050.0 / 500_500.0).abs() < 0.002, "share {share}");
        let mut other = Histogram::default();
        other.push(5.0);
        h.merge(&other);
        assert_eq!(h.count(), 1001);
    }
}
