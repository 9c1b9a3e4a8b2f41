//! The event kernel: children moved from one move to the next.
//!
//! Within a *stretch* of cycles where every arm's row of probabilities
//! stays the same as long as the child stays where it is — the same age
//! segment of the tables, the same phase of every effect, no enrolment due, no
//! history rule about to switch — the arms move together by the maximal
//! coupling of [`super::steps`], and every arm stays put in a cycle with one
//! probability `c`: the length of the interval of random numbers on which
//! all of them stay. So the number of cycles before the next move is
//! geometric, `P(K ≥ k) = c^k`, and is drawn in one go by inversion; the
//! move itself takes a random number drawn uniformly outside that interval,
//! which the coupling maps to every arm's destination. The joint law of the
//! arms' paths is the step kernel's; the work grows with the number of
//! moves, not of cycles.
//!
//! The stay cycles are booked at once: their cost from prefix sums of the
//! discount factors, their occupancy as one span of cycles. A stretch ends
//! early at the horizon, at the next age segment, when an effect leaves its
//! full-strength years (a fading effect changes every cycle, so its
//! stretches last one cycle), when an enrolment comes due, and when a
//! minimum-years rule switches on.
//!
//! Random numbers: the child's stream gives, as in the step kernel, the
//! start state and the participation draw first; then each stretch takes
//! one number for its wait and, if a move falls inside it, one for the move.
//!
//! Settled children walk on by joint position (module `settled`).

mod plan;
mod positions;
mod settled;

use std::ops::Range;

use rustc_hash::FxHashMap;

pub(crate) use self::plan::Plan;
use self::positions::{Joint, Key, Positions, Row};
use super::{ArmPath, Batch, Counts, Shared, Stream, book_move, coupled, holds, invert, offer, pick_start};
use crate::engine::{EngineError, rng};
use crate::model::{EffectModel, GroupModel, InterventionModel, apply_effects};
use crate::scenario::HistoryCondition;

/// Books `cycles` cycles from `t` in which arm `a`'s child stays where it
/// is: the cost of its state, and the intervention's paid years.
#[inline(always)]
fn stay_arm(shared: &Shared, a: usize, t: usize, cycles: usize, path: &mut ArmPath, counts: &mut Counts) {
    if cycles == 0 || path.done {
        return;
    }
    let (model, val, plan) = (shared.model, shared.valuation, &shared.plan);
    let until = t + cycles;
    let s = path.state;
    path.care += val.annual[s] * (plan.sums[until] - plan.sums[t]);
    path.years_in_state = path.years_in_state.saturating_add(cycles as u32);
    if let Some(k) = path.enrolled_at
        && !model.absorbing[s]
    {
        for c in t..until.min(k + val.paid_years[a]) {
            counts.pay_start[c] += 1;
            counts.pay_end[c] += 1;
            path.paid += val.yearly[a] * val.factors[c];
        }
    }
}

/// The event kernel with its scratch space, for one batch.
pub(super) struct Walker<'a> {
    shared: &'a Shared<'a>,
    paths: Vec<ArmPath>,
    rows: Vec<Row>,
    next: Vec<usize>,
    /// Changed rows met so far, by key, as indices into `store`.
    known: FxHashMap<Key, usize>,
    /// Per arm: the last changed row looked up, by key.
    last: Vec<Option<(Key, usize)>>,
    /// Rows with their cumulative sums, `2S` numbers each. The first rows,
    /// one per arm, hold rows too particular to keep (see [`Walker::key`]).
    store: Vec<f64>,
    /// Per row of `store`: one over the log of its probability of staying.
    store_inv_ln_stay: Vec<f64>,
    /// Joint positions met so far, by their rows (see [`Walker::joint_key`]).
    joints: FxHashMap<u128, Joint>,
    /// Rows of settled arms met so far, by arm, participation and table row.
    settled: Vec<Option<Row>>,
    /// Joint positions of children whose arms are all settled.
    positions: Positions,
}

