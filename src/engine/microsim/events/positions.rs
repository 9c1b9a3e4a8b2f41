//! The joint positions of settled children: everything a move from one
//! of them needs, worked out once and found by index in a dense table.

use std::ops::Range;

use rand::Rng;

use super::super::{ArmPath, Stream};
use super::{Plan, wait_of};
use crate::model::Model;

/// Where a row of probabilities (with its cumulative sums) is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Row {
    /// Row `i` of the plan: a stay row or a status-quo table's.
    Plan(usize),
    /// Row `i` of the walker's store: changed by effects or history rules.
    Changed(usize),
}

/// A changed row is the same for the same arm, state, age segment, effect
/// phase (a code, see [`phase`](super::phase)) and set of history rules that hold.
pub(super) type Key = (usize, usize, usize, u64, u64);

/// What the coupling does from one joint position: the interval
/// `[low, low + c)` of random numbers on which every arm stays.
#[derive(Clone, Copy, Debug)]
pub(super) struct Joint {
    pub(super) low: f64,
    pub(super) c: f64,
    /// `1 / ln c`.
    pub(super) inv_ln_c: f64,
}

/// Most entries of a table of [`Positions`]: bigger tables are not kept,
/// and their children walk as unsettled ones do.
const MOST_POSITIONS: usize = 1 << 18;

/// How far the thresholds of a [`Position`]'s waits stand from the powers
/// `c^k`, relatively: far enough to leave room for the rounding of `ln`,
/// `exp` and the products (see [`Positions::thresholds`]).
const MARGIN: f64 = 1e-9;

/// How far a threshold of the coupling may stand from the value worked
/// out for it (see [`Positions::move_windows`]): the comparisons of
/// [`coupled`](super::super::coupled) round a few times numbers below 2, so a few units in the
/// last place of 1 would do.
const SLACK: f64 = 1.0 / (1u64 << 40) as f64;

/// Windows of a position are counted this many at a time.
pub(super) const WINDOWS: usize = 4;

/// Leading bits of the random number of a move, before it is mapped
/// outside the interval of staying, that sort it into one of `2^MOVE_BITS`
/// intervals of equal length (see [`Kept::moves`]).
const MOVE_BITS: u32 = 8;
const BUCKETS: usize = 1 << MOVE_BITS;

/// An entry of [`Kept::moves`] whose interval holds random numbers
/// with different moves, or close to a change of one.
const MIXED: u16 = u16::MAX;

/// Leading bits of the random number of a wait that sort it into one of
/// `2^WAIT_BITS` intervals of equal length (see [`Kept::waits`]).
const WAIT_BITS: u32 = 10;
const WAIT_BUCKETS: usize = 1 << WAIT_BITS;

/// An entry of [`Kept::waits`] whose interval holds random
/// numbers with different waits, or close to a change of one.
const MIXED_WAIT: u8 = u8::MAX;

/// The least `1 − u` of a uniform `u` ([`rng::uniform`](crate::engine::rng::uniform) has 53 bits).
const LEAST_X: f64 = 1.0 / (1u64 << 53) as f64;

/// Everything a move from one joint position of settled arms needs,
/// worked out once: the coupling's interval of staying, the thresholds of
/// the wait and the destinations of the move.
#[derive(Clone, Copy, Debug)]
pub(super) struct Position {
    pub(super) joint: Joint,
    /// `1 − c`: the length of the random numbers on which some arm moves.
    pub(super) moving: f64,
    /// Per arm walked (the first and the last): the cost of a cycle in its state.
    pub(super) annual: [f64; 2],
    /// Where the thresholds of the wait are in [`Positions::waits`].
    pub(super) waits: (u32, u32),
    /// Where the windows of the move are in [`Positions::from`] and
    /// [`Positions::to`], and its moves, one per window, in
    /// [`Positions::moves`].
    pub(super) windows: (u32, u32),
}

