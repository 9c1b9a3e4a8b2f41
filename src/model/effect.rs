//! Applying effects to one row of a transition table.

use super::EffectModel;
use crate::scenario::EffectKind;

/// Applies, in order, every effect out of state `from` to `row` (a full row:
/// the diagonal entry is the probability of staying), `d` cycles after
/// enrolment, with strength scaled by `scale`.
///
/// # Errors
///
/// The offending effect and the row sum when a relative risk or odds ratio
/// pushes the probabilities of leaving above 1. A hazard ratio never does.
pub fn apply_effects<'a>(
    row: &mut [f64],
    from: usize,
    effects: &'a [EffectModel],
    d: f64,
    scale: f64,
) -> Result<(), (&'a EffectModel, f64)> {
    for e in effects.iter().filter(|e| e.from == from) {
        apply_effect(row, from, e, e.ratio_at(d, scale))?;
    }
    Ok(())
}

/// Applies one effect out of state `from` to `row` at ratio `theta` (its
/// [`EffectModel::ratio_at`]); a ratio of 1 changes nothing.
///
/// # Errors
///
/// As [`apply_effects`].
#[inline]
pub(crate) fn apply_effect<'a>(
    row: &mut [f64],
    from: usize,
    e: &'a EffectModel,
    theta: f64,
) -> Result<(), (&'a EffectModel, f64)> {
    if theta == 1.0 {
        return Ok(());
    }
    match e.kind {
        EffectKind::HazardRatio => hazard_ratio(row, from, &e.to, theta),
        EffectKind::RelativeRisk => {
            for &j in &e.to {
                row[j] *= theta;
            }
        }
        EffectKind::OddsRatio | EffectKind::EffectSizeD => {
            for &j in &e.to {
                let p = row[j];
                row[j] = theta * p / (1.0 - p + theta * p);
            }
        }
    }
    let leave = leave_sum(row, from);
    if leave > 1.0 + 1e-12 {
        return Err((e, leave));
    }
    row[from] = (1.0 - leave).max(0.0);
    Ok(())
}

fn leave_sum(row: &[f64], from: usize) -> f64 {
    row.iter().enumerate().filter(|&(j, _)| j != from).map(|(_, p)| p).sum()
}

/// Competing hazards: total leave probability `P`, total rate `λ = −ln(1 − P)`,
/// cause-specific rates `λ_j = λ·p_j/P`; the affected rates are multiplied by
/// `theta` and the row converted back.
fn hazard_ratio(row: &mut [f64], from: usize, to: &[usize], theta: f64) {
    let leave = leave_sum(row, from);
    if leave <= 0.0 {
        return;
    }
    let mut scaled = 0.0;
    for (j, p) in row.iter().enumerate() {
        if j != from {
            scaled += if to.contains(&j) { p * theta } else { *p };
        }
    }
    if scaled <= 0.0 {
        for (j, p) in row.iter_mut().enumerate() {
            if j != from {
                *p = 0.0;
            }
        }
        return;
    }
    // Rates are proportional to p_j, so only the totals need the log transform.
    let new_leave = if leave >= 1.0 {
        1.0
    } else {
        let rate = -(-leave).ln_1p();
        -(-rate * scaled / leave).exp_m1()
    };
    let k = new_leave / scaled;
    for (j, p) in row.iter_mut().enumerate() {
        if j != from {
            *p *= if to.contains(&j) { theta * k } else { k };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    fn effect(kind: EffectKind, ratio: f64) -> EffectModel {
        EffectModel {
            from: 0,
            to: vec![1],
            kind,
            ratio,
            duration: f64::INFINITY,
            half_life: None,
            drop_off: 0.0,
            path: String::new(),
        }
    }

    #[test]
    fn hazard_ratio_follows_competing_hazards() {
        let mut row = [0.7, 0.2, 0.1];
        apply_effects(&mut row, 0, &[effect(EffectKind::HazardRatio, 0.5)], 0.0, 1.0).unwrap();
        let rate = -(0.7f64).ln();
        let (l1, l2) = (rate * 2.0 / 3.0 * 0.5, rate / 3.0);
        let leave = 1.0 - (-(l1 + l2)).exp();
        assert_relative_eq!(row[1], leave * l1 / (l1 + l2), max_relative = 1e-14);
        assert_relative_eq!(row[2], leave * l2 / (l1 + l2), max_relative = 1e-14);
        assert_relative_eq!(row.iter().sum::<f64>(), 1.0, max_relative = 1e-14);
    }

    #[test]
    fn hazard_ratio_of_one_changes_nothing() {
        let mut row = [0.7, 0.2, 0.1];
        apply_effects(&mut row, 0, &[effect(EffectKind::HazardRatio, 1.0)], 0.0, 1.0).unwrap();
        assert_eq!(row, [0.7, 0.2, 0.1]);
    }

    #[test]
    fn relative_risk_above_one_is_an_error() {
        let mut row = [0.1, 0.6, 0.3];
        let (_, sum) = apply_effects(&mut row, 0, &[effect(EffectKind::RelativeRisk, 2.0)], 0.0, 1.0).unwrap_err();
        assert_relative_eq!(sum, 1.5, max_relative = 1e-14);
    }

    #[test]
    fn odds_ratio_and_effect_size() {
        let mut row = [0.8, 0.2, 0.0];
        apply_effects(&mut row, 0, &[effect(EffectKind::OddsRatio, 2.0)], 0.0, 1.0).unwrap();
        assert_relative_eq!(row[1], 0.4 / 1.2, max_relative = 1e-14);
        assert_relative_eq!(row[0], 1.0 - 0.4 / 1.2, max_relative = 1e-14);
    }

    #[test]
    fn fading_follows_half_life() {
        let mut e = effect(EffectKind::RelativeRisk, 0.5);
        e.duration = 3.0;
        e.half_life = Some(2.0);
        assert_eq!(e.ratio_at(2.0, 1.0), 0.5);
        assert_relative_eq!(e.ratio_at(5.0, 1.0), 0.5f64.powf(0.5), max_relative = 1e-14);
        e.half_life = None;
        assert_eq!(e.ratio_at(3.0, 1.0), 1.0);
    }
}