impl<'a> Walker<'a> {
    pub(super) fn new(shared: &'a Shared<'a>) -> Self {
        let model = shared.model;
        let arms = model.arms.len();
        let idle = ArmPath {
            done: true,
            ..ArmPath::start(shared.valuation, 0, 0)
        };
        Walker {
            shared,
            paths: vec![idle; arms],
            rows: vec![Row::Plan(0); arms],
            next: vec![0; arms],
            known: FxHashMap::default(),
            last: vec![None; arms],
            store: vec![0.0; 2 * model.n_states() * arms],
            store_inv_ln_stay: vec![0.0; arms],
            joints: FxHashMap::default(),
            settled: vec![None; 2 * arms * shared.plan.n_rows()],
            positions: Positions::new(model, &shared.plan),
        }
    }

    /// Simulates one child (one stream shared by the arms, or one per arm) and adds it to `batch`.
    pub(super) fn simulate(
        &mut self,
        group: &GroupModel,
        streams: &mut [Stream],
        batch: &mut Batch,
    ) -> Result<(), EngineError> {
        let arms = self.shared.model.arms.len();
        if let [stream] = streams {
            self.walk(group, 0..arms, stream, batch)
        } else {
            for (a, stream) in streams.iter_mut().enumerate() {
                self.walk(group, a..a + 1, stream, batch)?;
            }
            Ok(())
        }
    }

    /// Walks one child through the arms `arms` in lockstep, the first of
    /// them the reference of the coupling, all with numbers from `stream`.
    fn walk(
        &mut self,
        group: &GroupModel,
        arms: Range<usize>,
        stream: &mut Stream,
        batch: &mut Batch,
    ) -> Result<(), EngineError> {
        let shared = self.shared;
        let (model, val, plan) = (shared.model, shared.valuation, &shared.plan);
        let n = (model.end_age - group.start_age) as usize;
        let age0 = (group.start_age - model.start_age) as usize;
        let start = rng::uniform(stream);
        let take = rng::uniform(stream);
        for a in arms.clone() {
            let state = pick_start(start, group.start.as_slice());
            self.paths[a] = ArmPath::start(val, a, state);
        }
        let may_settle = arms.clone().all(|a| plan.by_position[a]);

        let mut t = 0;
        while t < n {
            let age = group.start_age + t as u32;
            if may_settle {
                // Offered now if an enrolment is due, before anything else of the cycle, so
                // that a child settled by the offer walks settled from this cycle on. (The
                // offer below then finds the child offered already, and does nothing.)
                for a in arms.clone() {
                    let path = &mut self.paths[a];
                    if !path.done && !model.absorbing[path.state] {
                        let counts = &mut batch.counts[a];
                        offer(model, val, a, (t, age, group.start_age), take, counts, path);
                    }
                }
                if self.all_settled(arms.clone())
                    && let (Some(origin), Some(tail)) = (self.positions.origin(arms.clone(), &self.paths), plan.tail(n))
                {
                    return self.walk_settled(arms, (t, n, age0), origin, tail, stream, batch);
                }
            }
            let at = age0 + t;
            let mut stretch = (plan.segment_end[at] - at).min(n - t);
            for a in arms.clone() {
                let path = &mut self.paths[a];
                let s = path.state;
                self.rows[a] = if path.done || model.absorbing[s] {
                    plan.stay(s)
                } else if !plan.shaped[a * plan.n_states + s] && (path.offered || !plan.enrols[a * plan.n_states + s]) {
                    // Nothing but the tables acts on this arm here, and no enrolment is due.
                    plan.table(at, s)
                } else if plan.settled[a] && path.offered {
                    self.settled_row(a, t, at)?
                } else {
                    offer(
                        model,
                        val,
                        a,
                        (t, age, group.start_age),
                        take,
                        &mut batch.counts[a],
                        path,
                    );
                    stretch = stretch.min(self.steady(a, t, age, group.start_age));
                    self.row(a, t, at)?
                };
            }
            let Joint { low, c, inv_ln_c } = self.joint(arms.clone());
            let wait = wait(c, inv_ln_c, stretch, stream);
            self.stay(arms.clone(), t, wait, batch);
            if wait == stretch {
                t += stretch;
                continue;
            }

            let moved = t + wait;
            let v = rng::uniform(stream) * (1.0 - c);
            let u = if v < low { v } else { v + c };
            let first = arms.start;
            let (reference, s0) = (self.rows[first], self.paths[first].state);
            for a in arms.clone() {
                let path = &self.paths[a];
                self.next[a] = if path.done {
                    path.state
                } else if a == first {
                    invert(u, self.cumulative(reference), s0)
                } else if self.rows[a] == reference {
                    // The same row as the first arm's: the same move.
                    self.next[first]
                } else {
                    coupled(u, self.probs(reference), self.probs(self.rows[a]), path.state)
                };
            }
            for a in arms.clone() {
                let path = &mut self.paths[a];
                if path.done {
                    continue;
                }
                let (from, to) = (path.state, self.next[a]);
                if to != from {
                    batch.counts[a].occupy(from, path.since, moved);
                    path.since = moved + 1;
                }
                book_move(model, val, a, (moved, n), to, &mut batch.counts[a], path);
            }
            t = moved + 1;
        }
        self.finish(arms, n, batch);
        Ok(())
    }