/// A position kept in [`Positions`], with its tables of waits and moves
/// read off by the leading bits of their random numbers.
pub(super) struct Kept {
    pub(super) position: Position,
    /// [`WAIT_BUCKETS`] entries: for the uniforms `r` of a wait in
    /// `[b / WAIT_BUCKETS, (b + 1) / WAIT_BUCKETS)`, the wait they all give
    /// when no stretch cuts it short, as [`Positions::waits`] bears it out
    /// for the least and the greatest `x = 1 − r` of the interval (the wait
    /// grows as `x` falls), or [`MIXED_WAIT`].
    waits: [u8; WAIT_BUCKETS],
    /// [`BUCKETS`] entries: for the random numbers `r` of a move in
    /// `[b / BUCKETS, (b + 1) / BUCKETS)`, the move they all give (its
    /// place among the position's moves), or [`MIXED`]. The number `u` the
    /// move takes is `r` scaled and shifted past the interval of staying,
    /// which keeps the order of the numbers: when the least and the
    /// greatest `r` of an interval fall between the same two windows, so
    /// does every `r` in it, and most moves are read off this table with one load.
    moves: [u16; BUCKETS],
}

/// A move from a joint position, for the random numbers between two windows.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Move {
    /// Per arm walked: its destination.
    pub(super) next: [usize; 2],
    /// The destinations' states as an index of [`Positions`] (segment 0).
    pub(super) states: usize,
    /// Per arm walked: the cost of entering its destination (0 if it
    /// stays) and of the cycle of the move ([`Plan::move_entry`],
    /// [`Plan::move_annual`]).
    pub(super) entry: [f64; 2],
    pub(super) annual: [f64; 2],
    /// Per arm walked: the destination absorbs.
    pub(super) absorbs: [bool; 2],
    /// Per arm walked: it enters its destination (1), or stays (0).
    pub(super) entered: [u8; 2],
    /// Per arm walked: where, in its [`Counts`](super::super::Counts), the
    /// spans of the state it leaves start, and the entries of its destination.
    pub(super) spans: [u32; 2],
    pub(super) entries: [u32; 2],
}

/// The joint positions of children whose arms are all settled (offered
/// the intervention, or without one, with effects at full strength for
/// good): their rows, and so all a move needs, depend only on the age
/// segment, the arms' states and their participation. Positions are
/// found by index in a dense table, without hashing:
/// `((a·2 + e)·K + k)·S + s` for arm `a` walked alone, in state `s` of
/// segment `k` with participation `e`; for the two arms of a model walked
/// together, `((e₀·2 + e₁)·K + k)·S² + s₀·S + s₁`, after the first table.
///
/// The walk from a kept position takes few branches that depend on the
/// random numbers (a mispredicted branch costs more than the arithmetic
/// of a move): the wait and the move are read off tables by the leading
/// bits of their random numbers, else the wait from thresholds and the
/// destinations from a table of the move's random number, with the log
/// and the coupling worked out only where a number falls too close to a
/// threshold to tell.
pub(super) struct Positions {
    /// Per index: one plus the position's place in `known`, or 0 when not
    /// met yet; filled with zeros when a first child settles.
    slots: Vec<u32>,
    /// Indices in the tables kept.
    pub(super) len: usize,
    /// Where the table of two arms walked together starts in `slots`, if it is kept.
    pub(super) pairs: Option<usize>,
    /// Whether the table of arms walked alone is kept.
    pub(super) singles: bool,
    n_states: usize,
    n_segments: usize,
    pub(super) known: Vec<Kept>,
    /// Per position: the rows of the first and the last arm walked (the
    /// same arm when one is).
    pub(super) rows: Vec<[Row; 2]>,
    /// Per position, thresholds `[below, above]` for each `k = 0, 1, …`: a
    /// uniform `x` at most `below` waits at least `k` cycles, one at least
    /// `above` fewer than `k + 1` (`below` is infinite for `k = 0`, and
    /// `above` for the last `k`).
    waits: Vec<[f64; 2]>,
    /// Per position, windows `[from, to]` of the move's random number `u`,
    /// in increasing order and apart, the first of them below every `u`:
    /// between two windows every arm's destination is the same; within
    /// one it may change.
    pub(super) from: Vec<f64>,
    pub(super) to: Vec<f64>,
    /// Per position, the moves between the first window and the second,
    /// …, above the last; the windows are padded to a multiple of
    /// [`WINDOWS`] with windows above every `u`, so that finding one takes
    /// the same steps from most positions.
    pub(super) moves: Vec<Move>,
}

