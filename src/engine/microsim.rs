//! The microsimulation engine: every child simulated one by one.
//!
//! A child's random numbers come from its own stream ([`super::rng`]), the
//! same in every arm: the first number picks the start state, the second
//! decides participation, and the number at position `2 + t` moves the
//! child in cycle `t`, by inverting the cumulative row in state order. So
//! arms differ only where the intervention makes them differ.
//!
//! Children are simulated in batches of fixed size; batches run in
//! parallel and are merged in batch order, and everything counted per cycle
//! is an integer, so the result is the same on any number of threads.
//! Batch `b` is added to replicate `b mod R` (at most [`REPLICATES`]); the
//! spread of the figures between replicates gives their Monte Carlo
//! standard error. Nothing is kept per child: memory does not grow with the
//! number of children.

use rayon::prelude::*;

use super::rng::{self, Stream};
use super::{ArmStreams, EngineError};
use crate::model::{Arm, GroupModel, Model, apply_effects};
use crate::scenario::{CycleCounting, HistoryCondition};
use crate::stats::Histogram;

/// Children per batch: fixed, so results never depend on the thread count.
pub const BATCH: u64 = 256;
/// Most replicates kept for standard errors (batch means).
pub const REPLICATES: u64 = 64;
/// Batches in flight at once: bounds memory whatever the number of children.
const ROUND: u64 = 64;

/// What a child's path is worth, prepared by the economics layer (which
/// owns discounting and the perspective); the engine only adds up.
#[derive(Clone, Debug)]
pub struct Valuation {
    /// Discount factor of each cycle's cost flows.
    pub factors: Vec<f64>,
    /// Perspective cost of a counted cycle in each state.
    pub annual: Vec<f64>,
    /// Perspective cost of entering each state.
    pub entry: Vec<f64>,
    /// Per arm: perspective cost of enrolment, of a paid year, and the child's
    /// share of fixed program costs (charged in cycle 0).
    pub once: Vec<f64>,
    pub yearly: Vec<f64>,
    pub fixed: Vec<f64>,
}

/// Options of a microsimulation run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MicrosimOptions {
    pub seed: u64,
    pub draw: u64,
    pub children: u64,
    /// One stream per child shared by every arm (common random numbers), or one per child and arm.
    pub common_random_numbers: bool,
}

/// The result of [`run`].
#[derive(Clone, Debug)]
pub struct MicrosimOutput {
    /// Per-child expected streams over all children, one per arm.
    pub streams: Vec<ArmStreams>,
    /// The same for each replicate (a fixed subset of batches), with its number of children.
    pub replicates: Vec<(u64, Vec<ArmStreams>)>,
    /// Per arm: lifetime cost per child (perspective, discounted, intervention included).
    pub lifetime_cost: Vec<Histogram>,
    pub children: u64,
}

/// Integer counts of one arm.
#[derive(Clone, Debug)]
struct Counts {
    n_states: usize,
    n_cycles: usize,
    /// At the start of each cycle `0..=n`: state × (n + 1).
    occupancy: Vec<u64>,
    /// Changes in the number of children absorbed for good: +1 from the cycle
    /// they are absorbed, −1 after their group's horizon.
    absorbed: Vec<i64>,
    entries: Vec<u64>,
    once: Vec<u64>,
    /// Participants alive in a paid year, at its start and at its end.
    pay_start: Vec<u64>,
    pay_end: Vec<u64>,
    participants: u64,
}

impl Counts {
    fn new(n_states: usize, n_cycles: usize) -> Self {
        Counts {
            n_states,
            n_cycles,
            occupancy: vec![0; n_states * (n_cycles + 1)],
            absorbed: vec![0; n_states * (n_cycles + 2)],
            entries: vec![0; n_states * n_cycles],
            once: vec![0; n_cycles],
            pay_start: vec![0; n_cycles],
            pay_end: vec![0; n_cycles],
            participants: 0,
        }
    }

