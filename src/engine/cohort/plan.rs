//! How the effects of an arm's intervention change a sub-cohort's rows:
//! which effects act on each row, the ratios at each time since
//! enrolment, and the modified rows, computed when their ratios change and
//! kept by slot (segment and row).

use super::kernels::DENSE;
use super::{NONE, refill};
use crate::engine::EngineError;
use crate::model::{Arm, EffectModel, Model, Row, Segments, apply_effect};
use crate::scenario::EffectKind;

/// How the effects of an arm's intervention change its rows.
#[derive(Default)]
pub(super) struct Plan {
    pub(super) n_states: usize,
    scale: f64,
    /// States that effects start from, ascending.
    pub(super) rows: Vec<usize>,
    /// For segment `k` and effect row `r`, slot `k·rows.len() + r`: the
    /// effects that can change the row, `acting[acting_start[slot]..acting_start[slot + 1]]`.
    acting_start: Vec<usize>,
    acting: Vec<usize>,
    /// Whether every effect acting in a slot is a hazard ratio.
    hazard_only: Vec<bool>,
    /// Effects with the same ratio, duration, half-life and drop-off share a class.
    class: Vec<usize>,
    reps: Vec<usize>,
    wild: Vec<bool>,
    /// Ratio of each class at each time since enrolment (NaN: not yet computed).
    theta: Vec<f64>,
    n_cycles: usize,
    /// The modified rows of each slot, at the positions of the segment's
    /// moves, and the ratios they were computed at (`key`).
    pub(super) cached_probs: Vec<f64>,
    pub(super) cached_stay: Vec<f64>,
    cached_key: Vec<f64>,
    /// Per slot: the time since enrolment its cached row was computed at
    /// (NaN: no row cached yet).
    cached_at: Vec<f64>,
    /// Per slot: the time since enrolment before which every effect acting
    /// on it keeps one strength ([`EffectModel::ratio_at`] is the same for
    /// every `d` below it: within its duration, with no drop-off).
    steady_until: Vec<f64>,
    max_acting: usize,
    thetas: Vec<f64>,
    /// Per slot: the rate `−ln(1 − P)` of leaving in the status quo (NaN: not yet computed).
    rate: Vec<f64>,
    /// Per move of a row: the product of the hazard ratios on it.
    factor: Vec<f64>,
    dense_row: Vec<f64>,
    /// Per slot, for models of at most [`DENSE`] states: its modified row
    /// dense, `n` values with zero on the diagonal.
    pub(super) dense_alt: Vec<f64>,
    /// Per state: the slot whose modified row the current sub-cohort uses, or NONE.
    pub(super) slot_of: Vec<u32>,
    /// Whether every modified row written dense since [`Plan::set`] is finite.
    pub(super) finite: bool,
}

impl Plan {
    pub(super) fn set(&mut self, model: &Model, arm: &Arm, scale: f64) {
        let n = model.n_states();
        let segments = model.segments();
        let effects: &[EffectModel] = arm.intervention.as_ref().map_or(&[], |iv| &iv.effects);
        self.n_states = n;
        self.scale = scale;
        self.rows.clear();
        self.rows.extend(effects.iter().map(|e| e.from));
        self.rows.sort_unstable();
        self.rows.dedup();

        self.class.clear();
        self.reps.clear();
        for (i, e) in effects.iter().enumerate() {
            let same = |f: &EffectModel| {
                f.ratio.to_bits() == e.ratio.to_bits()
                    && f.duration.to_bits() == e.duration.to_bits()
                    && f.half_life.map(f64::to_bits) == e.half_life.map(f64::to_bits)
                    && f.drop_off.to_bits() == e.drop_off.to_bits()
            };
            match self.reps.iter().position(|&r| same(&effects[r])) {
                Some(c) => self.class.push(c),
                None => {
                    self.class.push(self.reps.len());
                    self.reps.push(i);
                }
            }
        }
        // An effect whose ratio may not be finite is applied even where it has
        // nothing to change, so that it spoils the row as it is written to.
        self.wild.clear();
        self.wild.extend(effects.iter().map(|e| wild(e, scale)));

        let n_slots = segments.len() * self.rows.len();
        self.acting_start.clear();
        self.acting.clear();
        self.hazard_only.clear();
        self.steady_until.clear();
        self.max_acting = 0;
        for k in 0..segments.len() {
            for &s in &self.rows {
                self.acting_start.push(self.acting.len());
                let row = segments.row(k, s);
                let moves =
                    |j: usize| j != s && row.to.iter().zip(row.probs).any(|(&c, &p)| c as usize == j && p != 0.0);
                let before = self.acting.len();
                for (i, e) in effects.iter().enumerate() {
                    if e.from == s && (self.wild[i] || e.to.iter().any(|&j| moves(j))) {
                        self.acting.push(i);
                    }
                }
                self.max_acting = self.max_acting.max(self.acting.len() - before);
                let hazard = self.acting[before..]
                    .iter()
                    .all(|&i| effects[i].kind == EffectKind::HazardRatio);
                self.hazard_only.push(hazard);
                let steady = self.acting[before..]
                    .iter()
                    .map(|&i| match &effects[i] {
                        e if e.drop_off > 0.0 || e.duration.is_nan() => 0.0,
                        e => e.duration,
                    })
                    .fold(f64::INFINITY, f64::min);
                self.steady_until.push(steady);
            }
        }
        self.acting_start.push(self.acting.len());
        self.n_cycles = model.n_cycles();
        refill(&mut self.theta, self.reps.len() * self.n_cycles, f64::NAN);
        let moves = if self.rows.is_empty() { 0 } else { segments.n_moves() };
        refill(&mut self.cached_probs, moves, 0.0);
        refill(&mut self.cached_stay, n_slots, 0.0);
        refill(&mut self.cached_key, n_slots * self.max_acting, f64::NAN);
        refill(&mut self.cached_at, n_slots, f64::NAN);
        refill(&mut self.dense_row, n, 0.0);
        refill(&mut self.dense_alt, if n <= DENSE { n_slots * n } else { 0 }, 0.0);
        refill(&mut self.rate, n_slots, f64::NAN);
        refill(&mut self.factor, n, 1.0);
        refill(&mut self.slot_of, n, NONE);
        self.finite = true;
    }