impl Positions {
    /// Tables for `model`: of arms walked alone if one of them settles, of
    /// two arms walked together if both do (`plan`'s [`Plan::by_position`]).
    pub(super) fn new(model: &Model, plan: &Plan) -> Self {
        let (n_states, n_segments, arms) = (model.n_states(), model.segments().len(), model.arms.len());
        let singles = arms * 2 * n_segments * n_states;
        let pairs = 4 * n_segments * n_states * n_states;
        let singles_kept = plan.by_position.iter().any(|&b| b) && singles <= MOST_POSITIONS;
        let pairs_kept = plan.by_position.iter().all(|&b| b) && arms == 2 && pairs <= MOST_POSITIONS;
        let len = if singles_kept { singles } else { 0 } + if pairs_kept { pairs } else { 0 };
        Positions {
            slots: Vec::new(),
            len,
            pairs: pairs_kept.then_some(if singles_kept { singles } else { 0 }),
            singles: singles_kept,
            n_states,
            n_segments,
            known: Vec::new(),
            rows: Vec::new(),
            waits: Vec::new(),
            from: Vec::new(),
            to: Vec::new(),
            moves: Vec::new(),
        }
    }

    /// Where the positions of the child with paths `paths`, walked through
    /// `arms`, are in `slots`: the index of segment 0 and states 0, and the
    /// step from one segment to the next; `None` when they are not kept.
    pub(super) fn origin(&mut self, arms: Range<usize>, paths: &[ArmPath]) -> Option<(usize, usize)> {
        if self.slots.len() < self.len {
            self.slots = vec![0; self.len];
        }
        let (n, k) = (self.n_states, self.n_segments);
        let enrolled = |a: usize| usize::from(paths[a].enrolled_at.is_some());
        match arms.len() {
            1 if self.singles => Some(((arms.start * 2 + enrolled(arms.start)) * k * n, n)),
            2 if arms.start == 0 => self
                .pairs
                .map(|first| (first + (enrolled(0) * 2 + enrolled(1)) * k * n * n, n * n)),
            _ => None,
        }
    }

    /// Keeps `position`, with the arms' `rows`, under index `i`; returns its place in `known`.
    pub(super) fn keep(&mut self, i: usize, position: Position, rows: [Row; 2]) -> usize {
        let place = self.known.len();
        let (start, end) = (position.windows.0 as usize, position.windows.1 as usize);
        let (from, to) = (&self.from, &self.to);
        // As `Positions::window` finds it, for numbers `u` taken in increasing
        // order: `next` is one past the last window starting at or below `u`.
        let mut next = start;
        let mut window = |u: f64| {
            while next < end && from[next] <= u {
                next += 1;
            }
            let last = next.checked_sub(1).filter(|&last| last >= start)?;
            if u < to[last] { None } else { Some(last) }
        };
        let moves = by_interval(MIXED, |r| Some(window(move_number(&position, r))? - start));
        let thresholds = self
            .waits
            .get(position.waits.0 as usize..position.waits.1 as usize)
            .unwrap_or(&[]);
        // For numbers `x` taken in decreasing order: `k` is the greatest wait
        // that `x` certainly reaches; it is the wait if `x` certainly stops short of `k + 1`.
        let mut k = 0;
        let mut wait = |x: f64| {
            while k + 1 < thresholds.len() && x <= thresholds[k + 1][0] {
                k += 1;
            }
            let &[below, above] = thresholds.get(k)?;
            ((x <= below) & (x >= above)).then_some(k)
        };
        let waits = by_interval(MIXED_WAIT, |r| wait(1.0 - r));
        self.known.push(Kept { position, waits, moves });
        self.rows.push(rows);
        if let (Some(slot), Ok(next)) = (self.slots.get_mut(i), u32::try_from(place + 1)) {
            *slot = next;
        }
        place
    }

    /// The place in `known` of the position under index `i`, if it is kept.
    #[inline]
    pub(super) fn place(&self, i: usize) -> Option<usize> {
        match self.slots.get(i) {
            Some(&place) if place > 0 => Some(place as usize - 1),
            _ => None,
        }
    }

