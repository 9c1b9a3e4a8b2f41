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
//! Between two changes (an enrolment, the end of the enrolment window, a
//! new age segment, an effect that starts to fade) the tables stay the
//! same, and a cohort runs through those cycles in one go.
//!
//! Costs and outcomes are priced once per cycle from the occupancy and
//! entries of the whole arm. Buffers are kept per thread.
//!
//! A PSA runs its draws through [`run_many`], which moves the cohorts of
//! [`LANES`] draws of the same shape together, each with exactly its own
//! arithmetic: the same bits as one at a time.

mod prices;

use std::cell::RefCell;

use self::prices::Prices;
use super::{ArmStreams, EngineError};
use crate::model::{Arm, EffectModel, GroupModel, InterventionModel, Model, Row, SegmentView, Segments, apply_effect};
use crate::scenario::{CycleCounting, EffectKind};

/// Runs every arm of `model`; `scale` scales every effect (1 = as written).
///
/// # Errors
///
/// [`EngineError`] when an effect pushes a row of probabilities above 1.
pub fn run(model: &Model, scale: f64) -> Result<Vec<ArmStreams>, EngineError> {
    with_scratch(|scratch| run_lanes([model], scale, scratch).map(|[streams]| streams))
}

/// How many draws [`run_many`] advances side by side.
pub const LANES: usize = 2;

/// Runs every arm of each of `models` (the draws of one scenario), giving
/// each the streams, or the error, that [`run`] gives it, bit for bit.
///
/// Draws whose models have the same shape and at most eight states
/// advance [`LANES`] at a time: each cycle moves every draw's cohort in
/// one pass, a state's share of each draw side by side, which keeps more
/// of the processor busy than one draw's chain of dependent sums can.
/// Each draw's arithmetic is exactly its own, in [`run`]'s order.
pub fn run_many(models: &[Model], scale: f64) -> Vec<Result<Vec<ArmStreams>, EngineError>> {
    with_scratch(|scratch| {
        let mut out = Vec::with_capacity(models.len());
        for chunk in models.chunks(LANES) {
            if let Ok(lanes) = <&[Model; LANES]>::try_from(chunk)
                && side_by_side(lanes, scale)
                && let Ok(streams) = run_lanes(lanes.each_ref(), scale, scratch)
                && scratch.finite
            {
                out.extend(streams.into_iter().map(Ok));
                continue;
            }
            // Run alone: a draw that fails gives its own error.
            out.extend(
                chunk
                    .iter()
                    .map(|m| run_lanes([m], scale, scratch).map(|[streams]| streams)),
            );
        }
        out
    })
}

/// Whether `models` can advance side by side: the same states (at most
/// [`DENSE`]), ages, groups, arms and enrolment, so that every step but
/// the arithmetic is the same for all; finite tables and effects that
/// can be applied where nobody is, so that a state empty in one draw and
/// read in another changes nothing.
fn side_by_side(models: &[Model], scale: f64) -> bool {
    let Some(first) = models.first() else {
        return false;
    };
    let tame = |e: &EffectModel| !wild(e, scale);
    let same_enrolment = |a: &Arm, b: &Arm| match (&a.intervention, &b.intervention) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            a.enrol_states == b.enrol_states
                && a.enrol_ages == b.enrol_ages
                && a.cost_years == b.cost_years
                && a.effects.iter().all(tame)
        }
        _ => false,
    };
    let same_start = |a: &GroupModel, b: &GroupModel| {
        a.start_age == b.start_age
            && a.start
                .iter()
                .zip(b.start.iter())
                .all(|(x, y)| (*x == 0.0) == (*y == 0.0) && x.is_finite())
    };
    first.n_states() <= DENSE
        && models.iter().all(|m| {
            m.n_states() == first.n_states()
                && (m.start_age, m.end_age) == (first.start_age, first.end_age)
                && m.counting == first.counting
                && m.absorbing == first.absorbing
                && (m.n_payers(), m.n_outcomes()) == (first.n_payers(), first.n_outcomes())
                && m.segments().same_ages(first.segments())
                && m.segments().is_finite()
                && m.groups.len() == first.groups.len()
                && m.groups.iter().zip(&first.groups).all(|(a, b)| same_start(a, b))
                && m.arms.len() == first.arms.len()
                && m.arms.iter().zip(&first.arms).all(|(a, b)| same_enrolment(a, b))
        })
}

