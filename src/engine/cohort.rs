//! The cohort engine: exact expected occupancy by matrix–vector products.
//!
//! Children enrolled in cycle `k` form their own sub-cohort, because an
//! effect's strength depends on the time since enrolment. Children offered
//! the intervention who decline, and children not (yet) eligible, follow the
//! status-quo tables.

use nalgebra::DVector;

use super::{ArmStreams, EngineError};
use crate::model::{Arm, GroupModel, Model, apply_effects};
use crate::scenario::CycleCounting;

/// Runs every arm of `model`; `scale` scales every effect (1 = as written).
///
/// # Errors
///
/// [`EngineError`] when an effect pushes a row of probabilities above 1.
pub fn run(model: &Model, scale: f64) -> Result<Vec<ArmStreams>, EngineError> {
    model.arms.iter().map(|arm| run_arm(model, arm, scale)).collect()
}

/// Expected per-child streams of one arm, the groups weighted by size.
pub fn run_arm(model: &Model, arm: &Arm, scale: f64) -> Result<ArmStreams, EngineError> {
    let mut out = ArmStreams::zeros(arm, model);
    for group in &model.groups {
        run_group(model, arm, group, scale, &mut out)?;
    }
    Ok(out)
}

struct SubCohort {
    /// Cycle of enrolment.
    enrolled_at: usize,
    x: DVector<f64>,
}

fn run_group(
    model: &Model,
    arm: &Arm,
    group: &GroupModel,
    scale: f64,
    out: &mut ArmStreams,
) -> Result<(), EngineError> {
    let w = group.weight;
    let n_cycles = (model.end_age - group.start_age) as usize;
    let n_states = model.n_states();
    let iv = arm.intervention.as_ref();

    // `pending` may still be enrolled; `rest` never will be (declined, or past the window).
    let mut pending = group.start.clone();
    let mut rest = DVector::<f64>::zeros(n_states);
    let mut enrolled: Vec<SubCohort> = Vec::new();
    let mut next = DVector::<f64>::zeros(n_states);
    let mut stay = DVector::<f64>::zeros(n_states);
    let mut row = vec![0.0; n_states];
    let mut effect_rows: Vec<usize> = iv
        .map(|iv| iv.effects.iter().map(|e| e.from).collect())
        .unwrap_or_default();
    effect_rows.sort_unstable();
    effect_rows.dedup();

    for t in 0..n_cycles {
        let age = group.start_age + t as u32;
        let table = model.table(age);

        if let Some(iv) = iv {
            if iv.enrols_at(group.start_age, age) {
                let mut joined = DVector::<f64>::zeros(n_states);
                for s in (0..n_states).filter(|&s| iv.enrol_states[s]) {
                    joined[s] = iv.uptake * pending[s];
                    rest[s] += (1.0 - iv.uptake) * pending[s];
                    pending[s] = 0.0;
                }
                let mass = joined.sum();
                if mass > 0.0 {
                    for p in 0..model.n_payers() {
                        out.intervention[(p, t)] += w * mass * iv.once_costs[p];
                    }
                    out.participants += w * mass;
                    enrolled.push(SubCohort {
                        enrolled_at: t,
                        x: joined,
                    });
                }
            }
            let window_over = match iv.enrol_ages {
                Some((_, to)) => age + 1 >= to,
                None => true,
            };
            if window_over && pending.iter().any(|&p| p != 0.0) {
                rest += &pending;
                pending.fill(0.0);
            }
        }

        for x in [&mut pending, &mut rest] {
            table.tr_mul_to(x, &mut next);
            stay.copy_from(&table.diagonal());
            account(model, t, w, x, &next, &stay, out);
            std::mem::swap(x, &mut next);
        }

        for sub in &mut enrolled {
            let iv = iv.expect("sub-cohorts exist only in intervention arms");
            let d = (t - sub.enrolled_at) as f64;
            table.tr_mul_to(&sub.x, &mut next);
            stay.copy_from(&table.diagonal());
            // Replace the status-quo rows of affected states by their modified rows.
            for &s in &effect_rows {
                let mass = sub.x[s];
                for (j, r) in row.iter_mut().enumerate() {
                    *r = table[(s, j)];
                }
                apply_effects(&mut row, s, &iv.effects, d, scale).map_err(|(e, sum)| EngineError::RowAboveOne {
                    path: e.path.clone(),
                    state: s,
                    age,
                    arm: arm.id.clone(),
                    sum,
                })?;
                stay[s] = row[s];
                if mass != 0.0 {
                    for (j, r) in row.iter().enumerate() {
                        next[j] += mass * (r - table[(s, j)]);
                    }
                }
            }
            let counted = account(model, t, w, &sub.x, &next, &stay, out);
            if t - sub.enrolled_at < iv.cost_years as usize {
                let alive: f64 = (0..n_states).filter(|&s| !model.absorbing[s]).map(|s| counted[s]).sum();
                for p in 0..model.n_payers() {
                    out.intervention[(p, t)] += w * alive * iv.yearly_costs[p];
                }
            }
            std::mem::swap(&mut sub.x, &mut next);
        }
    }
    Ok(())
}

/// Adds cycle `t`'s costs, outcomes, occupancy and entries of one sub-cohort,
/// weighted by `w`: `x` at the start of the cycle, `next` at its end, `stay`
/// the probability of staying in each state. Returns the counted occupancy.
fn account(
    model: &Model,
    t: usize,
    w: f64,
    x: &DVector<f64>,
    next: &DVector<f64>,
    stay: &DVector<f64>,
    out: &mut ArmStreams,
) -> DVector<f64> {
    let counted = match model.counting {
        CycleCounting::Beginning => x.clone(),
        CycleCounting::End => next.clone(),
        CycleCounting::LifeTable => (x + next) * 0.5,
    };
    // Entries into j: everything in j at the end that was not already there and stayed.
    let entries = next - x.component_mul(stay);
    let mut column = out.occupancy.column_mut(t);
    column.axpy(w, &counted, 1.0);
    let mut column = out.entries.column_mut(t);
    column.axpy(w, &entries, 1.0);
    let care = model.state_costs.tr_mul(&counted) + model.entry_costs.tr_mul(&entries);
    let mut column = out.care.column_mut(t);
    column.axpy(w, &care, 1.0);
    let outcomes = model.outcome_weights.tr_mul(&counted);
    let mut column = out.outcomes.column_mut(t);
    column.axpy(w, &outcomes, 1.0);
    counted
}