    /// Sets `slot_of` for a sub-cohort, `d` cycles after enrolment, in
    /// segment `k`, with state `s` empty where `empty(s)`: for each effect
    /// row, the slot holding its modified row, computed (or found cached)
    /// here; NONE where the status-quo row serves.
    pub(super) fn modify(
        &mut self,
        segments: &Segments,
        k: usize,
        d: usize,
        empty: impl Fn(usize) -> bool,
        age: u32,
        arm: &Arm,
    ) -> Result<(), EngineError> {
        let effects: &[EffectModel] = arm.intervention.as_ref().map_or(&[], |iv| &iv.effects);
        let n_rows = self.rows.len();
        for r in 0..n_rows {
            let s = self.rows[r];
            let slot = k * n_rows + r;
            let acting = &self.acting[self.acting_start[slot]..self.acting_start[slot + 1]];
            // No effect can change the row, or nobody is there to move and no
            // hazard ratio can make the row invalid: the status-quo row serves.
            if acting.is_empty() || (empty(s) && self.hazard_only[slot]) {
                self.slot_of[s] = NONE;
                continue;
            }
            // Every acting effect still at the strength the cached row was computed at.
            let steady = self.steady_until[slot];
            if self.cached_at[slot] < steady && (d as f64) < steady {
                self.slot_of[s] = slot as u32;
                continue;
            }
            self.thetas.clear();
            for &i in acting {
                let at = self.class[i] * self.n_cycles + d;
                if self.theta[at].is_nan() {
                    self.theta[at] = effects[i].ratio_at(d as f64, self.scale);
                }
                self.thetas.push(self.theta[at]);
            }
            self.slot_of[s] = slot as u32;
            let key = &mut self.cached_key[slot * self.max_acting..slot * self.max_acting + acting.len()];
            if !self.cached_at[slot].is_nan() && key.iter().zip(&self.thetas).all(|(a, b)| a.to_bits() == b.to_bits()) {
                continue;
            }
            let row = segments.row(k, s);
            if self.hazard_only[slot] {
                hazard_ratios(
                    row,
                    &mut self.cached_probs[segments.row_range(k, s)],
                    &mut self.cached_stay[slot],
                    &mut self.rate[slot],
                    &mut self.factor,
                    acting,
                    &self.thetas,
                    effects,
                );
            } else {
                scatter_row(&mut self.dense_row, row.to, row.probs);
                self.dense_row[s] = row.stay;
                for (&i, &theta) in acting.iter().zip(&self.thetas) {
                    apply_effect(&mut self.dense_row, s, &effects[i], theta).map_err(|(e, sum)| {
                        EngineError::RowAboveOne {
                            path: e.path.clone(),
                            state: s,
                            age,
                            arm: arm.id.clone(),
                            sum,
                        }
                    })?;
                }
                for (c, &j) in self.cached_probs[segments.row_range(k, s)].iter_mut().zip(row.to) {
                    *c = self.dense_row[j as usize];
                }
                self.cached_stay[slot] = self.dense_row[s];
            }
            key.copy_from_slice(&self.thetas);
            self.cached_at[slot] = d as f64;
            self.densify(segments, k, s, slot);
        }
        Ok(())
    }

