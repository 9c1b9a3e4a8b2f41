//! Correlated parameters: a Gaussian copula over a block of parameters.
//!
//! A block draws standard normals `z`, correlates them as `y = L·z` with `L`
//! the Cholesky factor of the block's correlation matrix, and maps each
//! `y_k` through `Φ` to a probability at which its parameter is evaluated
//! (see [`crate::param::sample_all`]). The matrix is therefore the
//! correlation of the *normal scores*; each parameter keeps its own marginal
//! distribution exactly.

use nalgebra::{Cholesky, DMatrix};

/// Tolerance for the symmetry and unit-diagonal checks.
const TOLERANCE: f64 = 1e-12;

/// A block of parameters whose normal scores are correlated.
///
/// Built by [`Correlation::new`] or [`Correlation::pair`], which check that
/// the matrix is a valid (positive definite) correlation matrix and keep its
/// Cholesky factor for sampling.
#[derive(Clone, Debug, PartialEq)]
pub struct Correlation {
    /// Indices into the scenario's parameters; row and column `r` of the
    /// matrix belong to `params[r]`.
    pub params: Vec<usize>,
    /// Lower-triangular `L` with `L·Lᵀ` the correlation matrix.
    cholesky: DMatrix<f64>,
}

impl Correlation {
    /// A block of parameters with the correlation matrix of their normal scores.
    ///
    /// # Errors
    ///
    /// A message saying what was expected when the block has fewer than two
    /// or repeated parameters, or the matrix is not square with one row per
    /// parameter, not finite, not symmetric (within 1e-12), has a diagonal
    /// other than 1, an entry outside `[−1, 1]`, or is not positive definite.
    ///
    /// ```
    /// use lifecost::param::Correlation;
    /// use nalgebra::DMatrix;
    ///
    /// let m = DMatrix::from_row_slice(3, 3, &[1.0, 0.5, 0.2, 0.5, 1.0, 0.3, 0.2, 0.3, 1.0]);
    /// let c = Correlation::new(vec![0, 4, 7], m)?;
    /// assert_eq!(c.params, [0, 4, 7]);
    ///
    /// let bad = DMatrix::from_row_slice(2, 2, &[1.0, 0.5, 0.4, 1.0]);
    /// assert!(Correlation::new(vec![0, 1], bad).is_err());
    /// # Ok::<(), String>(())
    /// ```
    pub fn new(params: Vec<usize>, matrix: DMatrix<f64>) -> Result<Correlation, String> {
        let n = params.len();
        if n < 2 {
            return Err(format!(
                "a correlation block has {n} parameter(s); expected at least two"
            ));
        }
        if let Some((i, &p)) = params.iter().enumerate().find(|&(i, p)| params[..i].contains(p)) {
            return Err(format!(
                "parameter {p} appears twice in a correlation block (position {i}); expected distinct parameters"
            ));
        }
        if matrix.nrows() != n || matrix.ncols() != n {
            return Err(format!(
                "the correlation matrix is {}×{}; expected {n}×{n}, one row and column per parameter",
                matrix.nrows(),
                matrix.ncols()
            ));
        }
        for r in 0..n {
            for c in 0..n {
                let x = matrix[(r, c)];
                if !x.is_finite() {
                    return Err(format!("correlation[{r}][{c}] is {x}; expected a finite number"));
                }
                if r == c && (x - 1.0).abs() > TOLERANCE {
                    return Err(format!("correlation[{r}][{r}] is {x}; expected 1 on the diagonal"));
                }
                if !(-1.0..=1.0).contains(&x) {
                    return Err(format!("correlation[{r}][{c}] is {x}; expected a number in [−1, 1]"));
                }
                if (x - matrix[(c, r)]).abs() > TOLERANCE {
                    return Err(format!(
                        "correlation[{r}][{c}] is {x} but correlation[{c}][{r}] is {}; expected a symmetric matrix",
                        matrix[(c, r)]
                    ));
                }
            }
        }
        // nalgebra reads only the lower triangle, which the symmetry check makes representative.
        let Some(cholesky) = Cholesky::new(matrix) else {
            return Err(
                "the correlation matrix is not positive definite; expected a valid correlation matrix \
                 (no ±1 correlations, and pairwise values that are mutually consistent)"
                    .to_owned(),
            );
        };
        Ok(Correlation {
            params,
            cholesky: cholesky.l(),
        })
    }