    /// Books the end of the child's horizon of `n` cycles in every arm of `arms`.
    fn finish(&self, arms: Range<usize>, n: usize, batch: &mut Batch) {
        for a in arms {
            let path = &self.paths[a];
            if !path.done {
                batch.counts[a].occupy(path.state, path.since, n);
            }
            batch.cost(a, path.care + path.paid);
        }
    }

    /// The row of settled arm `a`, offered the intervention, in cycle `t`
    /// (age index `at`): looked up by participation and table row, or
    /// computed and remembered.
    fn settled_row(&mut self, a: usize, t: usize, at: usize) -> Result<Row, EngineError> {
        let plan = &self.shared.plan;
        let path = &self.paths[a];
        let i = (2 * a + usize::from(path.enrolled_at.is_some())) * plan.n_rows() + plan.table_index(at, path.state);
        if let Some(row) = self.settled[i] {
            return Ok(row);
        }
        let row = self.row(a, t, at)?;
        // Rows computed afresh each time (never kept) are not remembered either.
        if !matches!(row, Row::Changed(slot) if slot < self.paths.len()) {
            self.settled[i] = Some(row);
        }
        Ok(row)
    }

    /// How many cycles from `t` on arm `a`'s row stays the same while its
    /// child stays where it is (unbounded: `usize::MAX`).
    fn steady(&self, a: usize, t: usize, age: u32, start_age: u32) -> usize {
        let model = self.shared.model;
        let path = &self.paths[a];
        let s = path.state;
        if model.absorbing[s] {
            return usize::MAX;
        }
        let mut cycles = usize::MAX;
        if let Some(iv) = &model.arms[a].intervention {
            if !path.offered && iv.enrol_states[s] {
                // The next age at which this child would be offered the intervention.
                if let Some(x) = next_offer(iv, start_age, age) {
                    cycles = cycles.min((x - age) as usize);
                }
            }
            if let Some(k) = path.enrolled_at {
                let d = t - k;
                for e in iv.effects.iter().filter(|e| e.from == s) {
                    cycles = cycles.min(if e.drop_off > 0.0 {
                        1
                    } else if (d as f64) < e.duration {
                        // Full strength up to the first whole cycle at or past its duration.
                        let end = e.duration.ceil();
                        if end >= usize::MAX as f64 {
                            usize::MAX
                        } else {
                            end as usize - d
                        }
                    } else if e.half_life.is_some() {
                        1
                    } else {
                        usize::MAX
                    });
                }
            }
        }
        for h in model.history.iter().filter(|h| h.effect.from == s) {
            if let HistoryCondition::MinYearsInState(k) = h.condition
                && path.years_in_state < k
            {
                cycles = cycles.min((k - path.years_in_state) as usize);
            }
        }
        cycles
    }