    /// Sets `slot_of` for a sub-cohort nobody joined: the status-quo rows serve.
    pub(super) fn unmodified(&mut self) {
        for &s in &self.rows {
            self.slot_of[s] = NONE;
        }
    }

    /// After [`Plan::modify`] at `d` cycles after enrolment in segment
    /// `k`: for how many cycles from `d` on, within the segment, it would
    /// set the same rows. A row at an effect's full strength stays until
    /// the effect's duration ends; a row left as it is because nobody is
    /// in its state holds for this cycle only, since someone may arrive.
    pub(super) fn steady_for(&self, k: usize, d: usize) -> usize {
        let n_rows = self.rows.len();
        let mut cycles = usize::MAX;
        for (r, &s) in self.rows.iter().enumerate() {
            let slot = k * n_rows + r;
            let held = match self.slot_of[s] {
                NONE if self.acting_start[slot] == self.acting_start[slot + 1] => usize::MAX,
                NONE => 1,
                _ if self.cached_at[slot] < self.steady_until[slot] => match self.steady_until[slot] {
                    steady if steady.is_infinite() => usize::MAX,
                    steady => (steady.ceil() as usize).saturating_sub(d).max(1),
                },
                _ => 1,
            };
            cycles = cycles.min(held);
        }
        cycles
    }

    /// Writes the dense form of slot `slot`'s modified row (state `s` in segment `k`).
    fn densify(&mut self, segments: &Segments, k: usize, s: usize, slot: usize) {
        let n = self.n_states;
        if n > DENSE {
            return;
        }
        let probs = &self.cached_probs[segments.row_range(k, s)];
        let row = &mut self.dense_alt[slot * n..(slot + 1) * n];
        scatter_row(row, segments.row(k, s).to, probs);
        self.finite &= row.iter().all(|p| p.is_finite()) && self.cached_stay[slot].is_finite();
    }
}

/// The moves `out` and probability of staying `stay` of status-quo row
/// `row` under the hazard ratios `thetas` of the effects `acting`; `rate`
/// caches the row's rate of leaving. As applying them one by one
/// ([`apply_effect`]), with one conversion between probabilities and rates
/// for all of them: a hazard ratio multiplies the rates of its moves, so
/// several multiply each rate by the product of theirs.
#[allow(clippy::too_many_arguments)]
fn hazard_ratios(
    row: Row<'_>,
    out: &mut [f64],
    stay: &mut f64,
    rate: &mut f64,
    factor: &mut [f64],
    acting: &[usize],
    thetas: &[f64],
    effects: &[EffectModel],
) {
    let factor = &mut factor[..row.to.len()];
    factor.fill(1.0);
    let mut changed = false;
    for (&i, &theta) in acting.iter().zip(thetas) {
        if theta == 1.0 {
            continue; // as apply_effect: no change at all
        }
        changed = true;
        for (f, &j) in factor.iter_mut().zip(row.to) {
            if effects[i].to.contains(&(j as usize)) {
                *f *= theta;
            }
        }
    }
    let leave: f64 = row.probs.iter().sum();
    if !changed || leave <= 0.0 {
        out.copy_from_slice(row.probs);
        *stay = if changed { (1.0 - leave).max(0.0) } else { row.stay };
        return;
    }
    let scaled: f64 = row.probs.iter().zip(factor.iter()).map(|(p, f)| p * f).sum();
    if scaled <= 0.0 {
        out.fill(0.0);
        *stay = 1.0;
        return;
    }
    let new_leave = if leave >= 1.0 {
        1.0
    } else {
        if rate.is_nan() {
            *rate = -(-leave).ln_1p();
        }
        -(-*rate * scaled / leave).exp_m1()
    };
    let k = new_leave / scaled;
    for ((o, &p), &f) in out.iter_mut().zip(row.probs).zip(factor.iter()) {
        *o = p * (f * k);
    }
    let left: f64 = out.iter().sum();
    *stay = (1.0 - left).max(0.0);
}

/// Writes a sparse row, moves to `to` with probabilities `probs`, into
/// `row`: those probabilities at their states, zero everywhere else.
fn scatter_row(row: &mut [f64], to: &[u32], probs: &[f64]) {
    row.fill(0.0);
    for (&j, &p) in to.iter().zip(probs) {
        row[j as usize] = p;
    }
}

/// Whether the ratio of `e`, at `scale`, may not be finite: such an
/// effect is applied even where it has nothing to change, so that it
/// spoils the row as it is written to.
pub(super) fn wild(e: &EffectModel, scale: f64) -> bool {
    let strongest = if scale <= 1.0 { e.ratio } else { e.ratio.powf(scale) };
    !(e.ratio.is_finite() && e.ratio >= 0.0 && strongest.is_finite())
}
