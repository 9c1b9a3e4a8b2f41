//! The walk of settled children. Once every arm of a child is settled —
//! offered the intervention (or without one), with effects at full
//! strength for good and no history rules — its arms' rows depend only on the age segment,
//! their states and their participation: a *joint position*. Everything a
//! move from a joint position needs is then worked out once per batch's
//! walker and looked up in a dense table (`Positions`): the coupling's
//! interval of staying, thresholds that read the wait off the random
//! number, and the destinations of the move as a table of its random
//! number. The walk from there (`Walker::walk_settled`) takes the same
//! random numbers in the same order and books the same floating-point
//! operations as the walk of unsettled children, so the results are the
//! same numbers, not only the same law: the wait is the one the log gives
//! (the log is taken only where the random number is too close to a
//! threshold to tell, see `Positions::thresholds`), and the destinations
//! those `invert` and `coupled` give (worked out by them where the
//! random number falls close to a change, see `Positions::move_windows`).
//! Most waits and moves are read off tables of the position by the leading
//! bits of their random numbers (`Kept::waits`,
//! `Kept::moves`), which hold them only for intervals of numbers
//! that the thresholds and windows show all give the same one. This walk
//! is written to take few branches on the random numbers: on this kernel
//! a mispredicted branch costs as much as the arithmetic of a move.

use std::ops::Range;

use super::super::{ArmPath, Batch, Counts, Shared, Stream, book_move, coupled, invert};
use super::positions::{Move, Position, Positions, Row, WINDOWS, move_number, place, uniform};
use super::{Walker, stay_arm};
use crate::engine::EngineError;

/// One arm of a child in the settled walk ([`Walker::walk_settled`]): its
/// path, with its counts at hand.
///
/// A settled walk needs the model's costs and discount factors to be
/// finite ([`Plan::by_position`](super::Plan::by_position)): then a cost of no cycles, or of no
/// entry, is `±0`, and adding it leaves the child's cost as it is (a sum
/// that starts at `+0` never becomes `−0`), so it is added without a
/// branch on whether the child waited or moved.
///
/// A lane does not keep the child's history (its years in its state, the
/// states it has been in): only history rules read it, and a settled
/// child's model has none.
struct Lane<'c> {
    a: usize,
    path: ArmPath,
    counts: &'c mut Counts,
    /// The first cycle the lane books the quick way: before it, the child
    /// has paid years of the intervention left ([`Valuation::paid_years`](super::super::Valuation::paid_years)). It is
    /// past every cycle once the child is absorbed for good.
    quick_from: usize,
}

impl<'c> Lane<'c> {
    /// The first cycle from which every one of `lanes` books the quick way.
    fn quick_from_all(lanes: &[Lane]) -> usize {
        lanes.iter().map(|lane| lane.quick_from).max().unwrap_or(0)
    }

    fn new(shared: &Shared, a: usize, path: ArmPath, counts: &'c mut Counts) -> Self {
        let quick_from = match path.enrolled_at {
            _ if path.done => usize::MAX,
            Some(k) => k + shared.valuation.paid_years[a],
            None => 0,
        };
        Lane {
            a,
            path,
            counts,
            quick_from,
        }
    }

    /// Books `cycles` cycles from `t` in which the child stays where it
    /// is, as [`Walker::stay`] does: `annual` is the cost of a cycle in its
    /// state, `discounted` the discount factors of the cycles added up, and
    /// `care` the child's cost so far (kept apart from its path during the
    /// walk, see [`Walker::walk_lanes`]).
    #[inline(always)]
    fn stay(&mut self, shared: &Shared, (t, cycles): (usize, usize), (annual, discounted): (f64, f64), care: &mut f64) {
        if t < self.quick_from {
            if !self.path.done {
                self.path.care = *care;
                paid_stay(shared, self.a, (t, cycles), &mut self.path, self.counts);
                *care = self.path.care;
            }
            return;
        }
        *care += annual * discounted;
    }