    /// Arm `a`'s row in cycle `t` (age index `at`), computed and kept if changed.
    fn row(&mut self, a: usize, t: usize, at: usize) -> Result<Row, EngineError> {
        let model = self.shared.model;
        let path = self.paths[a];
        let s = path.state;
        let effects = self.effects(a);
        let changed_by_effects = path.enrolled_at.is_some() && effects.iter().any(|e| e.from == s);
        let mut rules = 0u64;
        for (i, h) in model.history.iter().enumerate() {
            if h.effect.from == s && holds(h.condition, path.ever, path.years_in_state) {
                rules |= 1 << i.min(63);
            }
        }
        if !changed_by_effects && rules == 0 {
            return Ok(self.shared.plan.table(at, s));
        }
        let key = self.key(a, s, at, t, rules);
        if let (Some(k), Some((last, slot))) = (key, self.last[a])
            && k == last
        {
            return Ok(Row::Changed(slot));
        }
        let slot = match key.and_then(|k| self.known.get(&k)) {
            Some(&slot) => {
                self.last[a] = key.map(|k| (k, slot));
                return Ok(Row::Changed(slot));
            }
            None if key.is_some() => self.store.len() / (2 * model.n_states()),
            None => a,
        };
        let row = self.changed_row(a, t, at)?;
        let width = 2 * model.n_states();
        if slot * width == self.store.len() {
            self.store.extend_from_slice(&row);
            self.store_inv_ln_stay.push(1.0 / row[s].ln());
        } else {
            self.store[slot * width..(slot + 1) * width].copy_from_slice(&row);
            self.store_inv_ln_stay[slot] = 1.0 / row[s].ln();
        }
        if let Some(k) = key {
            self.known.insert(k, slot);
            self.last[a] = Some((k, slot));
        }
        Ok(Row::Changed(slot))
    }

    /// The key a changed row is kept under, or `None` when the arm has too
    /// many rules or effects for the codes (such rows are computed each time).
    fn key(&self, a: usize, s: usize, at: usize, t: usize, rules: u64) -> Option<Key> {
        let model = self.shared.model;
        if model.history.len() > 64 || self.effects(a).len() > 62 {
            return None;
        }
        let phase = self.paths[a]
            .enrolled_at
            .map_or(0, |k| phase(self.effects(a), s, t - k));
        Some((a, s, self.shared.plan.segment[at], phase, rules))
    }