    fn merge(&mut self, other: &Counts) {
        let add = |a: &mut Vec<u64>, b: &Vec<u64>| a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
        add(&mut self.occupancy, &other.occupancy);
        self.absorbed.iter_mut().zip(&other.absorbed).for_each(|(x, y)| *x += y);
        add(&mut self.entries, &other.entries);
        add(&mut self.once, &other.once);
        add(&mut self.pay_start, &other.pay_start);
        add(&mut self.pay_end, &other.pay_end);
        self.participants += other.participants;
    }

    #[inline]
    fn at(&self, s: usize, t: usize) -> usize {
        s * (self.n_cycles + 1) + t
    }

    #[inline]
    fn delta_at(&self, s: usize, t: usize) -> usize {
        s * (self.n_cycles + 2) + t
    }

    #[inline]
    fn count_in(&mut self, s: usize, t: usize) {
        let i = self.at(s, t);
        self.occupancy[i] += 1;
    }

    #[inline]
    fn count_entry(&mut self, s: usize, t: usize) {
        self.entries[s * self.n_cycles + t] += 1;
    }

    /// A child in absorbing state `s` from the start of cycle `from` to the end of its horizon `until`.
    fn absorb(&mut self, s: usize, from: usize, until: usize) {
        let (a, b) = (self.delta_at(s, from), self.delta_at(s, until + 1));
        self.absorbed[a] += 1;
        self.absorbed[b] -= 1;
    }
}

struct Batch {
    children: u64,
    counts: Vec<Counts>,
    lifetime_cost: Vec<Histogram>,
}

impl Batch {
    fn new(n_arms: usize, n_states: usize, n_cycles: usize) -> Self {
        Batch {
            children: 0,
            counts: (0..n_arms).map(|_| Counts::new(n_states, n_cycles)).collect(),
            lifetime_cost: vec![Histogram::default(); n_arms],
        }
    }

    fn merge(&mut self, other: &Batch) {
        self.children += other.children;
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            a.merge(b);
        }
        for (a, b) in self.lifetime_cost.iter_mut().zip(&other.lifetime_cost) {
            a.merge(b);
        }
    }
}

/// Rows of the status-quo tables as cumulative sums, per age: `[age][s·S + j]`.
struct Cumulative {
    n_states: usize,
    rows: Vec<Vec<f64>>,
}

impl Cumulative {
    fn new(model: &Model) -> Self {
        let n = model.n_states();
        let rows = model
            .tables
            .iter()
            .map(|m| {
                let mut c = vec![0.0; n * n];
                for s in 0..n {
                    let mut acc = 0.0;
                    for j in 0..n {
                        acc += m[(s, j)];
                        c[s * n + j] = acc;
                    }
                }
                c
            })
            .collect();
        Cumulative { n_states: n, rows }
    }

    #[inline]
    fn row(&self, age_index: usize, s: usize) -> &[f64] {
        &self.rows[age_index][s * self.n_states..(s + 1) * self.n_states]
    }
}

/// First state whose cumulative probability exceeds `u`; `stay` when rounding leaves `u` above them all.
#[inline]
fn invert(u: f64, cumulative: &[f64], stay: usize) -> usize {
    cumulative.iter().position(|&c| u < c).unwrap_or(stay)
}

/// Simulates `options.children` children through every arm of `model`.
///
/// # Errors
///
/// [`EngineError`] when an effect or history rule pushes a row of
/// probabilities above 1.
///
/// `progress`, if given, is called with (batches done, batches in all) after each round.
pub fn run(
    model: &Model,
    valuation: &Valuation,
    options: MicrosimOptions,
    progress: Option<&(dyn Fn(u64, u64) + Sync)>,
) -> Result<MicrosimOutput, EngineError> {
    let n_cycles = model.n_cycles();
    let n_arms = model.arms.len();
    let cumulative = Cumulative::new(model);
    let groups = group_bounds(model, options.children);
    let n_batches = options.children.div_ceil(BATCH);
    let n_replicates = n_batches.clamp(1, REPLICATES);

    let mut replicates: Vec<Batch> = (0..n_replicates)
        .map(|_| Batch::new(n_arms, model.n_states(), n_cycles))
        .collect();
    let mut first = 0;
    while first < n_batches {
        let last = (first + ROUND).min(n_batches);
        let batches: Vec<Result<Batch, EngineError>> = (first..last)
            .into_par_iter()
            .map(|b| {
                let children = b * BATCH..((b + 1) * BATCH).min(options.children);
                simulate_batch(model, &cumulative, valuation, &groups, children, options)
            })
            .collect();
        for (b, batch) in (first..last).zip(batches) {
            replicates[(b % n_replicates) as usize].merge(&batch?);
        }
        first = last;
        if let Some(report) = progress {
            report(first, n_batches);
        }
    }

    let mut total = Batch::new(n_arms, model.n_states(), n_cycles);
    for r in &replicates {
        total.merge(r);
    }
    let streams_of = |b: &Batch| -> Vec<ArmStreams> {
        model
            .arms
            .iter()
            .zip(&b.counts)
            .map(|(arm, counts)| to_streams(model, arm, counts, b.children))
            .collect()
    };
    Ok(MicrosimOutput {
        streams: streams_of(&total),
        replicates: replicates.iter().map(|r| (r.children, streams_of(r))).collect(),
        lifetime_cost: total.lifetime_cost,
        children: options.children,
    })
}

