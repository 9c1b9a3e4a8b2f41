//! Break-even: how much of the intervention's effect is needed to pay back.

/// Effect fractions of the break-even curve: 0, 0.1, …, 1.
pub const CURVE: [f64; 11] = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];

/// Largest multiple of the assumed effect searched for a break-even.
pub const MAX_SCALE: f64 = 8.0;

/// The smallest fraction `s ≥ 0` of every effect at which `npv(s)` reaches 0.
///
/// `Some(0.0)` when the NPV is not negative even with no effect (the
/// intervention pays back through what it changes without effects, or
/// costs nothing). A result above 1 says the program needs a larger effect
/// than assumed; the search doubles the effect up to [`MAX_SCALE`] times
/// and stops early where an amplified effect is no longer valid (a
/// relative risk pushing a row above 1). `None`: never positive. Found on
/// a bracket `npv(lo) < 0 ≤ npv(hi)` narrowed to a width of `1e-13` by the
/// ITP method (Oliveira and Takahashi, 2020): at worst a step or two more
/// than bisection, and far fewer for an NPV as smooth as a cohort's;
/// the NPV is assumed continuous in `s`.
///
/// # Errors
///
/// Whatever `npv` returns at `s ≤ 1`.
pub fn effect_scale<E>(mut npv: impl FnMut(f64) -> Result<f64, E>) -> Result<Option<f64>, E> {
    let at_zero = npv(0.0)?;
    if at_zero >= 0.0 {
        return Ok(Some(0.0));
    }
    let (mut lo, mut hi) = ((0.0f64, at_zero), (1.0f64, npv(1.0)?));
    while hi.1 < 0.0 {
        lo = hi;
        let s = 2.0 * hi.0;
        if s > MAX_SCALE {
            return Ok(None);
        }
        hi = match npv(s) {
            Ok(x) => (s, x),
            Err(_) => return Ok(None),
        };
    }
    let (a, b) = itp(lo, hi, 0.5e-13, npv)?;
    debug_assert!(b - a <= 1e-13);
    Ok(Some(b))
}

/// Narrows the bracket `lo = (a, f(a))`, `hi = (b, f(b))` with
/// `f(a) < 0 ≤ f(b)` until `b − a ≤ 2ε`, by the ITP method with its usual
/// constants (κ₁ = 0.2 / (b − a), κ₂ = 2, n₀ = 1): a step of regula falsi,
/// truncated towards the midpoint and kept within the distance of it that
/// still finishes in at most one step more than bisection.
fn itp<E>(lo: (f64, f64), hi: (f64, f64), eps: f64, mut f: impl FnMut(f64) -> Result<f64, E>) -> Result<(f64, f64), E> {
    let ((mut a, mut fa), (mut b, mut fb)) = (lo, hi);
    let k1 = 0.2 / (b - a);
    let n_half = ((b - a) / (2.0 * eps)).log2().ceil().max(0.0);
    let n_max = n_half + 1.0;
    let mut j = 0.0;
    while b - a > 2.0 * eps {
        let half = 0.5 * (a + b);
        let radius = eps * (n_max - j).exp2() - 0.5 * (b - a);
        let delta = k1 * (b - a) * (b - a);
        let falsi = (fb * a - fa * b) / (fb - fa);
        let toward = (half - falsi).signum();
        let truncated = if delta <= (half - falsi).abs() {
            falsi + toward * delta
        } else {
            half
        };
        let x = if (truncated - half).abs() <= radius {
            truncated
        } else {
            half - toward * radius
        };
        // A step that rounding put on (or outside) the bracket falls back to the midpoint.
        let x = if x > a && x < b { x } else { half };
        let y = f(x)?;
        if y < 0.0 {
            (a, fa) = (x, y);
        } else {
            (b, fb) = (x, y);
        }
        j += 1.0;
    }
    Ok((a, b))
}

/// Where a curve of values on [`CURVE`] first reaches 0, interpolated
/// linearly; `Some(0.0)` if it starts at or above 0, `None` if it never does.
pub fn crossing(values: &[f64]) -> Option<f64> {
    if values.first().is_some_and(|&v| v >= 0.0) {
        return Some(0.0);
    }
    values
        .windows(2)
        .zip(CURVE.windows(2))
        .find(|(v, _)| v[1] >= 0.0)
        .map(|(v, s)| s[0] + (s[1] - s[0]) * (-v[0]) / (v[1] - v[0]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_root_of_a_linear_npv() {
        let s = effect_scale(|s| Ok::<_, ()>(-30.0 + 100.0 * s)).unwrap().unwrap();
        assert!((s - 0.3).abs() < 1e-12);
        assert_eq!(effect_scale(|s| Ok::<_, ()>(5.0 + s)), Ok(Some(0.0)));
        assert_eq!(effect_scale(|s| Ok::<_, ()>(-50.0 + s)), Ok(None));
        let twice = effect_scale(|s| Ok::<_, ()>(-2.5 + s)).unwrap().unwrap();
        assert!((twice - 2.5).abs() < 1e-12, "needs 2.5 times the effect: {twice}");
    }

    #[test]
    fn brackets_the_root_of_a_smooth_npv_to_1e_13_in_few_steps() {
        // Curved, like a cohort's NPV in the effect: root at s = ln 3 / 2.
        let mut calls = 0;
        let mut npv = |s: f64| {
            calls += 1;
            Ok::<_, ()>((2.0 * s).exp() - 3.0)
        };
        let s = effect_scale(&mut npv).unwrap().unwrap();
        let root = 3f64.ln() / 2.0;
        assert!(s >= root && s - root <= 1e-13, "{s} against {root}");
        // Bisection would take 43 steps after the bracket [0, 1].
        assert!(calls <= 12, "{calls} evaluations");
        // The NPV is not negative at the scale returned.
        assert!((2.0 * s).exp() - 3.0 >= 0.0);
        // A kinked NPV still ends in a bracket of 1e-13, at most two steps after bisection would (44).
        let mut calls = 0;
        let kinked = effect_scale(|s: f64| {
            calls += 1;
            Ok::<_, ()>(if s < 0.7 { -1.0 } else { s - 0.7 })
        })
        .unwrap()
        .unwrap();
        assert!((0.7..=0.7 + 1e-13).contains(&kinked), "{kinked}");
        assert!(calls <= 2 + 44 + 2, "{calls} evaluations");
    }
}