    /// The thresholds of the wait from a joint position where every arm
    /// stays with probability `c` (`inv_ln_c` is `1 / ln c`), for waits of
    /// up to `most` cycles; kept in `waits`, whose range they take is returned.
    ///
    /// With `θ = 1 / inv_ln_c` (the log of `c`), the wait of a uniform
    /// `x` is `⌊ln x / θ⌋`, and it is at least `k` exactly when `x ≤ e^{kθ}`.
    /// The threshold `below` is `e^{kθ}` shrunk by [`MARGIN`] and `above`
    /// the same grown by it; the powers are products of `e^θ`, whose
    /// relative error, a few units in the last place per factor, stays far
    /// below the margin. So `x ≤ below` makes the computed `ln x · inv_ln_c`
    /// at least `k` and `x ≥ above` less than `k` for any `ln` within some
    /// ten thousand units in the last place of the true log, as every libm
    /// is: the wait read from the thresholds is the very number the log
    /// gives. The table ends where `above` falls below `2⁻⁵³`, the least `x`.
    pub(super) fn thresholds(&mut self, c: f64, inv_ln_c: f64, most: usize) -> (u32, u32) {
        let start = self.waits.len();
        if c > 0.0 && c < 1.0 && inv_ln_c < 0.0 {
            let step = (1.0 / inv_ln_c).exp();
            let mut below = f64::INFINITY;
            let mut power = 1.0;
            for _ in 0..most {
                power *= step;
                let above = power * (1.0 + MARGIN);
                self.waits.push([below, above]);
                below = power * (1.0 - MARGIN);
                if above < LEAST_X {
                    break;
                }
            }
            self.waits.push([below, f64::INFINITY]);
        }
        (place(start), place(self.waits.len()))
    }

    /// The windows of the move's random number `u` from a joint position
    /// (see [`Positions::from`]), with `reference` the first arm's row
    /// (its probabilities and cumulative sums) and `coupling` the last
    /// arm's when it moves by the coupling with it.
    ///
    /// Every comparison [`invert`](super::super::invert) and [`coupled`](super::super::coupled) make with `u` turns from
    /// true to false at one threshold as `u` grows: at a cumulative sum of
    /// `reference` exactly, or, once a rounded difference or sum of `u` is
    /// taken, within a few units in the last place of a value worked out
    /// here the same way. Each such value gets a window [`SLACK`] wide on
    /// either side (none for the exact ones), overlapping windows merge,
    /// and between two windows no comparison changes, so neither do the
    /// destinations. They are found once per stretch between windows, by
    /// the very functions the move would call.
    pub(super) fn move_windows(reference: (&[f64], &[f64]), coupling: Option<&[f64]>) -> Vec<[f64; 2]> {
        let (p, cumulative) = reference;
        let mut found: Vec<[f64; 2]> = cumulative.iter().map(|&x| [x, x]).collect();
        if let Some(q) = coupling {
            let near = |x: f64| [x - SLACK, x + SLACK];
            let (mut start, mut deficit_before) = (0.0, 0.0);
            for j in 0..p.len() {
                let common = p[j].min(q[j]);
                found.push(near(start + common));
                let mut acc = 0.0;
                for k in 0..q.len() {
                    let excess = q[k] - p[k].min(q[k]);
                    if excess > 0.0 {
                        acc += excess;
                        found.push(near(start + common + (acc - deficit_before)));
                    }
                }
                deficit_before += p[j] - common;
                start += p[j];
                found.push([start, start]);
            }
        }
        found.retain(|w| w[0].is_finite() && w[1].is_finite());
        found.sort_by(|x, y| x[0].total_cmp(&y[0]));
        let mut windows: Vec<[f64; 2]> = Vec::with_capacity(found.len() + 1);
        // Below every `u`, none of which is negative.
        windows.push([-1.0; 2]);
        for w in found {
            match windows.last_mut() {
                Some(last) if w[0] <= last[1] => last[1] = last[1].max(w[1]),
                _ => windows.push(w),
            }
        }
        windows
    }