/// Children `[bounds[g], bounds[g+1])` belong to group `g`, in proportion to the group sizes.
fn group_bounds(model: &Model, children: u64) -> Vec<u64> {
    let mut bounds = vec![0];
    let mut cumulative = 0.0;
    for g in &model.groups {
        cumulative += g.weight;
        bounds.push(((cumulative * children as f64).round() as u64).min(children));
    }
    if let Some(last) = bounds.last_mut() {
        *last = children;
    }
    bounds
}

fn simulate_batch(
    model: &Model,
    cumulative: &Cumulative,
    valuation: &Valuation,
    groups: &[u64],
    children: std::ops::Range<u64>,
    options: MicrosimOptions,
) -> Result<Batch, EngineError> {
    let n_arms = model.arms.len();
    let mut batch = Batch::new(n_arms, model.n_states(), model.n_cycles());
    batch.children = children.end - children.start;
    let mut scratch = Scratch::new(model.n_states(), n_arms);
    let ctx = Context {
        model,
        cumulative,
        valuation,
    };
    for child in children {
        let g = groups.partition_point(|&b| b <= child).saturating_sub(1);
        let group = &model.groups[g.min(model.groups.len() - 1)];
        let mut streams: Vec<Stream> = if options.common_random_numbers {
            vec![rng::child_stream(options.seed, options.draw, child, None)]
        } else {
            (0..n_arms as u64)
                .map(|a| rng::child_stream(options.seed, options.draw, child, Some(a)))
                .collect()
        };
        ctx.simulate(group, &mut streams, &mut batch, &mut scratch)?;
    }
    Ok(batch)
}

struct Scratch {
    /// Full probability row of each arm's next move.
    rows: Vec<Vec<f64>>,
    cumulative: Vec<f64>,
    paths: Vec<ArmPath>,
}

impl Scratch {
    fn new(n_states: usize, n_arms: usize) -> Self {
        Scratch {
            rows: vec![vec![0.0; n_states]; n_arms],
            cumulative: vec![0.0; n_states],
            paths: Vec::with_capacity(n_arms),
        }
    }
}

/// Where one child is in one arm.
#[derive(Clone, Copy, Debug)]
struct ArmPath {
    state: usize,
    offered: bool,
    enrolled_at: Option<usize>,
    ever: u64,
    years_in_state: u32,
    care: f64,
    paid: f64,
    /// Absorbed for good, with the rest of the horizon already accounted.
    done: bool,
}

struct Context<'a> {
    model: &'a Model,
    cumulative: &'a Cumulative,
    valuation: &'a Valuation,
}

