//! Discount factors: a constant annual rate or a piecewise schedule.

/// An annual discount rate, constant or stepped (e.g. the Green Book's
/// declining schedule), compounded segment by segment.
#[derive(Clone, Debug, PartialEq)]
pub struct DiscountRate {
    /// `(from_year, rate)`, the first at year 0, years increasing.
    steps: Vec<(f64, f64)>,
}

impl DiscountRate {
    /// One rate for every year.
    pub fn constant(rate: f64) -> Self {
        DiscountRate {
            steps: vec![(0.0, rate)],
        }
    }

    /// A schedule: `rate` applies from `from_year` until the next step.
    /// The first step must start at year 0.
    pub(crate) fn schedule(steps: Vec<(f64, f64)>) -> Self {
        DiscountRate { steps }
    }

    /// The rate in force at year 0.
    pub fn initial_rate(&self) -> f64 {
        self.steps[0].1
    }

    /// The factor `D(x)` for a flow `x` years after the start.
    ///
    /// `D(x) = Π_k (1 + r_k)^(−overlap of segment k with [0, x])`.
    pub fn factor(&self, x: f64) -> f64 {
        let mut log_d = 0.0;
        for (k, &(from, rate)) in self.steps.iter().enumerate() {
            if x <= from {
                break;
            }
            let until = self.steps.get(k + 1).map_or(f64::INFINITY, |s| s.0);
            let years = x.min(until) - from;
            log_d -= years * (1.0 + rate).ln();
        }
        log_d.exp()
    }

    /// Factors `D(t + offset)` for cycles `t = 0..n`.
    pub fn factors(&self, n: usize, offset: f64) -> Vec<f64> {
        // As `factor`, with each segment's log factor taken once.
        let logs: Vec<f64> = self.steps.iter().map(|&(_, rate)| (1.0 + rate).ln()).collect();
        (0..n)
            .map(|t| {
                let x = t as f64 + offset;
                let mut log_d = 0.0;
                for (k, &(from, _)) in self.steps.iter().enumerate() {
                    if x <= from {
                        break;
                    }
                    let until = self.steps.get(k + 1).map_or(f64::INFINITY, |s| s.0);
                    let years = x.min(until) - from;
                    log_d -= years * logs[k];
                }
                log_d.exp()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn constant_rate_compounds() {
        let d = DiscountRate::constant(0.035);
        assert_relative_eq!(d.factor(10.0), 1.035f64.powi(-10), max_relative = 1e-14);
        assert_eq!(d.factor(0.0), 1.0);
    }

    #[test]
    fn factors_are_the_factor_of_each_cycle() {
        let d = DiscountRate::schedule(vec![(0.0, 0.035), (30.0, 0.03), (75.0, 0.025)]);
        for (t, f) in d.factors(90, 0.5).into_iter().enumerate() {
            assert_eq!(f.to_bits(), d.factor(t as f64 + 0.5).to_bits());
        }
    }

    #[test]
    fn schedule_compounds_segment_by_segment() {
        let d = DiscountRate::schedule(vec![(0.0, 0.035), (30.0, 0.03), (75.0, 0.025)]);
        let expected = 1.035f64.powi(-30) * 1.03f64.powi(-45) * 1.025f64.powf(-5.5);
        assert_relative_eq!(d.factor(80.5), expected, max_relative = 1e-13);
        assert_relative_eq!(d.factor(12.0), 1.035f64.powi(-12), max_relative = 1e-14);
    }
}
