//! The cohort engine: exact expected occupancy by matrix–vector products.
//!
//! Children enrolled in cycle `k` form their own sub-cohort, because an
//! effect's strength depends on the time since enrolment. Children offered
//! the intervention who decline, and children not (yet) eligible, follow the
//! status-quo tables.
//!
//! The tables are read once per age segment ([`crate::model::Segments`]),
//! as sparse rows; states nobody is in are skipped. A model of at most
//! eight states reads them as dense rows instead, with zeros where a row
//! has no move, through a propagation unrolled for its number of states;
//! adding a zero product leaves a sum as it is, so both give the same bits.
//!
//! A sub-cohort's rows out of states with effects are computed when their
//! ratios change (every year while an effect fades, once per segment while
//! it is at full strength), and not at all where no effect can act: where
//! the row has no move an effect changes, or where nobody is in the state
//! and every effect on it is a hazard ratio (which never makes a row
//! invalid); an effect with nothing to change would change the row only by
//! rounding.
//! Costs and outcomes are priced once per cycle from the occupancy and
//! entries of the whole arm. Buffers are kept per thread.

mod prices;

use std::cell::RefCell;

use self::prices::Prices;
use super::{ArmStreams, EngineError};
use crate::model::{Arm, EffectModel, GroupModel, Model, Row, SegmentView, Segments, apply_effect};
use crate::scenario::{CycleCounting, EffectKind};

/// Runs every arm of `model`; `scale` scales every effect (1 = as written).
///
/// # Errors
///
/// [`EngineError`] when an effect pushes a row of probabilities above 1.
pub fn run(model: &Model, scale: f64) -> Result<Vec<ArmStreams>, EngineError> {
    with_scratch(|scratch| {
        scratch.prices.set(model);
        let mut out: Vec<ArmStreams> = Vec::with_capacity(model.arms.len());
        for arm in &model.arms {
            // With one group, the status quo's streams are those of its children who never take part.
            let status_quo = match (out.first(), model.arms.first()) {
                (Some(streams), Some(first)) if first.intervention.is_none() && model.groups.len() == 1 => {
                    Some(streams)
                }
                _ => None,
            };
            let streams = run_in(model, arm, scale, status_quo, scratch)?;
            out.push(streams);
        }
        Ok(out)
    })
}

/// Expected per-child streams of one arm, the groups weighted by size.
pub fn run_arm(model: &Model, arm: &Arm, scale: f64) -> Result<ArmStreams, EngineError> {
    with_scratch(|scratch| {
        scratch.prices.set(model);
        run_in(model, arm, scale, None, scratch)
    })
}

/// Runs `arm`; `status_quo`, when given, holds the streams of the status
/// quo of a model with one group.
fn run_in(
    model: &Model,
    arm: &Arm,
    scale: f64,
    status_quo: Option<&ArmStreams>,
    scratch: &mut Scratch,
) -> Result<ArmStreams, EngineError> {
    let mut out = match scratch.spare.pop() {
        Some(mut spare) => {
            spare.reset(arm, model);
            spare
        }
        None => ArmStreams::zeros(arm, model),
    };
    scratch.plan.set(model, arm, scale);
    for group in &model.groups {
        run_group(
            model,
            arm,
            group,
            status_quo,
            &mut scratch.plan,
            &mut scratch.vectors,
            &mut out,
        )?;
    }
    scratch.prices.apply(&mut out);
    Ok(out)
}

/// Buffers of a run, kept per thread so that a draw allocates only its results.
#[derive(Default)]
struct Scratch {
    prices: Prices,
    plan: Plan,
    vectors: Vectors,
    /// Streams handed back by [`recycle`], reused for the next results.
    spare: Vec<ArmStreams>,
}

/// Most streams [`recycle`] keeps per thread.
const SPARE: usize = 16;

