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

mod kernels;
mod plan;
mod prices;

use std::cell::RefCell;

use self::kernels::{Book, DENSE, advance_dense, advance_sparse, densify};
use self::plan::{Plan, wild};
use self::prices::Prices;
use super::{ArmStreams, EngineError};
use crate::model::{Arm, EffectModel, GroupModel, InterventionModel, Model, SegmentView};

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

    let mut t = 0;
    while t < n_cycles {
        let age = group.start_age + t as u32;
        let k = model.segments().at_age(age);
        let views: [SegmentView<'_>; L] = std::array::from_fn(|l| models[l].segments().view(k));

        if let Some(iv) = iv {
            if iv.enrols_at(group.start_age, age) {
                rest_active |= enrol(v, (n, iv, ivs), (t, w, declined), out);
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
            v.stay.copy_from_slice(&v.segment_stay);
            v.segment = k;
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

        advance_enrolled((models, arms), group.start_age, (k, &views), (t, m, w), plans, v, out)?;
        t += m;
    }
    if declined {
        add_declined(ivs, status_quo, out);
    }
    Ok(())
}

/// Enrols, in cycle `t`, the share `uptake` of each draw's children
/// still pending in the states `iv` enrols from (the draws' interventions
/// `ivs`, `n` states) as a new sub-cohort, and books their once costs,
/// `w` the group's weights. The others join `v.rest`, or, when those who
/// decline are the status quo's children (`declined`), nobody. Returns
/// whether `v.rest` holds anyone.
fn enrol<const L: usize>(
    v: &mut Vectors,
    (n, iv, ivs): (usize, &InterventionModel, [Option<&InterventionModel>; L]),
    (t, w, declined): (usize, [f64; L], bool),
    out: &mut [&mut ArmStreams; L],
) -> bool {
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
    let rest_active = v.rest.iter().any(|&r| r != 0.0);
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
    rest_active
}

/// Runs the sub-cohorts enrolled so far through cycles `t..t + m` of age
/// segment `k` (`views`: its tables in each draw), `w` the group's
/// weights: each through stretches in which its modified rows hold.
fn advance_enrolled<const L: usize>(
    (models, arms): ([&Model; L], [&Arm; L]),
    start_age: u32,
    (k, views): (usize, &[SegmentView<'_>; L]),
    (t, m, w): (usize, usize, [f64; L]),
    plans: &mut [Plan],
    v: &mut Vectors,
    out: &mut [&mut ArmStreams; L],
) -> Result<(), EngineError> {
    let model = models[0];
    let (n, counting) = (model.n_states(), model.counting);
    let iv = arms[0].intervention.as_ref();
    let ivs: [Option<&InterventionModel>; L] = std::array::from_fn(|l| arms[l].intervention.as_ref());
    for (i, (&enrolled_at, joined)) in v.enrolled_at.iter().zip(&v.joined).enumerate() {
        let x = &mut v.enrolled[i * n * L..(i + 1) * n * L];
        let mut c = t;
        while c < t + m {
            let (d, age) = (c - enrolled_at, start_age + c as u32);
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
    Ok(())
}

/// Adds to each draw's streams those of the children who declined the
/// intervention: the share `1 − uptake` of its status quo's (`status_quo`).
fn add_declined<const L: usize>(
    ivs: [Option<&InterventionModel>; L],
    status_quo: [Option<&ArmStreams>; L],
    out: &mut [&mut ArmStreams; L],
) {
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

#[cfg(test)]
mod tests {
    use super::*;

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