    /// The number of cycles, at most `stretch`, before the first in which
    /// not every arm stays from the position `kept`: as
    /// [`wait`](super::wait), with the same random number and the same result, but read
    /// off [`Kept::waits`] by the number's leading bits, or else
    /// from the position's thresholds at the place a quick estimate of the
    /// log points to; the log itself is taken only when the thresholds
    /// there do not bear the estimate out.
    #[inline(always)]
    pub(super) fn wait(&self, kept: &Kept, stretch: usize, stream: &mut Stream, plan: &Plan) -> usize {
        let position = &kept.position;
        let Joint { c, inv_ln_c, .. } = position.joint;
        if c >= 1.0 {
            return stretch;
        }
        if c <= 0.0 {
            return 0;
        }
        let (r, bits) = uniform(stream);
        let b = (bits >> (53 - WAIT_BITS)) as usize;
        if let Some(&entry) = kept.waits.get(b)
            && entry != MIXED_WAIT
        {
            return usize::from(entry).min(stretch);
        }
        let x = 1.0 - r;
        let (start, end) = position.waits;
        let thresholds = self.waits.get(start as usize..end as usize).unwrap_or(&[]);
        // As `wait_of` rounds: the integer part, at most the stretch.
        let k = ((plan.rough_ln(x) * inv_ln_c) as i64).clamp(0, i64::try_from(stretch).unwrap_or(i64::MAX)) as usize;
        match thresholds.get(k) {
            // At least `k` cycles, and, short of the stretch, fewer than `k + 1`.
            Some(&[below, above]) if (x <= below) & ((x >= above) | (k == stretch)) => k,
            _ => wait_of(x, inv_ln_c, stretch),
        }
    }

    /// The move from the position `kept` for the move's uniform random
    /// number with 53 bits `bits` (before it is mapped to `u`), if its
    /// table of moves ([`Kept::moves`]) holds it.
    #[inline(always)]
    pub(super) fn bucket(&self, kept: &Kept, bits: u64) -> Option<&Move> {
        let b = (bits >> (53 - MOVE_BITS)) as usize;
        let entry = *kept.moves.get(b)?;
        if entry == MIXED {
            return None;
        }
        self.moves.get(kept.position.windows.0 as usize + usize::from(entry))
    }

    /// The move from `position` for the move's random number `u`, or
    /// `None` when `u` falls within a window.
    #[inline(always)]
    pub(super) fn moves(&self, position: &Position, u: f64) -> Option<&Move> {
        self.moves.get(self.window(position, u)?)
    }

    /// The place in `moves` of the move from `position` for the move's
    /// random number `u`, or `None` when `u` falls within a window.
    #[inline(always)]
    fn window(&self, position: &Position, u: f64) -> Option<usize> {
        let (start, end) = (position.windows.0 as usize, position.windows.1 as usize);
        let from = self.from.get(start..end)?;
        let below: usize = from
            .chunks_exact(WINDOWS)
            .map(|chunk| chunk.iter().map(|&x| usize::from(x <= u)).sum::<usize>())
            .sum();
        // The first window is below every `u`.
        let last = start + below.checked_sub(1)?;
        if u < *self.to.get(last)? {
            return None;
        }
        Some(last)
    }
}

/// A table of the `N` intervals `[b / N, (b + 1) / N)` of uniform numbers:
/// per interval, what `at` gives at both its least and its greatest 53-bit
/// uniform (taken in increasing order, which `at` may rely on), when that
/// is the same and fits in `T` other than `mixed`; otherwise `mixed`.
fn by_interval<T: Copy + PartialEq + TryFrom<usize>, const N: usize>(
    mixed: T,
    mut at: impl FnMut(f64) -> Option<usize>,
) -> [T; N] {
    let mut table = [mixed; N];
    for (b, entry) in table.iter_mut().enumerate() {
        let least = b as f64 / N as f64;
        let greatest = (b + 1) as f64 / N as f64 - LEAST_X;
        if let (Some(low), Some(high)) = (at(least), at(greatest))
            && low == high
            && let Ok(e) = T::try_from(low)
            && e != mixed
        {
            *entry = e;
        }
    }
    table
}

/// A uniform number in `[0, 1)` drawn as [`rng::uniform`](crate::engine::rng::uniform) draws it, with
/// its 53 bits: the number is `bits · 2⁻⁵³`.
#[inline(always)]
pub(super) fn uniform(stream: &mut Stream) -> (f64, u64) {
    let bits = stream.next_u64() >> 11;
    (bits as f64 * LEAST_X, bits)
}

/// The random number `u` of a move from `position` for a uniform `r`:
/// scaled to the length of the numbers on which some arm moves, and
/// shifted past the interval on which every arm stays (as [`Walker::walk`](super::Walker::walk)
/// takes it).
#[inline(always)]
pub(super) fn move_number(position: &Position, r: f64) -> f64 {
    let v = r * position.moving;
    if v < position.joint.low {
        v
    } else {
        v + position.joint.c
    }
}

/// `i` as a place in the tables of [`Positions`].
pub(super) fn place(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}