/// Hands streams no longer needed back to this thread, whose next runs
/// write their results into them instead of allocating new ones: for
/// callers that run many draws one after another and keep only figures.
pub fn recycle(streams: Vec<ArmStreams>) {
    SCRATCH.with(|cell| {
        if let Ok(mut scratch) = cell.try_borrow_mut() {
            let room = SPARE.saturating_sub(scratch.spare.len());
            scratch.spare.extend(streams.into_iter().take(room));
        }
    });
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::default();
}

fn with_scratch<T>(f: impl FnOnce(&mut Scratch) -> T) -> T {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => f(&mut scratch),
        Err(_) => f(&mut Scratch::default()),
    })
}

/// Sentinel for "none" in the tables below.
const NONE: u32 = u32::MAX;

/// How the effects of an arm's intervention change its rows.
#[derive(Default)]
struct Plan {
    n_states: usize,
    scale: f64,
    /// States that effects start from, ascending.
    rows: Vec<usize>,
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
    cached_probs: Vec<f64>,
    cached_stay: Vec<f64>,
    cached_key: Vec<f64>,
    cached: Vec<bool>,
    /// Per slot: the time since enrolment its cached row was computed at.
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
    dense_alt: Vec<f64>,
    /// Per state: the slot whose modified row the current sub-cohort uses, or NONE.
    slot_of: Vec<u32>,
}

impl Plan {
    fn set(&mut self, model: &Model, arm: &Arm, scale: f64) {
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
        self.wild.extend(
            effects
                .iter()
                .map(|e| !(e.ratio.is_finite() && e.ratio >= 0.0 && e.ratio.powf(scale.max(1.0)).is_finite())),
        );

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
        refill(&mut self.cached, n_slots, false);
        refill(&mut self.cached_at, n_slots, f64::NAN);
        refill(&mut self.dense_row, n, 0.0);
        refill(&mut self.dense_alt, if n <= DENSE { n_slots * n } else { 0 }, 0.0);
        refill(&mut self.rate, n_slots, f64::NAN);
        refill(&mut self.factor, n, 1.0);
        refill(&mut self.slot_of, n, NONE);
    }