/// Whether the ratio of `e`, at `scale`, may not be finite: such an
/// effect is applied even where it has nothing to change, so that it
/// spoils the row as it is written to.
fn wild(e: &EffectModel, scale: f64) -> bool {
    let strongest = if scale <= 1.0 { e.ratio } else { e.ratio.powf(scale) };
    !(e.ratio.is_finite() && e.ratio >= 0.0 && strongest.is_finite())
}

/// Expected per-child streams of one arm, the groups weighted by size.
pub fn run_arm(model: &Model, arm: &Arm, scale: f64) -> Result<ArmStreams, EngineError> {
    with_scratch(|scratch| {
        scratch.fit(1);
        scratch.prices[0].set(model);
        let mut streams = scratch.streams(arm, model);
        run_in([model], [arm], scale, [None], [&mut streams], scratch)?;
        Ok(streams)
    })
}

/// Runs every arm of `models`, side by side (see [`run_many`]).
fn run_lanes<const L: usize>(
    models: [&Model; L],
    scale: f64,
    scratch: &mut Scratch,
) -> Result<[Vec<ArmStreams>; L], EngineError> {
    scratch.fit(L);
    scratch.finite = true;
    for (prices, model) in scratch.prices.iter_mut().zip(models) {
        prices.set(model);
    }
    let mut out: [Vec<ArmStreams>; L] = std::array::from_fn(|l| Vec::with_capacity(models[l].arms.len()));
    for a in 0..models[0].arms.len() {
        let arms = std::array::from_fn(|l| &models[l].arms[a]);
        for (l, out) in out.iter_mut().enumerate() {
            out.push(scratch.streams(arms[l], models[l]));
        }
        // With one group, the status quo's streams are those of its children who never take part.
        let parts = out.each_mut().map(|out| {
            let (before, this) = out.split_at_mut(a);
            let before: &[ArmStreams] = before;
            (before.first(), &mut this[0])
        });
        let status_quo = std::array::from_fn(|l| match (parts[l].0, models[l].arms.first()) {
            (Some(streams), Some(first)) if first.intervention.is_none() && models[l].groups.len() == 1 => {
                Some(streams)
            }
            _ => None,
        });
        run_in(models, arms, scale, status_quo, parts.map(|(_, this)| this), scratch)?;
    }
    Ok(out)
}

/// Runs `arms` of `models`, side by side, into their zero streams `out`;
/// `status_quo`, when given, holds the streams of the status quo of a
/// model with one group.
fn run_in<const L: usize>(
    models: [&Model; L],
    arms: [&Arm; L],
    scale: f64,
    status_quo: [Option<&ArmStreams>; L],
    mut out: [&mut ArmStreams; L],
    scratch: &mut Scratch,
) -> Result<(), EngineError> {
    let plans = &mut scratch.plans[..L];
    for ((plan, model), arm) in plans.iter_mut().zip(models).zip(arms) {
        plan.set(model, arm, scale);
    }
    for g in 0..models[0].groups.len() {
        let lanes = Lanes {
            models,
            arms,
            status_quo,
        };
        run_group(lanes, g, plans, &mut scratch.vectors, &mut out)?;
    }
    scratch.finite &= plans.iter().all(|p| p.finite);
    for (prices, streams) in scratch.prices.iter().zip(out) {
        prices.apply(streams);
    }
    Ok(())
}