    fn effects(&self, a: usize) -> &'a [EffectModel] {
        match &self.shared.model.arms[a].intervention {
            Some(iv) => &iv.effects,
            None => &[],
        }
    }

    /// Arm `a`'s row out of its state with effects and history rules
    /// applied, followed by its cumulative sums (as the step kernel builds it).
    fn changed_row(&self, a: usize, t: usize, at: usize) -> Result<Vec<f64>, EngineError> {
        let model = self.shared.model;
        let n = model.n_states();
        let path = &self.paths[a];
        let s = path.state;
        let mut row = vec![0.0; 2 * n];
        row[..n].copy_from_slice(self.probs(self.shared.plan.table(at, s)));
        let error = |e: &EffectModel, sum: f64| EngineError::RowAboveOne {
            path: e.path.clone(),
            state: s,
            age: model.start_age + at as u32,
            arm: model.arms[a].id.clone(),
            sum,
        };
        for h in model
            .history
            .iter()
            .filter(|h| h.effect.from == s && holds(h.condition, path.ever, path.years_in_state))
        {
            apply_effects(&mut row[..n], s, std::slice::from_ref(&h.effect), 0.0, 1.0).map_err(|(e, x)| error(e, x))?;
        }
        if let Some(k) = path.enrolled_at {
            apply_effects(&mut row[..n], s, self.effects(a), (t - k) as f64, 1.0).map_err(|(e, x)| error(e, x))?;
        }
        let mut acc = 0.0;
        for j in 0..n {
            acc += row[j];
            row[n + j] = acc;
        }
        Ok(row)
    }

    #[inline]
    fn probs(&self, row: Row) -> &[f64] {
        let n = self.shared.plan.n_states;
        match row {
            Row::Plan(i) => &self.shared.plan.rows[2 * n * i..2 * n * i + n],
            Row::Changed(i) => &self.store[2 * n * i..2 * n * i + n],
        }
    }

    #[inline]
    fn cumulative(&self, row: Row) -> &[f64] {
        let n = self.shared.plan.n_states;
        match row {
            Row::Plan(i) => &self.shared.plan.rows[2 * n * i + n..2 * n * (i + 1)],
            Row::Changed(i) => &self.store[2 * n * i + n..2 * n * (i + 1)],
        }
    }

    /// The joint position of `arms`: worked out at once when every arm
    /// is in the first arm's state, else looked up or worked out and kept.
    #[inline(always)]
    fn joint(&mut self, arms: Range<usize>) -> Joint {
        let first = arms.start;
        let s0 = self.paths[first].state;
        let n = self.shared.plan.n_states;
        let stays = |row: Row| match row {
            Row::Plan(i) => (self.shared.plan.rows[2 * n * i + s0], self.shared.plan.inv_ln_stay[i]),
            Row::Changed(i) => (self.store[2 * n * i + s0], self.store_inv_ln_stay[i]),
        };
        // Every arm stays where the smallest stay probability does, with its `1 / ln`.
        let (mut c, mut inv_ln_c) = stays(self.rows[first]);
        let mut same = true;
        for a in arms.clone().skip(1) {
            let path = &self.paths[a];
            if path.done {
                continue;
            }
            if path.state != s0 {
                same = false;
                break;
            }
            let (c_a, inv_a) = stays(self.rows[a]);
            if c_a < c {
                (c, inv_ln_c) = (c_a, inv_a);
            }
        }
        if same {
            // Every arm stays where its row and the first arm's both stay.
            let low = if s0 == 0 {
                0.0
            } else {
                self.cumulative(self.rows[first])[s0 - 1]
            };
            return Joint { low, c, inv_ln_c };
        }
        let key = self.joint_key(arms.clone());
        if let Some(j) = key.and_then(|k| self.joints.get(&k)) {
            return *j;
        }
        let (low, high) = self.all_stay(arms);
        let c = (high - low).max(0.0);
        let joint = Joint {
            low,
            c,
            inv_ln_c: 1.0 / c.ln(),
        };
        if let Some(k) = key {
            self.joints.insert(k, joint);
        }
        joint
    }

    /// The key of a joint position: each arm's row (which implies its
    /// state) in 32 bits, for at most four arms; `None` when they do not
    /// fit or a row is not kept (such positions are worked out each time).
    fn joint_key(&self, arms: Range<usize>) -> Option<u128> {
        if arms.len() > 4 {
            return None;
        }
        let first = arms.start;
        let mut key = 0u128;
        for a in arms {
            let (tag, i) = match self.rows[a] {
                // An absorbed arm other than the first does not take part.
                _ if a != first && self.paths[a].done => (0, 0),
                Row::Plan(i) => (1, i),
                Row::Changed(i) if i >= self.paths.len() => (2, i),
                Row::Changed(_) => return None,
            };
            let i = u32::try_from(i).ok().filter(|&i| i < 1 << 30)?;
            key = key << 32 | u128::from(tag << 30 | i);
        }
        Some(key)
    }

    /// The interval of random numbers on which every arm stays put, under
    /// the coupling with the first arm's row (empty when `high ≤ low`).
    fn all_stay(&self, arms: Range<usize>) -> (f64, f64) {
        let first = arms.start;
        let s0 = self.paths[first].state;
        let p = self.probs(self.rows[first]);
        let start = if s0 == 0 {
            0.0
        } else {
            self.cumulative(self.rows[first])[s0 - 1]
        };
        let (mut low, mut high) = (start, start + p[s0]);
        for a in arms.skip(1).filter(|&a| !self.paths[a].done) {
            let s = self.paths[a].state;
            let q = self.probs(self.rows[a]);
            let common = p[s0].min(q[s0]);
            if s == s0 {
                high = high.min(start + common);
                continue;
            }
            // Arm `a` stays where the remainder of the first arm's segment
            // (past `common`) meets the excess of `q` over `p` in state `s`.
            let deficit_before: f64 = (0..s0).map(|j| p[j] - p[j].min(q[j])).sum();
            let excess = |k: usize| (q[k] - p[k].min(q[k])).max(0.0);
            let excess_before: f64 = (0..s).map(excess).sum();
            let base = start + common;
            low = low.max(base + (excess_before - deficit_before).max(0.0));
            high = high.min(base + (excess_before + excess(s) - deficit_before).min(p[s0] - common));
        }
        (low, high)
    }

    /// Books `cycles` cycles from `t` in which every arm stays where it is.
    fn stay(&mut self, arms: Range<usize>, t: usize, cycles: usize, batch: &mut Batch) {
        for a in arms {
            stay_arm(self.shared, a, t, cycles, &mut self.paths[a], &mut batch.counts[a]);
        }
    }
}