impl Context<'_> {
    /// Simulates one child through every arm in lockstep and adds it to `batch`.
    ///
    /// With one stream (common random numbers) the status-quo arm moves by
    /// inverting its cumulative row; every other arm moves by the maximal
    /// coupling of its row with the status quo's: the same destination
    /// whenever both rows allow it, so arms part only where the intervention
    /// makes them part, and meet again as soon as they can. With one stream
    /// per arm, each arm inverts its own row with its own numbers.
    fn simulate(
        &self,
        group: &GroupModel,
        streams: &mut [Stream],
        batch: &mut Batch,
        scratch: &mut Scratch,
    ) -> Result<(), EngineError> {
        let (model, val) = (self.model, self.valuation);
        let n = (model.end_age - group.start_age) as usize;
        let age0 = (group.start_age - model.start_age) as usize;
        let n_arms = model.arms.len();
        let shared = streams.len() == 1;
        let stream_of = |a: usize| if shared { 0 } else { a };

        let draws: Vec<(f64, f64)> = streams
            .iter_mut()
            .map(|st| (rng::uniform(st), rng::uniform(st)))
            .collect();
        scratch.paths.clear();
        for a in 0..n_arms {
            let state = pick_start(draws[stream_of(a)].0, group.start.as_slice());
            let paid = val.fixed[a] * val.factors.first().copied().unwrap_or(1.0);
            scratch.paths.push(ArmPath {
                state,
                offered: false,
                enrolled_at: None,
                ever: bit(state),
                years_in_state: 0,
                care: 0.0,
                paid,
                done: false,
            });
        }

        let mut u = vec![0.0; streams.len()];
        let mut next = Vec::with_capacity(n_arms);
        for t in 0..n {
            let age = group.start_age + t as u32;
            let f = val.factors[t];
            for (x, st) in u.iter_mut().zip(streams.iter_mut()) {
                *x = rng::uniform(st);
            }
            for a in 0..n_arms {
                let path = &mut scratch.paths[a];
                if path.done {
                    continue;
                }
                batch.counts[a].count_in(path.state, t);
                if let Some(iv) = &model.arms[a].intervention
                    && !path.offered
                    && iv.enrol_states[path.state]
                    && iv.enrols_at(group.start_age, age)
                {
                    path.offered = true;
                    if draws[stream_of(a)].1 < iv.uptake {
                        path.enrolled_at = Some(t);
                        batch.counts[a].once[t] += 1;
                        batch.counts[a].participants += 1;
                        path.paid += val.once[a] * f;
                    }
                }
            }

            // The status quo's move first: the reference of the coupling.
            let reference = self.fill_row(0, t, age, scratch)?;
            let next0 = self.next_state(0, u[0], age0 + t, reference, scratch);
            // Every arm's destination is found before any arm moves.
            next.clear();
            for a in 0..n_arms {
                next.push(if a == 0 || scratch.paths[a].done {
                    next0
                } else {
                    let modified = self.fill_row(a, t, age, scratch)?;
                    let (s, s0) = (scratch.paths[a].state, scratch.paths[0].state);
                    if !shared {
                        self.next_state(a, u[a], age0 + t, modified, scratch)
                    } else if s == s0 && !modified && !reference {
                        next0
                    } else {
                        self.ensure_row(0, age, scratch);
                        self.ensure_row(a, age, scratch);
                        coupled(u[0], &scratch.rows[0], &scratch.rows[a], s)
                    }
                });
            }
            for (a, &to) in next.iter().enumerate() {
                if !scratch.paths[a].done {
                    self.step(a, t, n, to, &mut batch.counts[a], scratch);
                }
            }
        }
        for a in 0..n_arms {
            let path = scratch.paths[a];
            if !path.done {
                batch.counts[a].count_in(path.state, n);
            }
            batch.lifetime_cost[a].push(path.care + path.paid);
        }
        Ok(())
    }

    /// Writes into `scratch.rows[a]` the row of arm `a` if effects or history
    /// rules change it, and says whether they do.
    fn fill_row(&self, a: usize, t: usize, age: u32, scratch: &mut Scratch) -> Result<bool, EngineError> {
        let model = self.model;
        let path = scratch.paths[a];
        let s = path.state;
        if path.done || model.absorbing[s] {
            return Ok(false);
        }
        let arm = &model.arms[a];
        let effects = match (&arm.intervention, path.enrolled_at) {
            (Some(iv), Some(_)) => iv.effects.as_slice(),
            _ => &[],
        };
        let applies =
            |h: &&crate::model::HistoryModel| h.effect.from == s && holds(h.condition, path.ever, path.years_in_state);
        let history = model.history.iter().any(|h| applies(&h));
        if !history && !effects.iter().any(|e| e.from == s) {
            return Ok(false);
        }
        let row = &mut scratch.rows[a];
        let table = model.table(age);
        for (j, r) in row.iter_mut().enumerate() {
            *r = table[(s, j)];
        }
        let error = |path: &str, sum: f64| EngineError::RowAboveOne {
            path: path.to_owned(),
            state: s,
            age,
            arm: arm.id.clone(),
            sum,
        };
        for h in model.history.iter().filter(applies) {
            apply_effects(row, s, std::slice::from_ref(&h.effect), 0.0, 1.0).map_err(|(e, sum)| error(&e.path, sum))?;
        }
        if let Some(k) = path.enrolled_at {
            apply_effects(row, s, effects, (t - k) as f64, 1.0).map_err(|(e, sum)| error(&e.path, sum))?;
        }
        Ok(true)
    }

    /// Writes the unchanged row of arm `a` into `scratch.rows[a]` (for the coupling).
    fn ensure_row(&self, a: usize, age: u32, scratch: &mut Scratch) {
        let path = scratch.paths[a];
        let s = path.state;
        let modified = self.row_is_modified(a, scratch);
        let row = &mut scratch.rows[a];
        if path.done || self.model.absorbing[s] {
            row.iter_mut()
                .enumerate()
                .for_each(|(j, r)| *r = if j == s { 1.0 } else { 0.0 });
        } else if !modified {
            let table = self.model.table(age);
            for (j, r) in row.iter_mut().enumerate() {
                *r = table[(s, j)];
            }
        }
    }

    fn row_is_modified(&self, a: usize, scratch: &Scratch) -> bool {
        let path = scratch.paths[a];
        let s = path.state;
        let by_effect = match (&self.model.arms[a].intervention, path.enrolled_at) {
            (Some(iv), Some(_)) => iv.effects.iter().any(|e| e.from == s),
            _ => false,
        };
        by_effect
            || self
                .model
                .history
                .iter()
                .any(|h| h.effect.from == s && holds(h.condition, path.ever, path.years_in_state))
    }

    /// The next state of arm `a` by inverting its own row.
    fn next_state(&self, a: usize, u: f64, age_index: usize, modified: bool, scratch: &mut Scratch) -> usize {
        let path = scratch.paths[a];
        let s = path.state;
        if path.done || self.model.absorbing[s] {
            return s;
        }
        if !modified {
            return invert(u, self.cumulative.row(age_index, s), s);
        }
        let mut acc = 0.0;
        for (c, r) in scratch.cumulative.iter_mut().zip(&scratch.rows[a]) {
            acc += r;
            *c = acc;
        }
        invert(u, &scratch.cumulative, s)
    }

    /// Books arm `a`'s move to `next` in cycle `t` of `n`.
    fn step(&self, a: usize, t: usize, n: usize, next: usize, counts: &mut Counts, scratch: &mut Scratch) {
        let (model, val) = (self.model, self.valuation);
        let f = val.factors[t];
        let path = &mut scratch.paths[a];
        let s = path.state;
        if next != s {
            counts.count_entry(next, t);
            path.care += val.entry[next] * f;
        }
        let counted = |x: f64, y: f64| match model.counting {
            CycleCounting::Beginning => x,
            CycleCounting::End => y,
            CycleCounting::LifeTable => 0.5 * (x + y),
        };
        path.care += counted(val.annual[s], val.annual[next]) * f;
        if let (Some(k), Some(iv)) = (path.enrolled_at, &model.arms[a].intervention)
            && t - k < iv.cost_years as usize
        {
            let alive = |x: usize| if model.absorbing[x] { 0.0 } else { 1.0 };
            counts.pay_start[t] += u64::from(!model.absorbing[s]);
            counts.pay_end[t] += u64::from(!model.absorbing[next]);
            path.paid += val.yearly[a] * counted(alive(s), alive(next)) * f;
        }
        path.years_in_state = if next == s { path.years_in_state + 1 } else { 0 };
        path.ever |= bit(next);
        path.state = next;
        if model.absorbing[next] && t + 1 < n {
            // Absorbed for good: the rest of the horizon needs no random numbers.
            counts.absorb(next, t + 1, n);
            path.care += val.annual[next] * val.factors[t + 1..n].iter().sum::<f64>();
            path.done = true;
        }
    }
}