    /// Books move `j` of the arms walked, `step` (this arm's, the `j`-th),
    /// in cycle `t` of the child's `n`, as [`book_move`] does, with the
    /// move's costs and the places of its counts read from it, `f` the
    /// cycle's discount factor, `tail` the rest of the horizon's and `care`
    /// the child's cost so far.
    #[inline(always)]
    fn settle(
        &mut self,
        shared: &Shared,
        (t, n): (usize, usize),
        (step, j): (&Move, usize),
        (f, tail): (f64, &[f64]),
        care: &mut f64,
    ) {
        let path = &mut self.path;
        if t < self.quick_from {
            if !path.done {
                self.counts.occupy(path.state, path.since, t);
                path.since = t + 1;
                path.care = *care;
                paid_move(shared, self.a, (t, n), step.next[j], path, self.counts);
                *care = path.care;
                if path.done {
                    self.quick_from = usize::MAX;
                }
            }
            return;
        }
        self.count(t, (step, j));
        *care += step.entry[j] * f;
        *care += step.annual[j] * f;
        if step.absorbs[j] && t + 1 < n {
            self.absorb(shared, (t, n), tail, care);
        }
    }

    /// Books the counts of move `j` of the arms walked, `step`, in cycle
    /// `t`, and moves the child. A child that stays books its cycles up to
    /// `t` as a span too, and the next span from `t + 1`: the same
    /// occupancy as one longer span.
    #[inline(always)]
    fn count(&mut self, t: usize, (step, j): (&Move, usize)) {
        let path = &mut self.path;
        self.counts.span(step.spans[j] as usize, path.since, t);
        path.since = t + 1;
        self.counts.entries[step.entries[j] as usize + t] += u64::from(step.entered[j]);
        path.state = step.next[j];
    }

    /// Books the rest of the horizon of a child absorbed for good in cycle
    /// `t` of its `n`: it needs no random numbers.
    #[inline(always)]
    fn absorb(&mut self, shared: &Shared, (t, n): (usize, usize), tail: &[f64], care: &mut f64) {
        let path = &mut self.path;
        self.counts.occupy(path.state, t + 1, n);
        *care += shared.valuation.annual[path.state] * tail[t];
        path.done = true;
        self.quick_from = usize::MAX;
    }
}

/// [`stay_arm`] for a settled child with paid years left: compiled apart,
/// so that the settled walk's loop stays small.
#[inline(never)]
fn paid_stay(shared: &Shared, a: usize, (t, cycles): (usize, usize), path: &mut ArmPath, counts: &mut Counts) {
    stay_arm(shared, a, t, cycles, path, counts);
}

/// [`book_move`] for a settled child with paid years left: compiled apart,
/// so that the settled walk's loop stays small.
#[inline(never)]
fn paid_move(shared: &Shared, a: usize, (t, n): (usize, usize), next: usize, path: &mut ArmPath, counts: &mut Counts) {
    book_move(shared.model, shared.valuation, a, (t, n), next, counts, path);
}