/// What each of the draws run side by side brings: its model, the arm
/// run, and the status quo's streams of a model with one group.
#[derive(Clone, Copy)]
struct Lanes<'a, const L: usize> {
    models: [&'a Model; L],
    arms: [&'a Arm; L],
    status_quo: [Option<&'a ArmStreams>; L],
}

/// Buffers of a run, kept per thread so that a draw allocates only its results.
#[derive(Default)]
struct Scratch {
    /// Per draw run side by side: its prices and plan.
    prices: Vec<Prices>,
    plans: Vec<Plan>,
    vectors: Vectors,
    /// Whether every modified row of the last run was finite.
    finite: bool,
    /// Streams handed back by [`recycle`], reused for the next results.
    spare: Vec<ArmStreams>,
}

impl Scratch {
    /// Zero streams of `arm` in `model`, in the memory of streams handed back if any.
    fn streams(&mut self, arm: &Arm, model: &Model) -> ArmStreams {
        match self.spare.pop() {
            Some(mut spare) => {
                spare.reset(arm, model);
                spare
            }
            None => ArmStreams::zeros(arm, model),
        }
    }

    /// Makes room for `lanes` draws side by side.
    fn fit(&mut self, lanes: usize) {
        if self.plans.len() < lanes {
            self.plans.resize_with(lanes, Plan::default);
            self.prices.resize_with(lanes, Prices::default);
        }
    }
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
    /// Whether every modified row written dense since [`Plan::set`] is finite.
    finite: bool,
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
        refill(&mut self.cached, n_slots, false);
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
    fn modify(
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

    /// Sets `slot_of` for a sub-cohort nobody joined: the status-quo rows serve.
    fn unmodified(&mut self) {
        for &s in &self.rows {
            self.slot_of[s] = NONE;
        }
    }

    /// After [`Plan::modify`] at `d` cycles after enrolment in segment
    /// `k`: for how many cycles from `d` on, within the segment, it would
    /// set the same rows. A row at an effect's full strength stays until
    /// the effect's duration ends; a row left as it is because nobody is
    /// in its state holds for this cycle only, since someone may arrive.
    fn steady_for(&self, k: usize, d: usize) -> usize {
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

/// `v` cleared and filled with `len` copies of `x`.
fn refill<T: Clone>(v: &mut Vec<T>, len: usize, x: T) {
    v.clear();
    v.resize(len, x);
}

/// State vectors of a run: `n·L` values each for `L` draws side by side,
/// state by state, a state's share in each draw together ([`lanes`]).
#[derive(Default)]
struct Vectors {
    pending: Vec<f64>,
    rest: Vec<f64>,
    next: Vec<f64>,
    /// The probabilities of staying of segment `segment`.
    segment_stay: Vec<f64>,
    /// For models of at most [`DENSE`] states: the rows of segment
    /// `segment`, dense (`n·n` values of `L`, zero on the diagonal).
    dense: Vec<f64>,
    segment: usize,
    /// A sub-cohort's rows, dense: the segment's, but in the rows it modifies.
    rows: Vec<f64>,
    /// A sub-cohort's probabilities of staying: the segment's, but in the
    /// rows the sub-cohorts modify.
    stay: Vec<f64>,
    /// The segment whose probabilities of staying `stay` holds.
    stay_segment: usize,
    /// The sub-cohorts' distributions and their cycles of enrolment.
    enrolled: Vec<f64>,
    enrolled_at: Vec<usize>,
    /// Per sub-cohort and draw: whether anyone joined it.
    joined: Vec<[bool; LANES]>,
}

/// `v` as the values of `L` draws side by side.
#[inline]
fn lanes<const L: usize>(v: &[f64]) -> &[[f64; L]] {
    v.as_chunks().0
}

/// `v` as the values of `L` draws side by side, to write.
#[inline]
fn lanes_mut<const L: usize>(v: &mut [f64]) -> &mut [[f64; L]] {
    v.as_chunks_mut().0
}

/// Runs group `g` in the arms of `lanes`, adding its streams to `out`;
/// the status quo's streams there are those of this group alone.
///
/// The cycles between two changes (an enrolment, the end of the
/// enrolment window, a new age segment) read the same tables: each
/// cohort runs through them in one go, a sub-cohort in stretches over
/// which its effects keep their strength.
fn run_group<const L: usize>(
    lanes_in: Lanes<'_, L>,
    g: usize,
    plans: &mut [Plan],
    v: &mut Vectors,
    out: &mut [&mut ArmStreams; L],
) -> Result<(), EngineError> {
    let Lanes {
        models,
        arms,
        status_quo,
    } = lanes_in;
    // The draws share their shape: the first says what is done, each brings its numbers.
    let (model, group) = (models[0], &models[0].groups[g]);
    let n = model.n_states();
    let w: [f64; L] = std::array::from_fn(|l| models[l].groups[g].weight);
    let n_cycles = (model.end_age - group.start_age) as usize;
    let counting = model.counting;
    let iv = arms[0].intervention.as_ref();
    let ivs: [Option<&InterventionModel>; L] = std::array::from_fn(|l| arms[l].intervention.as_ref());
    // Enrolled at the start from every state a child starts in, those who decline are
    // the share `1 − uptake` of the status quo's children: their streams are the status
    // quo's, scaled, and need not be followed.
    let declined = match (iv, status_quo[0]) {
        (Some(iv), Some(_)) => {
            iv.enrol_ages.is_none() && group.start.iter().zip(&iv.enrol_states).all(|(&x, &e)| e || x == 0.0)
        }
        _ => false,
    };

    // `pending` may still be enrolled; `rest` never will be (declined, or past the window).
    refill(&mut v.pending, n * L, 0.0);
    for (s, x) in lanes_mut::<L>(&mut v.pending).iter_mut().enumerate() {
        *x = std::array::from_fn(|l| models[l].groups[g].start[s]);
    }
    let mut pending_active = true;
    refill(&mut v.rest, n * L, 0.0);
    let mut rest_active = false;
    refill(&mut v.next, n * L, 0.0);
    refill(&mut v.segment_stay, n * L, 0.0);
    refill(&mut v.stay, n * L, 0.0);
    refill(&mut v.dense, if n <= DENSE { n * n * L } else { 0 }, 0.0);
    v.segment = usize::MAX;
    v.enrolled.clear();
    v.enrolled_at.clear();
    v.joined.clear();
    v.stay_segment = usize::MAX;

    let mut t = 0;
    while t < n_cycles {
        let age = group.start_age + t as u32;
        let k = model.segments().at_age(age);
        let views: [SegmentView<'_>; L] = std::array::from_fn(|l| models[l].segments().view(k));

        if let Some(iv) = iv {
            if iv.enrols_at(group.start_age, age) {
                let at = v.enrolled.len();
                v.enrolled.resize(at + n * L, 0.0);
                let (joined, pending) = (lanes_mut::<L>(&mut v.enrolled[at..]), lanes_mut::<L>(&mut v.pending));
                let rest = lanes_mut::<L>(&mut v.rest);
                let uptake: [f64; L] = std::array::from_fn(|l| ivs[l].map_or(0.0, |iv| iv.uptake));
                for s in (0..n).filter(|&s| iv.enrol_states[s]) {
                    for l in 0..L {
                        joined[s][l] = uptake[l] * pending[s][l];
                        rest[s][l] += (1.0 - uptake[l]) * pending[s][l];
                        pending[s][l] = 0.0;
                    }
                }
                if declined {
                    v.rest.fill(0.0);
                }
                rest_active |= v.rest.iter().any(|&r| r != 0.0);
                let mass: [f64; L] = std::array::from_fn(|l| joined.iter().map(|x| x[l]).sum());
                let mut anyone = [false; LANES];
                for l in 0..L {
                    anyone[l] = mass[l] > 0.0;
                    if anyone[l] {
                        let once = ivs[l].map_or(&[][..], |iv| iv.once_costs.as_slice());
                        for (p, &cost) in once.iter().enumerate() {
                            out[l].intervention[(p, t)] += w[l] * mass[l] * cost;
                        }
                        out[l].participants += w[l] * mass[l];
                    } else {
                        // Followed beside the others, as nobody.
                        joined.iter_mut().for_each(|x| x[l] = 0.0);
                    }
                }
                if anyone.iter().any(|&a| a) {
                    v.enrolled_at.push(t);
                    v.joined.push(anyone);
                } else {
                    v.enrolled.truncate(at);
                }
            }
            if window_over(iv, age) && pending_active {
                if v.pending.iter().any(|&p| p != 0.0) {
                    for (r, p) in v.rest.iter_mut().zip(&v.pending) {
                        *r += p;
                    }
                    rest_active = true;
                }
                pending_active = false;
            }
        }

        if k != v.segment {
            let (dense, stay) = (lanes_mut::<L>(&mut v.dense), lanes_mut::<L>(&mut v.segment_stay));
            for (l, view) in views.iter().enumerate() {
                if n <= DENSE {
                    densify(*view, dense, l);
                }
                for (s, &p) in view.stay.iter().enumerate() {
                    stay[s][l] = p;
                }
            }
            v.segment = k;
        }
        if k != v.stay_segment {
            v.stay.copy_from_slice(&v.segment_stay);
            v.stay_segment = k;
        }
        // The cycles until the next change.
        let change = model
            .segments()
            .ages(k)
            .1
            .min(iv.map_or(u32::MAX, |iv| next_change(iv, age, pending_active)));
        let m = ((change - age) as usize).min(n_cycles - t);

        for (x, active) in [(&mut v.pending, pending_active), (&mut v.rest, rest_active)] {
            if active {
                let book = Book::new(counting, w, &mut *out, t..t + m);
                if n <= DENSE {
                    advance_dense(lanes(&v.dense), lanes(&v.segment_stay), lanes_mut(x), book);
                } else {
                    // Draws with more states than DENSE run alone.
                    let alt = (&[][..], &[][..]);
                    advance_sparse::<false, L>(views[0], alt, &v.segment_stay, (x, &mut v.next), book);
                }
            }
        }

        for (i, (&enrolled_at, joined)) in v.enrolled_at.iter().zip(&v.joined).enumerate() {
            let x = &mut v.enrolled[i * n * L..(i + 1) * n * L];
            let mut c = t;
            while c < t + m {
                let (d, age) = (c - enrolled_at, group.start_age + c as u32);
                let (stay, xs) = (lanes_mut::<L>(&mut v.stay), lanes::<L>(x));
                let mut cycles = t + m - c;
                for (l, plan) in plans.iter_mut().enumerate() {
                    if joined[l] {
                        plan.modify(models[l].segments(), k, d, |s| xs[s][l] == 0.0, age, arms[l])?;
                        cycles = cycles.min(plan.steady_for(k, d));
                    } else {
                        plan.unmodified();
                    }
                    for &s in &plan.rows {
                        let slot = plan.slot_of[s];
                        stay[s][l] = if slot != NONE {
                            plan.cached_stay[slot as usize]
                        } else {
                            views[l].stay[s]
                        };
                    }
                }
                let mut book = Book::new(counting, w, &mut *out, c..c + cycles);
                let iv = iv.expect("sub-cohorts exist only in intervention arms");
                let paid = (iv.cost_years as usize).saturating_sub(d);
                if paid > 0 {
                    let costs = std::array::from_fn(|l| match ivs[l] {
                        Some(iv) if joined[l] => iv.yearly_costs.as_slice(),
                        _ => &[],
                    });
                    book.yearly = Some((costs, &model.absorbing, paid));
                }
                if n <= DENSE {
                    let rows = modified_rows(lanes(&v.dense), plans, &mut v.rows);
                    advance_dense(rows, lanes(&v.stay), lanes_mut(x), book);
                } else {
                    let plan = &plans[0];
                    let alt = (&plan.slot_of[..], &plan.cached_probs[..]);
                    advance_sparse::<true, L>(views[0], alt, &v.stay, (x, &mut v.next), book);
                }
                c += cycles;
            }
        }
        t += m;
    }
    if declined {
        for l in 0..L {
            let (Some(iv), Some(sq)) = (ivs[l], status_quo[l]) else {
                continue;
            };
            let share = 1.0 - iv.uptake;
            if share == 0.0 {
                continue;
            }
            let out = &mut out[l];
            for (a, b) in [(&mut out.occupancy, &sq.occupancy), (&mut out.entries, &sq.entries)] {
                for (x, y) in a.as_mut_slice().iter_mut().zip(b.as_slice()) {
                    *x += share * y;
                }
            }
        }
    }
    Ok(())
}

/// Whether the enrolment window of `iv` is over at the end of `age`:
/// children still waiting then never join.
fn window_over(iv: &InterventionModel, age: u32) -> bool {
    match iv.enrol_ages {
        Some((_, to)) => age + 1 >= to,
        None => true,
    }
}

/// The next age after `age` at which `iv` enrols children or, while
/// some may still join (`pending`), its window closes; `u32::MAX` if none.
fn next_change(iv: &InterventionModel, age: u32, pending: bool) -> u32 {
    let Some((from, to)) = iv.enrol_ages else {
        return u32::MAX; // everyone is enrolled at the start, if at all
    };
    let next = (age + 1).max(from);
    let enrols = if next < to { next } else { u32::MAX };
    let closes = if pending {
        (age + 1).max(to.saturating_sub(1))
    } else {
        u32::MAX
    };
    enrols.min(closes)
}

/// The rows of a sub-cohort of `L` draws side by side: `base`, with each
/// draw's modified rows (its plan's `slot_of`) written into `rows`.
fn modified_rows<'a, const L: usize>(base: &'a [[f64; L]], plans: &[Plan], rows: &'a mut Vec<f64>) -> &'a [[f64; L]] {
    let modified = |p: &Plan| p.rows.iter().any(|&s| p.slot_of[s] != NONE);
    if !plans.iter().any(modified) {
        return base;
    }
    rows.clear();
    rows.extend(base.as_flattened());
    let merged = lanes_mut::<L>(rows);
    for (l, plan) in plans.iter().enumerate() {
        let n = plan.n_states;
        for &s in &plan.rows {
            let slot = plan.slot_of[s];
            if slot != NONE {
                let alt = &plan.dense_alt[slot as usize * n..(slot as usize + 1) * n];
                for (j, &p) in alt.iter().enumerate() {
                    merged[s * n + j][l] = p;
                }
            }
        }
    }
    merged
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

/// Writes the rows of segment `view` into lane `l` of `dense` (`n·n`,
/// row-major), zero on the diagonal and wherever the row has no move.
fn densify<const L: usize>(view: SegmentView<'_>, dense: &mut [[f64; L]], l: usize) {
    let n = view.stay.len();
    for (s, row) in dense.chunks_exact_mut(n).enumerate() {
        for p in row.iter_mut() {
            p[l] = 0.0;
        }
        let range = view.start[s] as usize..view.start[s + 1] as usize;
        for (&j, &p) in view.cols[range.clone()].iter().zip(&view.probs[range]) {
            row[j as usize][l] = p;
        }
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

/// Runs a cohort of `L` draws side by side, `x`, through the cycles of
/// `book` with the dense `rows` (`n·n` values of `L`, zero on the
/// diagonal and wherever the sparse row has no move) and probabilities of
/// staying `stay`, booking each cycle. As [`propagate`] then
/// [`account`]: a zero adds `+0`, which leaves every sum as it is, so
/// each draw's bits are those of the sparse propagation.
#[inline]
fn advance_dense<const L: usize>(rows: &[[f64; L]], stay: &[[f64; L]], x: &mut [[f64; L]], book: Book<'_, '_, L>) {
    match x.len() {
        1 => dense::<1, L>(rows, stay, x, book),
        2 => dense::<2, L>(rows, stay, x, book),
        3 => dense::<3, L>(rows, stay, x, book),
        4 => dense::<4, L>(rows, stay, x, book),
        5 => dense::<5, L>(rows, stay, x, book),
        6 => dense::<6, L>(rows, stay, x, book),
        7 => dense::<7, L>(rows, stay, x, book),
        _ => dense::<8, L>(rows, stay, x, book),
    }
}

#[inline(always)]
fn dense<const N: usize, const L: usize>(
    rows: &[[f64; L]],
    stay: &[[f64; L]],
    x: &mut [[f64; L]],
    mut book: Book<'_, '_, L>,
) {
    let (rows, stay) = (&rows[..N * N], &stay[..N]);
    let mut now: [[f64; L]; N] = std::array::from_fn(|s| x[s]);
    for c in 0..book.cycles.len() {
        let mut next = [[0.0; L]; N];
        for j in 0..N {
            for l in 0..L {
                next[j][l] = now[j][l] * stay[j][l];
            }
        }
        for s in 0..N {
            let xs = now[s];
            if xs.iter().all(|&x| x == 0.0) {
                continue;
            }
            let row = &rows[s * N..(s + 1) * N];
            for j in 0..N {
                for l in 0..L {
                    next[j][l] += xs[l] * row[j][l];
                }
            }
        }
        book.cycle(c, &now, &next, stay);
        now = next;
    }
    x[..N].copy_from_slice(&now);
}

/// [`advance_dense`] for one draw (`L` = 1) of any number of states, by
/// [`propagate`] with the moves of states whose `slot_of` is not NONE
/// read from `alt` (`(slot_of, alt)`); `next` is a buffer.
fn advance_sparse<const MODIFIED: bool, const L: usize>(
    view: SegmentView<'_>,
    (slot_of, alt): (&[u32], &[f64]),
    stay: &[f64],
    (x, next): (&mut [f64], &mut [f64]),
    mut book: Book<'_, '_, L>,
) {
    for c in 0..book.cycles.len() {
        propagate::<MODIFIED>(view, x, stay, next, slot_of, alt);
        book.cycle(c, lanes(x), lanes(next), lanes(stay));
        x.copy_from_slice(next);
    }
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

/// Where the cycles of a cohort of `L` draws side by side are booked:
/// how a cycle is counted, per draw the weight of the cohort and its
/// streams, the cycles, and a sub-cohort's yearly costs.
struct Book<'a, 'b, const L: usize> {
    counting: CycleCounting,
    w: [f64; L],
    out: &'a mut [&'b mut ArmStreams; L],
    cycles: std::ops::Range<usize>,
    yearly: Option<Yearly<'a, L>>,
}

/// A sub-cohort's yearly costs: per draw by payer (none where nobody
/// joined), the absorbing states, and the number of cycles paid for.
type Yearly<'a, const L: usize> = ([&'a [f64]; L], &'a [bool], usize);

impl<'a, 'b, const L: usize> Book<'a, 'b, L> {
    fn new(
        counting: CycleCounting,
        w: [f64; L],
        out: &'a mut [&'b mut ArmStreams; L],
        cycles: std::ops::Range<usize>,
    ) -> Self {
        Book {
            counting,
            w,
            out,
            cycles,
            yearly: None,
        }
    }

    /// Books the `c`-th of the cycles: the cohort `x` at its start, `next`
    /// at its end, `stay` the probability of staying in each state.
    #[inline(always)]
    fn cycle(&mut self, c: usize, x: &[[f64; L]], next: &[[f64; L]], stay: &[[f64; L]]) {
        let t = self.cycles.start + c;
        let n = x.len();
        for (l, out) in self.out.iter_mut().enumerate() {
            let w = self.w[l];
            let occupancy = &mut out.occupancy.as_mut_slice()[t * n..(t + 1) * n];
            for s in 0..n {
                occupancy[s] += w * counted(self.counting, x[s][l], next[s][l]);
            }
            let entries = &mut out.entries.as_mut_slice()[t * n..(t + 1) * n];
            for s in 0..n {
                // Entries into s: everything in s at the end that was not already there and stayed.
                entries[s] += w * (next[s][l] - x[s][l] * stay[s][l]);
            }
        }
        if let Some((costs, absorbing, paid)) = self.yearly
            && c < paid
        {
            for (l, out) in self.out.iter_mut().enumerate() {
                if costs[l].is_empty() {
                    continue;
                }
                let alive: f64 = (0..n)
                    .filter(|&s| !absorbing[s])
                    .map(|s| counted(self.counting, x[s][l], next[s][l]))
                    .sum();
                for (p, &cost) in costs[l].iter().enumerate() {
                    out.intervention[(p, t)] += self.w[l] * alive * cost;
                }
            }
        }
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
            // The dense rows: the segment's, with the modified ones written in.
            let mut dense = vec![0.0; n * n];
            densify(view, lanes_mut::<1>(&mut dense), 0);
            for s in (0..n).filter(|&s| slot_of[s] != NONE) {
                let slot = slot_of[s] as usize;
                dense[s * n..(s + 1) * n].copy_from_slice(&dense_alt[slot * n..(slot + 1) * n]);
            }
            let w = rng.random::<f64>();
            let counting = counting[trial % 3];
            let cycles = 1 + trial % 3;
            let streams = || {
                let m = |x| nalgebra::DMatrix::from_element(n, cycles, x);
                let none = nalgebra::DMatrix::zeros(0, cycles);
                ArmStreams {
                    arm: String::new(),
                    care: none.clone(),
                    intervention: none.clone(),
                    outcomes: none,
                    occupancy: m(0.5),
                    entries: m(0.25),
                    participants: 0.0,
                    program: None,
                }
            };

            let (mut sparse_x, mut next, mut sparse_out) = (x.clone(), vec![0.0; n], streams());
            let mut out = [&mut sparse_out];
            let book = Book::new(counting, [w], &mut out, 0..cycles);
            advance_sparse::<true, 1>(view, (&slot_of, &alt), &stay, (&mut sparse_x, &mut next), book);

            let (mut dense_x, mut dense_out) = (x.clone(), streams());
            let mut out = [&mut dense_out];
            let book = Book::new(counting, [w], &mut out, 0..cycles);
            advance_dense(lanes(&dense), lanes(&stay), lanes_mut(&mut dense_x), book);

            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&sparse_x), bits(&dense_x), "x, trial {trial}, {n} states");
            let [sparse, dense] = [&sparse_out, &dense_out];
            assert_eq!(
                bits(sparse.occupancy.as_slice()),
                bits(dense.occupancy.as_slice()),
                "occupancy, trial {trial}"
            );
            assert_eq!(
                bits(sparse.entries.as_slice()),
                bits(dense.entries.as_slice()),
                "entries, trial {trial}"
            );
        }
    }

    /// The peer model's PSA scenario with `extra` lines appended and each
    /// line of `replace` (`from`, `to`) replaced.
    fn peer_variant(extra: &str, replace: &[(&str, &str)]) -> crate::Scenario {
        let mut text = include_str!("../../benches/scenarios/peer_model_psa.toml").to_owned();
        for (from, to) in replace {
            assert!(text.contains(from), "{from}");
            text = text.replace(from, to);
        }
        text.push_str(extra);
        crate::Scenario::from_toml_str(&text).expect("a valid variant")
    }

    #[test]
    fn draws_side_by_side_give_each_draw_its_own_bits() {
        let windowed = peer_variant(
            r#"
[[interventions.effects]]
from = "neet"
to = "on_track"
odds_ratio = "$or"
duration = 5

[[interventions.effects]]
from = "placed"
to = ["neet", "at_risk"]
hazard_ratio = "$hr"
duration = 3
half_life = 2

[[population]]
size = 2
start_age = 3
start = { on_track = 0.5, neet = 0.5 }

[[transitions]]
ages = [0, 10]
from = "placed"
to = { on_track = 0.04, at_risk = 0.10, neet = 0.075, dead = 0.005 }
"#,
            &[
                ("uptake = 1.0 }", "uptake = \"$uptake\", ages = [2, 7] }"),
                (
                    "once = { public = 8_000 } }",
                    "once = { public = 8_000 }, per_year = { public = 3_000 }, years = 3 }",
                ),
                ("cycle_counting = \"beginning\"", "cycle_counting = \"life_table\""),
                (
                    "[[transitions]]\nfrom = \"placed\"",
                    "[[transitions]]\nages = [10, 80]\nfrom = \"placed\"",
                ),
                (
                    "rr = {",
                    "uptake = { beta = { mean = 0.6, sd = 0.2 }, source = \"test\", confidence = \"low\" }\n\
                     or = { lognormal = { mean = 1.5, sd = 0.3 }, source = \"test\", confidence = \"low\" }\n\
                     hr = { lognormal = { mean = 0.8, sd = 0.1 }, source = \"test\", confidence = \"low\" }\nrr = {",
                ),
            ],
        );
        // Those who decline follow the status quo; a relative risk that
        // sometimes pushes a row above 1 fails those draws.
        let declining = peer_variant(
            "",
            &[
                ("uptake = 1.0 }", "uptake = 0.7 }"),
                ("mean = 0.70, sd = 0.08", "mean = 1.6, sd = 0.8"),
                (
                    "to = [\"placed\", \"neet\"]",
                    "to = [\"placed\", \"neet\", \"on_track\"]",
                ),
            ],
        );
        let peer = peer_variant("", &[]);
        let mut failed = 0;
        for scenario in [&peer, &windowed, &declining] {
            let models: Vec<Model> = (0..41)
                .map(|d| Model::compile_lean(scenario, &crate::draw_values(scenario, 5, d)).expect("compiles"))
                .collect();
            let side_by_side = run_many(&models, 1.0);
            assert_eq!(side_by_side.len(), models.len());
            for (d, (model, many)) in models.iter().zip(side_by_side).enumerate() {
                let (one, many) = match (run(model, 1.0), many) {
                    (Ok(one), Ok(many)) => (one, many),
                    (Err(a), Err(b)) => {
                        assert_eq!(a.to_string(), b.to_string());
                        failed += 1;
                        continue;
                    }
                    (a, b) => panic!("draw {d}: alone {:?}, side by side {:?}", a.is_ok(), b.is_ok()),
                };
                let bits = |m: &nalgebra::DMatrix<f64>| m.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                for (a, b) in one.iter().zip(&many) {
                    for (x, y) in [
                        (&a.occupancy, &b.occupancy),
                        (&a.entries, &b.entries),
                        (&a.care, &b.care),
                        (&a.intervention, &b.intervention),
                        (&a.outcomes, &b.outcomes),
                    ] {
                        assert!(bits(x) == bits(y), "draw {d}, arm {}: not the same bits", a.arm);
                    }
                    assert_eq!(a.participants.to_bits(), b.participants.to_bits());
                }
                assert!(
                    one[1].occupancy != one[0].occupancy,
                    "the intervention changes something"
                );
            }
        }
        assert!(failed > 0 && failed < 41, "some draws fail, not all: {failed}");
    }
}
