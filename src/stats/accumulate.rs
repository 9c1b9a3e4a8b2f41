//! A mergeable histogram of amounts.
//!
//! It merges in a fixed order (batch by batch), so a result does not
//! depend on how many threads computed it.

use std::sync::LazyLock;

use serde::Serialize;

/// Lowest positive bin edge of [`Histogram`]; amounts below it share bin 0.
const HIST_MIN: f64 = 1.0;
/// Bins per factor of 10: a relative resolution of about 0.58 %.
const BINS_PER_DECADE: usize = 400;
const DECADES: usize = 11;
/// The last bin: amounts from its lower edge on, however large.
const LAST_BIN: usize = BINS_PER_DECADE * DECADES;

/// How far from a bin edge, relatively, an amount is binned from the
/// table of edges ([`Edges`]) rather than from its log: far enough that the
/// rounding of the log and of the edges cannot move it across the edge.
const EDGE_MARGIN: f64 = 1e-9;
/// Leading bits of the mantissa that, with the exponent, pick a cell of [`Edges::cells`].
const CELL_BITS: u32 = 8;

/// The bin edges, for binning amounts without taking their log.
///
/// The amounts from 1 to 2³⁷ (past the last edge) are cut into cells by
/// their exponent and the leading [`CELL_BITS`] bits of their mantissa: a
/// cell spans less than a factor of 1 + 2⁻⁸, narrower than a bin (a factor of
/// 10^(1/400) ≈ 1 + 2⁻⁷·⁴), so it holds at most one edge.
struct Edges {
    /// Per bin: its lower edge, `10^((b − 1) / 400)` (and infinity past the last bin).
    lower: Vec<f64>,
    /// Per cell: the bin of the cell's least amount.
    cells: Vec<u16>,
}

/// The table of [`Edges`], worked out once.
static EDGES: LazyLock<Edges> = LazyLock::new(|| {
    let lower: Vec<f64> = (0..=LAST_BIN + 1)
        .map(|b| {
            if b > LAST_BIN {
                f64::INFINITY
            } else {
                Histogram::lower_edge(b)
            }
        })
        .collect();
    let exponents = 37;
    let cells = (0..exponents << CELL_BITS)
        .map(|cell: u64| {
            let least = f64::from_bits(((1023 << CELL_BITS) + cell) << (52 - CELL_BITS));
            let bin = lower[1..=LAST_BIN].partition_point(|&edge| edge <= least);
            u16::try_from(bin).unwrap_or(u16::MAX)
        })
        .collect();
    Edges { lower, cells }
});

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
    /// The bin of `x`: from its log, the definition.
    fn bin_by_log(x: f64) -> usize {
        if x.is_nan() || x < HIST_MIN {
            return 0;
        }
        // An infinite amount saturates the cast: it belongs to the last bin.
        let b = ((x / HIST_MIN).log10() * BINS_PER_DECADE as f64) as usize;
        b.saturating_add(1).min(LAST_BIN)
    }

    /// The bin of `x`, the same as [`Histogram::bin_by_log`] gives, found
    /// in the table of [`Edges`] (cheaper than a log). The bin is read from
    /// the table only when `x` lies more than [`EDGE_MARGIN`] inside it, so
    /// that the log would surely give it too; otherwise the log decides.
    #[inline]
    fn bin(x: f64) -> usize {
        if x.is_nan() || x < HIST_MIN {
            return 0;
        }
        Self::bin_by_edges(x).unwrap_or_else(|| Self::bin_by_log(x))
    }

    /// The bin of `x` (at least 1) from the table of [`Edges`], or `None`
    /// when `x` is beyond the table or within [`EDGE_MARGIN`] of an edge.
    #[inline]
    fn bin_by_edges(x: f64) -> Option<usize> {
        let edges = &*EDGES;
        let cell = (x.to_bits() >> (52 - CELL_BITS)).wrapping_sub(1023 << CELL_BITS);
        let b = usize::from(*edges.cells.get(usize::try_from(cell).ok()?)?);
        // The cell holds at most one edge: the next bin's, if any.
        let b = b + usize::from(x >= *edges.lower.get(b + 1)?);
        let (low, high) = (*edges.lower.get(b)?, *edges.lower.get(b + 1)?);
        (x >= low * (1.0 + EDGE_MARGIN) && x < high * (1.0 - EDGE_MARGIN)).then_some(b)
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

    /// The bin read from the table of edges is the one the log gives.
    #[test]
    fn bin_from_edges_is_bin_from_log() {
        // The largest amounts, infinity included, share the last bin; what is not a number, the first.
        assert_eq!(Histogram::bin_of(f64::INFINITY), LAST_BIN);
        assert_eq!(Histogram::bin_of(f64::MAX), LAST_BIN);
        assert_eq!(Histogram::bin_of(f64::NAN), 0);
        let check = |x: f64| {
            assert_eq!(
                Histogram::bin(x),
                Histogram::bin_by_log(x),
                "x = {x:e} ({:#x})",
                x.to_bits()
            )
        };
        for x in [
            f64::NAN,
            -f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            -0.0,
            0.0,
            0.5,
            1.0,
            2f64.powi(37),
            1e11,
            1e12,
            1e300,
        ] {
            check(x);
        }
        // Every edge, and the floating-point numbers around it.
        for b in 0..=LAST_BIN + 1 {
            let edge = 10f64.powf(b as f64 / BINS_PER_DECADE as f64 - 1.0 / BINS_PER_DECADE as f64);
            for e in [edge, Histogram::lower_edge(b.min(LAST_BIN))] {
                for d in -64i64..=64 {
                    check(f64::from_bits(e.to_bits().wrapping_add_signed(d)));
                }
                for r in [1e-12, 1e-10, 1e-9, 2e-9, 1e-8, 1e-6, 1e-4] {
                    check(e * (1.0 + r));
                    check(e * (1.0 - r));
                }
            }
        }
        // Cell boundaries, and many amounts spread over the range.
        for cell in 0..37u64 << CELL_BITS {
            let least = f64::from_bits(((1023 << CELL_BITS) + cell) << (52 - CELL_BITS));
            for d in -4i64..=4 {
                check(f64::from_bits(least.to_bits().wrapping_add_signed(d)));
            }
        }
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut by_log = 0;
        for _ in 0..2_000_000 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let u = (state >> 11) as f64 / (1u64 << 53) as f64;
            let x = 10f64.powf(-1.0 + 13.0 * u);
            check(x);
            check(f64::from_bits(state >> 1));
            by_log += usize::from((1.0..1e11).contains(&x) && Histogram::bin_by_edges(x).is_none());
        }
        // The log is taken only next to an edge: for hardly any amount.
        assert!(by_log < 10, "{by_log} amounts binned by their log");
    }
}