    /// Two parameters whose normal scores have correlation `rho`.
    ///
    /// # Errors
    ///
    /// If `a == b`, or `rho` is not in `(−1, 1)` (a perfect correlation is one
    /// parameter, written once and referenced twice).
    ///
    /// ```
    /// use lifecost::param::Correlation;
    ///
    /// let c = Correlation::pair(2, 5, 0.6)?;
    /// assert_eq!(c.params, [2, 5]);
    /// assert!(Correlation::pair(2, 5, 1.0).is_err());
    /// # Ok::<(), String>(())
    /// ```
    pub fn pair(a: usize, b: usize, rho: f64) -> Result<Correlation, String> {
        if !(rho > -1.0 && rho < 1.0) {
            return Err(format!(
                "correlation {rho} between parameters {a} and {b}; expected a number in (−1, 1)"
            ));
        }
        Correlation::new(vec![a, b], DMatrix::from_row_slice(2, 2, &[1.0, rho, rho, 1.0]))
    }

    /// The lower-triangular Cholesky factor `L` (`L·Lᵀ` is the correlation
    /// matrix), in the order of [`Correlation::params`].
    ///
    /// ```
    /// use lifecost::param::Correlation;
    ///
    /// let l = Correlation::pair(0, 1, 0.6)?.cholesky().clone();
    /// assert!((l[(1, 0)] - 0.6).abs() < 1e-15 && (l[(1, 1)] - 0.8).abs() < 1e-15);
    /// # Ok::<(), String>(())
    /// ```
    pub fn cholesky(&self) -> &DMatrix<f64> {
        &self.cholesky
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::param::{Distribution, Parameter, sample_all};
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn param(distribution: Distribution) -> Parameter {
        Parameter::bare(distribution, None)
    }

    /// Pearson correlation.
    fn pearson(x: &[f64], y: &[f64]) -> f64 {
        let n = x.len() as f64;
        let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
        let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
        for (a, b) in x.iter().zip(y) {
            sxy += (a - mx) * (b - my);
            sxx += (a - mx).powi(2);
            syy += (b - my).powi(2);
        }
        sxy / (sxx * syy).sqrt()
    }

    /// Ranks 0..n (the marginals are continuous, so ties have probability 0).
    fn ranks(x: &[f64]) -> Vec<f64> {
        let mut order: Vec<usize> = (0..x.len()).collect();
        order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
        let mut r = vec![0.0; x.len()];
        for (rank, i) in order.into_iter().enumerate() {
            r[i] = rank as f64;
        }
        r
    }

    /// A beta and a lognormal with normal-score correlation 0.6, 100 000 draws.
    /// The normal scores `Φ⁻¹(F(x))` recover `y` and so correlate at 0.6;
    /// Spearman's ρ of a Gaussian copula is `(6/π)·asin(ρ/2)` = 0.5819.
    /// Tolerances are 5 standard errors: `(1 − ρ²)/√n` = 0.0020 for Pearson on
    /// normal scores, and 0.0022 for Spearman (Fieller: `var(atanh ρ_S) ≈ 1.06/n`).
    /// The marginals keep their means (5 standard errors).
    #[test]
    fn pair_reproduces_correlation() {
        let n = 100_000;
        let rho = 0.6;
        let beta = Distribution::Beta { alpha: 3.0, beta: 47.0 };
        let lognormal = Distribution::LogNormal { mu: -0.36, sigma: 0.17 };
        let params = [
            param(beta.clone()),
            param(Distribution::Fixed(2.0)),
            param(lognormal.clone()),
        ];
        let correlations = [Correlation::pair(0, 2, rho).unwrap()];
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(2024);
        let (mut xs, mut ys) = (Vec::with_capacity(n), Vec::with_capacity(n));
        let mut out = [0.0; 3];
        for _ in 0..n {
            sample_all(&params, &correlations, &mut rng, &mut out);
            assert_eq!(out[1], 2.0);
            xs.push(out[0]);
            ys.push(out[2]);
        }
        let score = |d: &Distribution, v: &[f64]| -> Vec<f64> {
            v.iter()
                .map(|&x| Distribution::Normal { mean: 0.0, sd: 1.0 }.quantile(d.cdf(x)))
                .collect()
        };
        let r = pearson(&score(&beta, &xs), &score(&lognormal, &ys));
        let se = (1.0 - rho * rho) / (n as f64).sqrt();
        assert!(
            (r - rho).abs() < 5.0 * se,
            "normal-score correlation {r}, expected {rho} ± {}",
            5.0 * se
        );
        let spearman = pearson(&ranks(&xs), &ranks(&ys));
        let expect = 6.0 / std::f64::consts::PI * (rho / 2.0).asin();
        let se = (1.0 - expect * expect) * (1.06 / n as f64).sqrt();
        assert!(
            (spearman - expect).abs() < 5.0 * se,
            "Spearman {spearman}, expected {expect} ± {}",
            5.0 * se
        );
        for (d, v) in [(&beta, &xs), (&lognormal, &ys)] {
            let m = v.iter().sum::<f64>() / n as f64;
            let sd = (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n as f64 - 1.0)).sqrt();
            assert!((m - d.mean()).abs() < 5.0 * sd / (n as f64).sqrt(), "{d:?}: mean {m}");
        }
    }