/// The number of cycles, at most `stretch`, before the first in which not
/// every arm stays, each arm staying in a cycle with probability `c`
/// (`inv_ln_c` is `1 / ln c`): `P(wait ≥ k) = c^k`, drawn with one number by inversion.
fn wait(c: f64, inv_ln_c: f64, stretch: usize, stream: &mut Stream) -> usize {
    if c >= 1.0 {
        return stretch;
    }
    if c <= 0.0 {
        return 0;
    }
    // `1 − u` is in (0, 1]: P(wait ≥ k) = P(ln(1 − u) ≤ k·ln c) = c^k.
    wait_of(1.0 - rng::uniform(stream), inv_ln_c, stretch)
}

/// The wait of `x = 1 − u`: `⌊ln x · inv_ln_c⌋`, at most `stretch`.
#[inline]
fn wait_of(x: f64, inv_ln_c: f64, stretch: usize) -> usize {
    let k = x.ln() * inv_ln_c;
    if k >= stretch as f64 { stretch } else { k as usize }
}

/// The phase of the effects out of state `s`, `d` cycles after enrolment:
/// which of them are past their full-strength years, or — once any of them
/// changes every cycle (fading, drop-off) — `d` itself.
fn phase(effects: &[EffectModel], s: usize, d: usize) -> u64 {
    let mut past = 0u64;
    for (i, e) in effects.iter().enumerate().filter(|(_, e)| e.from == s) {
        let over = d as f64 >= e.duration;
        if e.drop_off > 0.0 || (over && e.half_life.is_some()) {
            return 1 << 63 | d as u64;
        }
        if over {
            past |= 1 << i;
        }
    }
    past
}

/// The first age after `age` at which a child of a group starting at
/// `start_age` is offered the intervention, if any.
fn next_offer(iv: &InterventionModel, start_age: u32, age: u32) -> Option<u32> {
    let next = match iv.enrol_ages {
        Some((from, to)) => (age + 1).max(from).min(to),
        None => start_age,
    };
    (next > age && iv.enrols_at(start_age, next)).then_some(next)
}

#[cfg(test)]
mod tests {
    use super::super::{MicrosimOptions, Moves, group_bounds, simulate_batch};
    use super::*;
    use crate::Scenario;
    use crate::economics::{Frame, valuation};
    use crate::model::Model;

    const PEER_MODEL: &str = include_str!("../../../tests/scenarios/peer_model.toml");

