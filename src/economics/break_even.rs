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
/// relative risk pushing a row above 1). `None`: never positive. Found by
/// bisection on a bracket `npv(lo) < 0 ≤ npv(hi)`, to a width of `1e-13`;
/// the NPV is assumed continuous in `s`.
///
/// # Errors
///
/// Whatever `npv` returns at `s ≤ 1`.
pub fn effect_scale<E>(mut npv: impl FnMut(f64) -> Result<f64, E>) -> Result<Option<f64>, E> {
    if npv(0.0)? >= 0.0 {
        return Ok(Some(0.0));
    }
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    if npv(1.0)? < 0.0 {
        loop {
            lo = hi;
            hi *= 2.0;
            if hi > MAX_SCALE {
                return Ok(None);
            }
            match npv(hi) {
                Ok(x) if x >= 0.0 => break,
                Ok(_) => {}
                Err(_) => return Ok(None),
            }
        }
    }
    while hi - lo > 1e-13 {
        let mid = 0.5 * (lo + hi);
        if npv(mid)? < 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(Some(hi))
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
}