    /// The same seed gives the same draw; the block is drawn at its lowest
    /// index whatever order `params` lists it in.
    #[test]
    fn block_draw_is_reproducible() {
        let params = [
            param(Distribution::Gamma { shape: 2.0, scale: 1.0 }),
            param(Distribution::Normal { mean: 0.0, sd: 1.0 }),
            param(Distribution::Uniform { min: 0.0, max: 1.0 }),
        ];
        let forward = [Correlation::pair(0, 2, -0.4).unwrap()];
        let mut a = [0.0; 3];
        let mut b = [0.0; 3];
        sample_all(&params, &forward, &mut Xoshiro256PlusPlus::seed_from_u64(8), &mut a);
        sample_all(&params, &forward, &mut Xoshiro256PlusPlus::seed_from_u64(8), &mut b);
        assert_eq!(a, b);
        // Listing the block backwards swaps which normal each member gets, so
        // the values differ, but every value stays a valid draw.
        let backward = [Correlation::pair(2, 0, -0.4).unwrap()];
        sample_all(&params, &backward, &mut Xoshiro256PlusPlus::seed_from_u64(8), &mut b);
        assert!(b[0] > 0.0 && (0.0..=1.0).contains(&b[2]));
    }

    #[test]
    fn not_positive_definite_is_rejected() {
        let m = DMatrix::from_row_slice(3, 3, &[1.0, 0.9, -0.9, 0.9, 1.0, 0.9, -0.9, 0.9, 1.0]);
        let e = Correlation::new(vec![0, 1, 2], m).unwrap_err();
        assert!(e.contains("not positive definite"), "{e}");
        let e = Correlation::pair(0, 1, 1.0).unwrap_err();
        assert!(e.contains("expected a number in (−1, 1)"), "{e}");
    }

    #[test]
    fn malformed_blocks_are_rejected() {
        let id2 = DMatrix::<f64>::identity(2, 2);
        let e = Correlation::new(vec![0, 1, 2], id2.clone()).unwrap_err();
        assert!(e.contains("expected 3×3"), "{e}");
        let e = Correlation::new(vec![0, 1], DMatrix::<f64>::identity(2, 3)).unwrap_err();
        assert!(e.contains("expected 2×2"), "{e}");
        let e = Correlation::new(vec![4, 4], id2.clone()).unwrap_err();
        assert!(e.contains("distinct"), "{e}");
        let e = Correlation::new(vec![4], DMatrix::<f64>::identity(1, 1)).unwrap_err();
        assert!(e.contains("at least two"), "{e}");
        let e = Correlation::new(vec![0, 1], DMatrix::from_row_slice(2, 2, &[1.0, 0.5, 0.4, 1.0])).unwrap_err();
        assert!(e.contains("symmetric"), "{e}");
        let e = Correlation::new(vec![0, 1], DMatrix::from_row_slice(2, 2, &[2.0, 0.5, 0.5, 1.0])).unwrap_err();
        assert!(e.contains("diagonal"), "{e}");
        let e = Correlation::new(vec![0, 1], DMatrix::from_row_slice(2, 2, &[1.0, 1.5, 1.5, 1.0])).unwrap_err();
        assert!(e.contains("[−1, 1]"), "{e}");
        let e = Correlation::new(
            vec![0, 1],
            DMatrix::from_row_slice(2, 2, &[1.0, f64::NAN, f64::NAN, 1.0]),
        )
        .unwrap_err();
        assert!(e.contains("finite"), "{e}");
        assert!(Correlation::new(vec![0, 1], id2).is_ok());
    }
}