    /// Sets `slot_of` for a sub-cohort `x`, `d` cycles after enrolment, in
    /// segment `k`: for each effect row, the slot holding its modified row,
    /// computed (or found cached) here; NONE where the status-quo row serves.
    fn modify(
        &mut self,
        segments: &Segments,
        k: usize,
        d: usize,
        x: &[f64],
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
            if acting.is_empty() || (x[s] == 0.0 && self.hazard_only[slot]) {
                self.slot_of[s] = NONE;
                continue;
            }
            // Every acting effect still at the strength the cached row was computed at.
            let steady = self.steady_until[slot];
            if self.cached[slot] && self.cached_at[slot] < steady && (d as f64) < steady {
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
            if self.cached[slot] && key.iter().zip(&self.thetas).all(|(a, b)| a.to_bits() == b.to_bits()) {
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
            self.cached[slot] = true;
            self.cached_at[slot] = d as f64;
            self.densify(segments, k, s, slot);
        }
        Ok(())
    }

    /// Writes the dense form of slot `slot`'s modified row (state `s` in segment `k`).
    fn densify(&mut self, segments: &Segments, k: usize, s: usize, slot: usize) {
        let n = self.n_states;
        if n > DENSE {
            return;
        }
        let probs = &self.cached_probs[segments.row_range(k, s)];
        scatter_row(
            &mut self.dense_alt[slot * n..(slot + 1) * n],
            segments.row(k, s).to,
            probs,
        );
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

/// `v` cleared and filled with `len` copies of `x`.
fn refill<T: Clone>(v: &mut Vec<T>, len: usize, x: T) {
    v.clear();
    v.resize(len, x);
}

/// State vectors of a run.
#[derive(Default)]
struct Vectors {
    pending: Vec<f64>,
    rest: Vec<f64>,
    next: Vec<f64>,
    stay: Vec<f64>,
    /// For models of at most [`DENSE`] states: the rows of segment
    /// `dense_segment`, dense (`n·n`, zero on the diagonal).
    dense: Vec<f64>,
    dense_segment: usize,
    /// The segment whose probabilities of staying `stay` holds, but in
    /// the rows the sub-cohorts modify.
    stay_segment: usize,
    /// The sub-cohorts' distributions, `n` values each, and their cycles of enrolment.
    enrolled: Vec<f64>,
    /// The sub-cohorts' distributions at the end of the cycle.
    enrolled_next: Vec<f64>,
    enrolled_at: Vec<usize>,
}

/// Runs `group` in `arm`, adding its streams to `out`. `status_quo`, when
/// given, holds the status quo's streams of this group alone.
fn run_group(
    model: &Model,
    arm: &Arm,
    group: &GroupModel,
    status_quo: Option<&ArmStreams>,
    plan: &mut Plan,
    v: &mut Vectors,
    out: &mut ArmStreams,
) -> Result<(), EngineError> {
    let n = model.n_states();
    let w = group.weight;
    let n_cycles = (model.end_age - group.start_age) as usize;
    let segments = model.segments();
    let counting = model.counting;
    let iv = arm.intervention.as_ref();
    // Enrolled at the start from every state a child starts in, those who decline are
    // the share `1 − uptake` of the status quo's children: their streams are the status
    // quo's, scaled, and need not be followed.
    let declined = match (iv, status_quo) {
        (Some(iv), Some(sq))
            if iv.enrol_ages.is_none() && group.start.iter().zip(&iv.enrol_states).all(|(&x, &e)| e || x == 0.0) =>
        {
            Some((1.0 - iv.uptake, sq))
        }
        _ => None,
    };

    // `pending` may still be enrolled; `rest` never will be (declined, or past the window).
    v.pending.clear();
    v.pending.extend(group.start.iter());
    let mut pending_active = true;
    refill(&mut v.rest, n, 0.0);
    let mut rest_active = false;
    refill(&mut v.next, n, 0.0);
    refill(&mut v.stay, n, 0.0);
    refill(&mut v.dense, if n <= DENSE { n * n } else { 0 }, 0.0);
    v.dense_segment = usize::MAX;
    v.enrolled.clear();
    v.enrolled_next.clear();
    v.enrolled_at.clear();
    v.stay_segment = usize::MAX;

    for t in 0..n_cycles {
        let age = group.start_age + t as u32;
        let k = segments.at_age(age);
        let view = segments.view(k);

        if let Some(iv) = iv {
            if iv.enrols_at(group.start_age, age) {
                let at = v.enrolled.len();
                v.enrolled.resize(at + n, 0.0);
                let joined = &mut v.enrolled[at..];
                for s in (0..n).filter(|&s| iv.enrol_states[s]) {
                    joined[s] = iv.uptake * v.pending[s];
                    v.rest[s] += (1.0 - iv.uptake) * v.pending[s];
                    v.pending[s] = 0.0;
                }
                if declined.is_some() {
                    v.rest.fill(0.0);
                }
                rest_active |= v.rest.iter().any(|&r| r != 0.0);
                let mass: f64 = joined.iter().sum();
                if mass > 0.0 {
                    for p in 0..model.n_payers() {
                        out.intervention[(p, t)] += w * mass * iv.once_costs[p];
                    }
                    out.participants += w * mass;
                    v.enrolled_at.push(t);
                } else {
                    v.enrolled.truncate(at);
                }
            }
            let window_over = match iv.enrol_ages {
                Some((_, to)) => age + 1 >= to,
                None => true,
            };
            if window_over && pending_active {
                if v.pending.iter().any(|&p| p != 0.0) {
                    for (r, p) in v.rest.iter_mut().zip(&v.pending) {
                        *r += p;
                    }
                    rest_active = true;
                }
                pending_active = false;
            }
        }

        if n <= DENSE && k != v.dense_segment {
            densify(view, &mut v.dense);
            v.dense_segment = k;
        }
        let (occupancy, entries) = columns(out, t, n);
        for (x, active) in [(&mut v.pending, pending_active), (&mut v.rest, rest_active)] {
            if active {
                let cycle = (counting, w, &mut *occupancy, &mut *entries);
                if n <= DENSE {
                    advance_dense((&v.dense, &[], &[NONE; DENSE]), x, view.stay, &mut v.next, cycle);
                } else {
                    propagate::<false>(view, x, view.stay, &mut v.next, &[], &[]);
                    account(x, &v.next, view.stay, cycle);
                }
                std::mem::swap(x, &mut v.next);
            }
        }

        v.enrolled_next.resize(v.enrolled.len(), 0.0);
        // The sub-cohorts' probabilities of staying: the segment's, but in the rows they modify.
        if !v.enrolled_at.is_empty() && k != v.stay_segment {
            v.stay.copy_from_slice(view.stay);
            v.stay_segment = k;
        }
        for (i, &enrolled_at) in v.enrolled_at.iter().enumerate() {
            let d = t - enrolled_at;
            let (x, next) = (
                &v.enrolled[i * n..(i + 1) * n],
                &mut v.enrolled_next[i * n..(i + 1) * n],
            );
            plan.modify(segments, k, d, x, age, arm)?;
            for &s in &plan.rows {
                let slot = plan.slot_of[s];
                v.stay[s] = if slot != NONE {
                    plan.cached_stay[slot as usize]
                } else {
                    view.stay[s]
                };
            }
            let (occupancy, entries) = columns(out, t, n);
            let cycle = (counting, w, occupancy, entries);
            if n <= DENSE {
                let rows = (&v.dense[..], &plan.dense_alt[..], &plan.slot_of[..]);
                advance_dense(rows, x, &v.stay, next, cycle);
            } else {
                propagate::<true>(view, x, &v.stay, next, &plan.slot_of, &plan.cached_probs);
                account(x, next, &v.stay, cycle);
            }
            let iv = iv.expect("sub-cohorts exist only in intervention arms");
            if d < iv.cost_years as usize {
                let alive: f64 = (0..n)
                    .filter(|&s| !model.absorbing[s])
                    .map(|s| counted(counting, x[s], next[s]))
                    .sum();
                for p in 0..model.n_payers() {
                    out.intervention[(p, t)] += w * alive * iv.yearly_costs[p];
                }
            }
        }
        std::mem::swap(&mut v.enrolled, &mut v.enrolled_next);
    }
    if let Some((share, sq)) = declined
        && share != 0.0
    {
        for (a, b) in [(&mut out.occupancy, &sq.occupancy), (&mut out.entries, &sq.entries)] {
            for (x, y) in a.as_mut_slice().iter_mut().zip(b.as_slice()) {
                *x += share * y;
            }
        }
    }
    Ok(())
}

/// Column `t` of an arm's occupancy and entries.
fn columns(out: &mut ArmStreams, t: usize, n: usize) -> (&mut [f64], &mut [f64]) {
    (
        &mut out.occupancy.as_mut_slice()[t * n..(t + 1) * n],
        &mut out.entries.as_mut_slice()[t * n..(t + 1) * n],
    )
}

/// `next = xᵀ·T` for the rows of segment `view` with probabilities of
/// staying `stay`; with `MODIFIED`, the moves out of states whose
/// `slot_of` is not NONE are read from `alt` (at the same positions as in
/// `view`).
/// Rows of states with `x = 0` are skipped. Rows are added in state order
/// either way, so a modified row equal to its original gives the same bits.
#[inline]
fn propagate<const MODIFIED: bool>(
    view: SegmentView<'_>,
    x: &[f64],
    stay: &[f64],
    next: &mut [f64],
    slot_of: &[u32],
    alt: &[f64],
) {
    let n = x.len();
    let (stay, next, start) = (&stay[..n], &mut next[..n], &view.start[..=n]);
    for s in 0..n {
        next[s] = x[s] * stay[s];
    }
    for s in 0..n {
        let xs = x[s];
        if xs == 0.0 {
            continue;
        }
        let range = start[s] as usize..start[s + 1] as usize;
        let probs = if MODIFIED && slot_of[s] != NONE {
            &alt[range.clone()]
        } else {
            &view.probs[range.clone()]
        };
        for (&j, &p) in view.cols[range].iter().zip(probs) {
            next[j as usize] += xs * p;
        }
    }
}

/// Most states for which a run reads its rows dense, with a propagation
/// unrolled for each number of states.
const DENSE: usize = 8;

/// Writes the rows of segment `view` into `dense` (`n·n`, row-major),
/// zero on the diagonal and wherever the row has no move.
fn densify(view: SegmentView<'_>, dense: &mut [f64]) {
    let n = view.stay.len();
    for (s, row) in dense.chunks_exact_mut(n).enumerate() {
        let range = view.start[s] as usize..view.start[s + 1] as usize;
        scatter_row(row, &view.cols[range.clone()], &view.probs[range]);
    }
}

/// Writes a sparse row, moves to `to` with probabilities `probs`, into
/// `row`: those probabilities at their states, zero everywhere else.
fn scatter_row(row: &mut [f64], to: &[u32], probs: &[f64]) {
    row.fill(0.0);
    for (&j, &p) in to.iter().zip(probs) {
        row[j as usize] = p;
    }
}

/// [`propagate`] then [`account`], with dense rows `(base, alt, slot_of)`:
/// row `s` is row `s` of `base` (`n·n`), or where `slot_of[s]` is not NONE,
/// the `n` values of `alt` at that slot; zero on the diagonal and wherever
/// the sparse row has no move. A zero adds `+0`, which leaves every sum as
/// it is, so the bits are those of [`propagate`].
#[inline]
fn advance_dense(rows: DenseRows<'_>, x: &[f64], stay: &[f64], next: &mut [f64], cycle: Cycle<'_>) {
    match x.len() {
        1 => dense::<1>(rows, x, stay, next, cycle),
        2 => dense::<2>(rows, x, stay, next, cycle),
        3 => dense::<3>(rows, x, stay, next, cycle),
        4 => dense::<4>(rows, x, stay, next, cycle),
        5 => dense::<5>(rows, x, stay, next, cycle),
        6 => dense::<6>(rows, x, stay, next, cycle),
        7 => dense::<7>(rows, x, stay, next, cycle),
        _ => dense::<8>(rows, x, stay, next, cycle),
    }
}

/// The dense rows of a sub-cohort's cycle: the segment's table, the
/// modified rows, and per state the modified row it reads (NONE: the table's).
type DenseRows<'a> = (&'a [f64], &'a [f64], &'a [u32]);

#[inline(always)]
fn dense<const N: usize>(
    (base, alt, slot_of): DenseRows<'_>,
    x: &[f64],
    stay: &[f64],
    next: &mut [f64],
    cycle: Cycle<'_>,
) {
    let (x, stay, next, base, slot_of) = (&x[..N], &stay[..N], &mut next[..N], &base[..N * N], &slot_of[..N]);
    let mut sum = [0.0; N];
    for j in 0..N {
        sum[j] = x[j] * stay[j];
    }
    for s in 0..N {
        let xs = x[s];
        if xs == 0.0 {
            continue;
        }
        let row = match slot_of[s] {
            NONE => &base[s * N..(s + 1) * N],
            slot => &alt[slot as usize * N..(slot as usize + 1) * N],
        };
        for j in 0..N {
            sum[j] += xs * row[j];
        }
    }
    next.copy_from_slice(&sum);
    account(x, next, stay, cycle);
}

/// The share of a cycle counted for a state with `x` at its start and `next` at its end.
#[inline]
fn counted(counting: CycleCounting, x: f64, next: f64) -> f64 {
    match counting {
        CycleCounting::Beginning => x,
        CycleCounting::End => next,
        CycleCounting::LifeTable => (x + next) * 0.5,
    }
}

/// Where a sub-cohort's cycle is booked: how a cycle is counted, the
/// sub-cohort's weight, and the cycle's columns of occupancy and entries.
type Cycle<'a> = (CycleCounting, f64, &'a mut [f64], &'a mut [f64]);

/// Adds one sub-cohort's counted occupancy and entries of a cycle
/// `(counting, w, occupancy, entries)`, weighted by `w`: `x` at the start
/// of the cycle, `next` at its end, `stay` the probability of staying in
/// each state.
#[inline(always)]
fn account(x: &[f64], next: &[f64], stay: &[f64], (counting, w, occupancy, entries): Cycle<'_>) {
    let n = x.len();
    let (next, stay, occupancy, entries) = (&next[..n], &stay[..n], &mut occupancy[..n], &mut entries[..n]);
    for s in 0..n {
        occupancy[s] += w * counted(counting, x[s], next[s]);
        // Entries into s: everything in s at the end that was not already there and stayed.
        entries[s] += w * (next[s] - x[s] * stay[s]);
    }
}

#[cfg(test)]
mod tests {
    use rand::{RngExt, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    use super::*;

    /// A random sparse segment of `n` states: some moves with probability
    /// zero, and `x` with some states empty.
    fn random_segment(rng: &mut Xoshiro256PlusPlus, n: usize) -> (Vec<u32>, Vec<u32>, Vec<f64>, Vec<f64>) {
        let (mut start, mut cols, mut probs, mut stay) = (vec![0], Vec::new(), Vec::new(), Vec::new());
        for s in 0..n {
            let mut leave = 0.0;
            for j in 0..n {
                if j == s || !rng.random_bool(0.6) {
                    continue;
                }
                let p = if rng.random_bool(0.2) {
                    0.0
                } else {
                    rng.random::<f64>() / n as f64
                };
                cols.push(j as u32);
                probs.push(p);
                leave += p;
            }
            start.push(cols.len() as u32);
            stay.push(1.0 - leave);
        }
        (start, cols, probs, stay)
    }

    #[test]
    fn dense_and_sparse_propagation_give_the_same_bits() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let counting = [CycleCounting::Beginning, CycleCounting::End, CycleCounting::LifeTable];
        for trial in 0..2_000 {
            let n = 1 + trial % DENSE;
            let (start, cols, probs, mut stay) = random_segment(&mut rng, n);
            let x: Vec<f64> = (0..n)
                .map(|_| if rng.random_bool(0.3) { 0.0 } else { rng.random::<f64>() })
                .collect();
            // Some states read a modified row, at the moves' positions (sparse) and dense by slot.
            let mut alt = probs.clone();
            let mut slot_of = vec![NONE; n];
            let mut dense_alt = Vec::new();
            for s in 0..n {
                if rng.random_bool(0.4) {
                    let range = start[s] as usize..start[s + 1] as usize;
                    let mut row = vec![0.0; n];
                    for i in range {
                        alt[i] = probs[i] * rng.random::<f64>();
                        row[cols[i] as usize] = alt[i];
                    }
                    stay[s] = rng.random::<f64>();
                    slot_of[s] = (dense_alt.len() / n) as u32;
                    dense_alt.extend(row);
                }
            }
            let view = SegmentView {
                start: &start,
                cols: &cols,
                probs: &probs,
                stay: &stay,
            };
            let mut dense = vec![0.0; n * n];
            densify(view, &mut dense);
            let w = rng.random::<f64>();
            let c = counting[trial % 3];

            let (mut next, mut occupancy, mut entries) = (vec![0.0; n], vec![0.5; n], vec![0.25; n]);
            propagate::<true>(view, &x, &stay, &mut next, &slot_of, &alt);
            account(&x, &next, &stay, (c, w, &mut occupancy, &mut entries));

            let (mut dense_next, mut dense_occupancy, mut dense_entries) = (vec![0.0; n], vec![0.5; n], vec![0.25; n]);
            let rows = (&dense[..], &dense_alt[..], &slot_of[..]);
            let cycle = (c, w, &mut dense_occupancy[..], &mut dense_entries[..]);
            advance_dense(rows, &x, &stay, &mut dense_next, cycle);

            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&next), bits(&dense_next), "next, trial {trial}, {n} states");
            assert_eq!(bits(&occupancy), bits(&dense_occupancy), "occupancy, trial {trial}");
            assert_eq!(bits(&entries), bits(&dense_entries), "entries, trial {trial}");
        }
    }
}