    fn peer_with(changes: &[(&str, &str)]) -> Scenario {
        let mut text = PEER_MODEL.to_owned();
        for (from, to) in changes {
            assert!(text.contains(from), "`{from}` not in the peer model");
            text = text.replace(from, to);
        }
        Scenario::from_toml_str(&text).unwrap()
    }

    /// What `children` children of `scenario` add up to in the event
    /// kernel, with settled children walked by position or not: per arm,
    /// every count (occupancy added up from its spans), then the bits of
    /// each child's cost.
    fn walked(scenario: &Scenario, children: u64, crn: bool, by_position: bool) -> Vec<Vec<u64>> {
        let model = Model::compile_lean(scenario, &scenario.base_values()).unwrap();
        let val = valuation(&Frame::new(scenario, scenario.perspective()), &model);
        let shared = Shared {
            model: &model,
            valuation: &val,
            plan: Plan::new(&model, &val),
        };
        let options = MicrosimOptions {
            seed: 11,
            draw: 0,
            children,
            common_random_numbers: crn,
        };
        let groups = group_bounds(&model, children);
        let mut walker = Walker::new(&shared);
        if !by_position {
            (walker.positions.singles, walker.positions.pairs, walker.positions.len) = (false, None, 0);
        }
        let mut batch = Batch::new(model.arms.len(), model.n_states(), model.n_cycles());
        let mut costs = vec![Vec::new(); model.arms.len()];
        let mut first = 0;
        while first < children {
            let last = (first + 1000).min(children);
            simulate_batch(
                &shared,
                &groups,
                first..last,
                options,
                Moves::Events(&mut walker),
                &mut batch,
            )
            .unwrap();
            for (all, batch) in costs.iter_mut().zip(&batch.costs) {
                all.extend(batch.iter().map(|&(_, x)| x.to_bits()));
            }
            first = last;
        }
        let mut out = Vec::new();
        for (counts, costs) in batch.counts.iter().zip(costs) {
            let mut occupancy = counts.occupancy.clone();
            for s in 0..counts.n_states {
                let mut running = 0;
                for t in 0..=counts.n_cycles {
                    running += counts.spans[counts.delta_at(s, t)];
                    occupancy[counts.at(s, t)] += running.unsigned_abs();
                }
            }
            let pay = [&counts.entries, &counts.once, &counts.pay_start, &counts.pay_end];
            occupancy.extend(pay.into_iter().flatten());
            occupancy.push(counts.participants);
            out.push(occupancy);
            out.push(costs);
        }
        out
    }

    /// The walk of settled children by joint position (with its tables of
    /// waits and moves) gives the same numbers as the walk of unsettled
    /// children, bit for bit.
    #[test]
    fn settled_walk_gives_the_same_numbers() {
        let surely_stays = [(
            "to = [\"placed\", \"neet\"]\nrelative_risk = \"$rr\"",
            "to = [\"on_track\", \"placed\", \"neet\", \"dead\"]\nrelative_risk = 0.0",
        )];
        let paid_years = [
            ("uptake = 1.0", "uptake = 0.6"),
            (
                "costs = { public = 60_000 }",
                "costs = { public = 60_000 }\nentry_costs = { public = 40_000 }",
            ),
            (
                "participant_costs = { once = { public = 8_000 } }",
                "participant_costs = { once = { public = 8_000 }, per_year = { public = 2_000 }, years = 3 }",
            ),
        ];
        let counting = [("cycle_counting = \"beginning\"", "cycle_counting = \"life_table\"")];
        let cases = [
            ("peer", peer_with(&[]), true),
            ("independent streams", peer_with(&[]), false),
            ("surely stays", peer_with(&surely_stays), true),
            ("paid years", peer_with(&paid_years), true),
            ("life table", peer_with(&counting), true),
            ("default", Scenario::default_scenario().unwrap(), true),
        ];
        for (name, scenario, crn) in &cases {
            let settled = walked(scenario, 20_000, *crn, true);
            let unsettled = walked(scenario, 20_000, *crn, false);
            assert!(settled == unsettled, "{name}: the settled walk differs");
        }
    }
}