/// The destination of `u` under the maximal coupling of row `q` with the
/// reference row `p`: `u` falls in `p`'s segment `j`; its first
/// `min(p_j, q_j)` goes to `j`, and what `q` moves away from `p` fills the
/// remainders of the segments in state order. With `q = p` this is plain
/// inversion of `p`.
fn coupled(u: f64, p: &[f64], q: &[f64], fallback: usize) -> usize {
    let mut start = 0.0;
    let mut deficit_before = 0.0;
    for j in 0..p.len() {
        let common = p[j].min(q[j]);
        if u < start + p[j] {
            let offset = u - start;
            if offset < common {
                return j;
            }
            let position = deficit_before + (offset - common);
            let mut acc = 0.0;
            let mut last = fallback;
            for k in 0..q.len() {
                let excess = q[k] - p[k].min(q[k]);
                if excess > 0.0 {
                    acc += excess;
                    last = k;
                    if position < acc {
                        return k;
                    }
                }
            }
            return last;
        }
        deficit_before += p[j] - common;
        start += p[j];
    }
    fallback
}

/// The start state of a child: the first state whose cumulative share exceeds `u`.
fn pick_start(u: f64, shares: &[f64]) -> usize {
    let mut acc = 0.0;
    let mut last = 0;
    for (s, &p) in shares.iter().enumerate() {
        if p > 0.0 {
            acc += p;
            last = s;
            if u < acc {
                return s;
            }
        }
    }
    last
}