impl Walker<'_> {
    /// Whether every arm of `arms` is settled for the rest of the child's
    /// walk: absorbed, or out of an absorbing state and either offered the
    /// intervention or without one (see [`Plan::settled`](super::Plan::settled)).
    pub(super) fn all_settled(&self, arms: Range<usize>) -> bool {
        let model = self.shared.model;
        arms.into_iter().all(|a| {
            let path = &self.paths[a];
            path.done || (!model.absorbing[path.state] && (path.offered || model.arms[a].intervention.is_none()))
        })
    }

    /// Walks the child on from cycle `t` of `n` (age index `age0 + t`)
    /// once every arm of `arms` (one, or the model's two) is settled, as
    /// [`Walker::walk`] does, with every joint position worked out once
    /// (see [`Positions`]): its positions are at `origin` in the table,
    /// and `tail` gives the rest of its horizon from each cycle.
    ///
    /// Compiled apart from [`Walker::walk`], whose loop is then compiled as
    /// tightly for children that never settle.
    #[inline(never)]
    pub(super) fn walk_settled(
        &mut self,
        arms: Range<usize>,
        (t, n, age0): (usize, usize, usize),
        origin: (usize, usize),
        tail: &[f64],
        stream: &mut Stream,
        batch: &mut Batch,
    ) -> Result<(), EngineError> {
        let shared = self.shared;
        let (first, last) = (arms.start, arms.end - 1);
        let (paths, walk) = ([first, last].map(|a| self.paths[a].fields()), (t, n, age0));
        if last == first {
            let lane = Lane::new(shared, first, paths[0], &mut batch.counts[first]);
            self.walk_lanes(arms.clone(), [lane], walk, origin, tail, stream)?;
        } else {
            let (low, high) = batch.counts.split_at_mut(last);
            let lanes = [
                Lane::new(shared, first, paths[0], &mut low[first]),
                Lane::new(shared, last, paths[1], &mut high[0]),
            ];
            self.walk_lanes(arms.clone(), lanes, walk, origin, tail, stream)?;
        }
        self.finish(arms, n, batch);
        Ok(())
    }

    /// The settled walk of [`Walker::walk_settled`] through its `N` lanes,
    /// which leaves the lanes' paths in `paths`.
    fn walk_lanes<'c, const N: usize>(
        &mut self,
        arms: Range<usize>,
        mut lanes: [Lane<'c>; N],
        (mut t, n, age0): (usize, usize, usize),
        (origin, segment_step): (usize, usize),
        tail: &[f64],
        stream: &mut Stream,
    ) -> Result<(), EngineError> {
        let shared = self.shared;
        let (plan, factors) = (&shared.plan, &shared.valuation.factors);
        // The stream's state is kept at hand during the walk and put back after it.
        let mut numbers = stream.clone();
        let mut states = lanes.iter().fold(0, |i, lane| i * plan.n_states + lane.path.state);
        // The children's costs, lane by lane, kept apart from their paths
        // during the walk; from cycle `quick_from` on, every lane books the quick way.
        let mut cares = lanes.each_ref().map(|lane| lane.path.care);
        let mut quick_from = Lane::quick_from_all(&lanes);
        // The segment of cycle `t`: its positions start at `base`, and it
        // ends, or the horizon does, before `until`.
        let (mut base, mut until) = (0, 0);
        while t < n {
            if t >= until {
                let at = age0 + t;
                base = origin + plan.segment[at] * segment_step;
                until = (plan.segment_end[at] - age0).min(n);
            }
            let stretch = until - t;
            let i = base + states;
            let place = match self.positions.place(i) {
                Some(place) => place,
                None => {
                    for (lane, &care) in lanes.iter().zip(&cares) {
                        self.paths[lane.a] = ArmPath { care, ..lane.path };
                    }
                    let (position, rows) = self.position(arms.clone(), t, age0 + t)?;
                    self.positions.keep(i, position, rows)
                }
            };
            let kept = &self.positions.known[place];
            let position = &kept.position;
            let wait = self.positions.wait(kept, stretch, &mut numbers, plan);
            let discounted = plan.sums[t + wait] - plan.sums[t];
            if t >= quick_from {
                for (care, &annual) in cares.iter_mut().zip(&position.annual) {
                    *care += annual * discounted;
                }
            } else {
                for ((lane, care), &annual) in lanes.iter_mut().zip(&mut cares).zip(&position.annual) {
                    lane.stay(shared, (t, wait), (annual, discounted), care);
                }
            }
            if wait == stretch {
                t += stretch;
                continue;
            }

            let moved = t + wait;
            let (r, bits) = uniform(&mut numbers);
            let fallback;
            let step = match self.positions.bucket(kept, bits) {
                Some(step) => step,
                None => {
                    let u = move_number(position, r);
                    match self.positions.moves(position, u) {
                        Some(step) => step,
                        None => {
                            let arms = [lanes[0].path, lanes[N - 1].path].map(|p| (p.done, p.state));
                            let next = self.destinations(self.positions.rows[place], u, arms);
                            fallback = self.move_to(arms.map(|(_, s)| s), next, N == 2);
                            &fallback
                        }
                    }
                }
            };
            let f = factors[moved];
            if moved >= quick_from {
                // As `Lane::settle` books them, a step at a time across the lanes.
                for (j, lane) in lanes.iter_mut().enumerate() {
                    lane.count(moved, (step, j));
                }
                for (care, &entry) in cares.iter_mut().zip(&step.entry) {
                    *care += entry * f;
                }
                for (care, &annual) in cares.iter_mut().zip(&step.annual) {
                    *care += annual * f;
                }
                for ((j, lane), care) in lanes.iter_mut().enumerate().zip(&mut cares) {
                    if step.absorbs[j] && moved + 1 < n {
                        lane.absorb(shared, (moved, n), tail, care);
                        quick_from = usize::MAX;
                    }
                }
            } else {
                for ((j, lane), care) in lanes.iter_mut().enumerate().zip(&mut cares) {
                    lane.settle(shared, (moved, n), (step, j), (f, tail), care);
                }
                quick_from = Lane::quick_from_all(&lanes);
            }
            states = step.states;
            t = moved + 1;
        }
        *stream = numbers;
        for (lane, care) in lanes.iter().zip(cares) {
            self.paths[lane.a] = ArmPath {
                care,
                ..lane.path.fields()
            };
        }
        Ok(())
    }

    /// The destinations of the first and the last arm walked, with rows
    /// `rows` and (absorbed, state) `arms`, for the move's random number
    /// `u`, worked out as [`Walker::walk`] does.
    fn destinations(&self, rows: [Row; 2], u: f64, arms: [(bool, usize); 2]) -> [usize; 2] {
        let [reference, row] = rows;
        let [(done0, s0), (done1, s1)] = arms;
        let next0 = if done0 {
            s0
        } else {
            invert(u, self.cumulative(reference), s0)
        };
        let next1 = if done1 {
            s1
        } else if row == reference {
            // The same row as the first arm's (or the same arm): the same move.
            next0
        } else {
            coupled(u, self.probs(reference), self.probs(row), s1)
        };
        [next0, next1]
    }

    /// The joint position of `arms`, whose arms are all settled, in cycle
    /// `t` (age index `at`), worked out from their rows, with the rows of
    /// the first and the last arm.
    fn position(&mut self, arms: Range<usize>, t: usize, at: usize) -> Result<(Position, [Row; 2]), EngineError> {
        let plan = &self.shared.plan;
        let (first, last) = (arms.start, arms.end - 1);
        for a in arms.clone() {
            let path = &self.paths[a];
            let s = path.state;
            self.rows[a] = if path.done {
                plan.stay(s)
            } else if !plan.shaped[a * plan.n_states + s] && (path.offered || !plan.enrols[a * plan.n_states + s]) {
                plan.table(at, s)
            } else {
                self.settled_row(a, t, at)?
            };
        }
        let joint = self.joint(arms.clone());
        let waits = self.positions.thresholds(joint.c, joint.inv_ln_c, plan.n_cycles);
        let rows = [self.rows[first], self.rows[last]];
        let coupling = (last != first && !self.paths[last].done && rows[1] != rows[0]).then(|| self.probs(rows[1]));
        let windows = Positions::move_windows((self.probs(rows[0]), self.cumulative(rows[0])), coupling);
        let arms_now = [first, last].map(|a| (self.paths[a].done, self.paths[a].state));
        let start = self.positions.from.len();
        for &[from, to] in &windows {
            // One `u` above each window, below the next.
            let next = self.destinations(rows, to, arms_now);
            let step = self.move_to(arms_now.map(|(_, s)| s), next, last != first);
            self.positions.from.push(from);
            self.positions.to.push(to);
            self.positions.moves.push(step);
        }
        while !(self.positions.from.len() - start).is_multiple_of(WINDOWS) {
            self.positions.from.push(f64::INFINITY);
            self.positions.to.push(f64::INFINITY);
            self.positions.moves.push(Move::default());
        }
        let windows = (place(start), place(self.positions.from.len()));
        let annual = arms_now.map(|(_, s)| self.shared.valuation.annual[s]);
        let position = Position {
            joint,
            moving: 1.0 - joint.c,
            annual,
            waits,
            windows,
        };
        Ok((position, rows))
    }

    /// The move of the first and the last arm walked (two arms when
    /// `pair`) from states `from` to `next`, with its costs and the index
    /// of the states it leads to.
    fn move_to(&self, from: [usize; 2], next: [usize; 2], pair: bool) -> Move {
        let (model, plan) = (self.shared.model, &self.shared.plan);
        let n = plan.n_states;
        Move {
            next,
            states: if pair { next[0] * n + next[1] } else { next[0] },
            entry: [0, 1].map(|j| plan.move_entry[from[j] * n + next[j]]),
            annual: [0, 1].map(|j| plan.move_annual[from[j] * n + next[j]]),
            absorbs: next.map(|s| model.absorbing[s]),
            entered: [0, 1].map(|j| u8::from(next[j] != from[j])),
            spans: from.map(|s| place(Counts::spans_row(s, plan.n_cycles))),
            entries: next.map(|s| place(Counts::entries_row(s, plan.n_cycles))),
        }
    }
}
