//! Break-even: how much of the intervention's effect is needed to pay back.

/// The smallest fraction `s ∈ [0, 1]` of every effect at which `npv(s)` reaches 0.
///
/// `Some(0.0)` when the NPV is not negative even with no effect (the
/// intervention pays back through what it changes without effects, or
/// costs nothing); `None` when it is still negative with the full effect.
/// Found by bisection on a bracket `npv(lo) < 0 ≤ npv(hi)`, to a width of
/// `1e-13`; the NPV is assumed continuous in `s`.
///
/// # Errors
///
/// Whatever `npv` returns.
pub fn effect_scale<E>(mut npv: impl FnMut(f64) -> Result<f64, E>) -> Result<Option<f64>, E> {
    if npv(0.0)? >= 0.0 {
        return Ok(Some(0.0));
    }
    if npv(1.0)? < 0.0 {
        return Ok(None);
    }
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_root_of_a_linear_npv() {
        let s = effect_scale(|s| Ok::<_, ()>(-30.0 + 100.0 * s)).unwrap().unwrap();
        assert!((s - 0.3).abs() < 1e-12);
        assert_eq!(effect_scale(|s| Ok::<_, ()>(5.0 + s)), Ok(Some(0.0)));
        assert_eq!(effect_scale(|s| Ok::<_, ()>(-5.0 + s)), Ok(None));
    }
}