/// The bit remembering a state in a child's past (states beyond 63 share the last bit).
fn bit(s: usize) -> u64 {
    1u64 << s.min(63)
}

#[inline]
fn holds(condition: HistoryCondition, ever: u64, years_in_state: u32) -> bool {
    match condition {
        HistoryCondition::EverIn(x) => ever & bit(x) != 0,
        HistoryCondition::MinYearsInState(k) => years_in_state >= k,
    }
}

/// Turns integer counts into per-child expected streams (the cohort engine's shape).
fn to_streams(model: &Model, arm: &Arm, counts: &Counts, children: u64) -> ArmStreams {
    let n = counts.n_cycles;
    let per_child = 1.0 / children.max(1) as f64;
    let mut out = ArmStreams::zeros(arm, model);
    // Children absorbed early are counted in their absorbing state from then on.
    let mut occupancy = counts.occupancy.clone();
    for s in 0..counts.n_states {
        let mut running: i64 = 0;
        for t in 0..=n {
            running += counts.absorbed[counts.delta_at(s, t)];
            occupancy[counts.at(s, t)] += running.unsigned_abs();
        }
    }
    let x = |s: usize, t: usize| occupancy[counts.at(s, t)] as f64;
    for t in 0..n {
        for s in 0..counts.n_states {
            let counted = match model.counting {
                CycleCounting::Beginning => x(s, t),
                CycleCounting::End => x(s, t + 1),
                CycleCounting::LifeTable => 0.5 * (x(s, t) + x(s, t + 1)),
            } * per_child;
            out.occupancy[(s, t)] = counted;
            out.entries[(s, t)] = counts.entries[s * n + t] as f64 * per_child;
        }
    }
    let care = model.state_costs.tr_mul(&out.occupancy) + model.entry_costs.tr_mul(&out.entries);
    out.care = care;
    out.outcomes = model.outcome_weights.tr_mul(&out.occupancy);
    if let Some(iv) = &arm.intervention {
        for t in 0..n {
            let (start, end) = (counts.pay_start[t] as f64, counts.pay_end[t] as f64);
            let paying = match model.counting {
                CycleCounting::Beginning => start,
                CycleCounting::End => end,
                CycleCounting::LifeTable => 0.5 * (start + end),
            } * per_child;
            let enrolled = counts.once[t] as f64 * per_child;
            for p in 0..model.n_payers() {
                out.intervention[(p, t)] = enrolled * iv.once_costs[p] + paying * iv.yearly_costs[p];
            }
        }
    }
    out.participants = counts.participants as f64 * per_child;
    out
}
