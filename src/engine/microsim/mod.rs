//! The microsimulation engine: every child simulated one by one.
//!
//! A child's random numbers come from its own stream ([`super::rng`]), the
//! same in every arm: the first number picks the start state, the second
//! decides participation, and the rest move the child. The arms move in
//! lockstep: the status quo by inverting its cumulative row, every other
//! arm by the maximal coupling of its row with the status quo's, so arms
//! part only where the intervention makes them part and meet again as soon
//! as they can.
//!
//! Two kernels move the children, with the same joint law of the arms'
//! paths ([`Kernel`]): the event kernel ([`events`], the default) draws the
//! wait until the next move in one go, so its work grows with the number of
//! moves; the step kernel ([`steps`]) takes one number per cycle and is the
//! reference the event kernel is tested against.
//!
//! Children are simulated in batches of fixed size; batches run in
//! parallel, everything counted per cycle is an integer (so its sum does not
//! depend on the order of the batches), and the children's costs are added
//! up in batch order, so the result is the same on any number of threads.
//! Batch `b` is added to replicate `b mod R` (at most [`REPLICATES`]); the
//! spread of the figures between replicates gives their Monte Carlo
//! standard error. Nothing is kept per child: memory does not grow with the
//! number of children.

use std::sync::Mutex;

use rayon::prelude::*;

pub mod events;
pub mod steps;

use super::rng::{self, Stream};
use super::{ArmStreams, EngineError};
use crate::model::{Arm, Model};
use crate::scenario::{CycleCounting, HistoryCondition};
use crate::stats::Histogram;

/// Children per batch: fixed, so results never depend on the thread count.
pub const BATCH: u64 = 256;
/// Most replicates kept for standard errors (batch means).
pub const REPLICATES: u64 = 64;
/// Batches in flight at once: bounds memory whatever the number of children.
/// As many as replicates, so that the batches of a round (which starts at a
/// multiple of it) all go to different replicates and count straight into them.
const ROUND: u64 = REPLICATES;

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
    /// Per arm: the years from enrolment whose yearly costs are booked
    /// ([`InterventionModel::paid_years`](crate::model::InterventionModel::paid_years)), 0 without an intervention.
    pub paid_years: Vec<usize>,
}

/// How children are moved through the cycles.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Kernel {
    /// From move to move: within a stretch of cycles where every arm's row
    /// of probabilities stays the same, the time to the next move is drawn
    /// in one go (see [`events`]). The work grows with the number of moves.
    #[default]
    Events,
    /// Cycle by cycle: one random number per child and cycle (see [`steps`]).
    Steps,
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
    /// Occupancy booked a span at a time, as differences: +1 at a span's
    /// first cycle, −1 after its last (state × (n + 2)).
    spans: Vec<i64>,
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
            spans: vec![0; n_states * (n_cycles + 2)],
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
        self.spans.iter_mut().zip(&other.spans).for_each(|(x, y)| *x += y);
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
        Counts::spans_row(s, self.n_cycles) + t
    }

    #[inline]
    fn count_in(&mut self, s: usize, t: usize) {
        let i = self.at(s, t);
        self.occupancy[i] += 1;
    }

    #[inline]
    fn count_entry(&mut self, s: usize, t: usize) {
        self.entries[Counts::entries_row(s, self.n_cycles) + t] += 1;
    }

    /// A child in state `s` at the start of each cycle `from..=until`.
    #[inline]
    fn occupy(&mut self, s: usize, from: usize, until: usize) {
        self.span(Counts::spans_row(s, self.n_cycles), from, until);
    }

    /// [`Counts::occupy`] with the state's row of `spans` found already.
    #[inline(always)]
    fn span(&mut self, row: usize, from: usize, until: usize) {
        self.spans[row + from] += 1;
        self.spans[row + until + 1] -= 1;
    }

    /// Where the spans of state `s` start in `spans`, with `n_cycles` cycles.
    fn spans_row(s: usize, n_cycles: usize) -> usize {
        s * (n_cycles + 2)
    }

    /// Where the entries into state `s` start in `entries`, with `n_cycles` cycles.
    fn entries_row(s: usize, n_cycles: usize) -> usize {
        s * n_cycles
    }
}

/// What batches of children add up to: a replicate, or the whole run.
///
/// A batch counts straight into its replicate: the counts are integers,
/// so their sum does not depend on the order they are added in.
struct Batch {
    children: u64,
    counts: Vec<Counts>,
    /// Per arm: each child's lifetime cost with its histogram bin, for the
    /// batch being simulated, added to the run's histogram in batch and
    /// child order (floating-point sums depend on the order). The buffers
    /// are reused from one batch to the next.
    costs: Vec<Vec<(usize, f64)>>,
}

impl Batch {
    /// An empty sum of batches.
    fn new(n_arms: usize, n_states: usize, n_cycles: usize) -> Self {
        Batch {
            children: 0,
            counts: (0..n_arms).map(|_| Counts::new(n_states, n_cycles)).collect(),
            costs: vec![Vec::new(); n_arms],
        }
    }

    /// Books a child's lifetime cost in arm `a`; its bin is found with
    /// the rest of the batch's ([`Batch::bin`]).
    #[inline]
    fn cost(&mut self, a: usize, x: f64) {
        self.costs[a].push((0, x));
    }

    /// Finds the histogram bins of the batch's costs, all in one pass
    /// after the batch: the table of bin edges then stays in cache, where
    /// between two children's walks it would not.
    fn bin(&mut self) {
        for costs in &mut self.costs {
            for (bin, x) in costs.iter_mut() {
                *bin = Histogram::bin_of(*x);
            }
        }
    }

    fn merge(&mut self, other: &Batch) {
        self.children += other.children;
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            a.merge(b);
        }
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
    run_with(model, valuation, options, Kernel::Events, progress)
}

/// [`run`] with the kernel chosen: both give the same joint law of the
/// arms' paths (so the same expectations and the same variance), not the
/// same paths.
///
/// # Errors
///
/// As [`run`].
pub fn run_with(
    model: &Model,
    valuation: &Valuation,
    options: MicrosimOptions,
    kernel: Kernel,
    progress: Option<&(dyn Fn(u64, u64) + Sync)>,
) -> Result<MicrosimOutput, EngineError> {
    let n_cycles = model.n_cycles();
    let n_arms = model.arms.len();
    let shared = Shared {
        model,
        valuation,
        plan: events::Plan::new(model, valuation),
    };
    let groups = group_bounds(model, options.children);
    let n_batches = options.children.div_ceil(BATCH);
    let n_replicates = n_batches.clamp(1, REPLICATES);

    let mut replicates: Vec<Batch> = (0..n_replicates)
        .map(|_| Batch::new(n_arms, model.n_states(), n_cycles))
        .collect();
    let mut lifetime_cost = vec![Histogram::default(); n_arms];
    // Kernels keep what they work out (pure functions of the draw) from batch
    // to batch, and from round to round in this pool.
    let pool = Mutex::new(Vec::new());
    let mut first = 0;
    while first < n_batches {
        let last = (first + ROUND).min(n_batches);
        // Batch `b` goes to replicate `b mod R`: the round starts at a
        // multiple of `R` (or holds every batch, when there are fewer than
        // `R`), so replicate `b − first`, a different one for each batch.
        let round = &mut replicates[..(last - first) as usize];
        let done: Vec<Result<(), EngineError>> = round
            .par_iter_mut()
            .enumerate()
            .map_init(
                || Kernels::take(&pool, &shared),
                |kernels, (r, replicate)| {
                    let (stepper, walker) = kernels.both();
                    let b = first + r as u64;
                    let children = b * BATCH..((b + 1) * BATCH).min(options.children);
                    let kernel = match kernel {
                        Kernel::Steps => Moves::Steps(stepper),
                        Kernel::Events => Moves::Events(walker),
                    };
                    simulate_batch(&shared, &groups, children, options, kernel, replicate)
                },
            )
            .collect();
        for (result, replicate) in done.into_iter().zip(&replicates) {
            result?;
            for (histogram, costs) in lifetime_cost.iter_mut().zip(&replicate.costs) {
                costs.iter().for_each(|&(bin, x)| histogram.push_binned(bin, x));
            }
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
    // Each replicate's streams on their own: in parallel, in the replicates' order.
    let (streams, replicates) = rayon::join(
        || streams_of(&total),
        || replicates.par_iter().map(|r| (r.children, streams_of(r))).collect(),
    );
    Ok(MicrosimOutput {
        streams,
        replicates,
        lifetime_cost,
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

/// What every batch of a run reads: the model, its valuation and the
/// tables prepared for the kernels.
struct Shared<'a> {
    model: &'a Model,
    valuation: &'a Valuation,
    plan: events::Plan,
}

/// A stepper and a walker taken from a pool of a run, and put back into
/// it when dropped, so that what they work out serves the later rounds.
struct Kernels<'p, 'a> {
    both: Option<(steps::Stepper<'a>, events::Walker<'a>)>,
    pool: &'p Mutex<Vec<(steps::Stepper<'a>, events::Walker<'a>)>>,
}

impl<'p, 'a> Kernels<'p, 'a> {
    /// Kernels from `pool`, or new ones for `shared` when it has none.
    fn take(pool: &'p Mutex<Vec<(steps::Stepper<'a>, events::Walker<'a>)>>, shared: &'a Shared<'a>) -> Self {
        let kept = pool.lock().ok().and_then(|mut kept| kept.pop());
        Kernels {
            both: Some(kept.unwrap_or_else(|| (steps::Stepper::new(shared), events::Walker::new(shared)))),
            pool,
        }
    }

    fn both(&mut self) -> (&mut steps::Stepper<'a>, &mut events::Walker<'a>) {
        let (stepper, walker) = self.both.as_mut().expect("kernels are put back only when dropped");
        (stepper, walker)
    }
}

impl Drop for Kernels<'_, '_> {
    fn drop(&mut self) {
        if let (Some(both), Ok(mut pool)) = (self.both.take(), self.pool.lock()) {
            pool.push(both);
        }
    }
}

/// The kernel a batch is simulated with.
enum Moves<'k, 'a> {
    Steps(&'k mut steps::Stepper<'a>),
    Events(&'k mut events::Walker<'a>),
}

/// Simulates the batch of children `children` and adds it to `batch`
/// (its replicate), whose costs it leaves holding this batch's children's.
fn simulate_batch(
    shared: &Shared,
    groups: &[u64],
    children: std::ops::Range<u64>,
    options: MicrosimOptions,
    mut kernel: Moves,
    batch: &mut Batch,
) -> Result<(), EngineError> {
    let model = shared.model;
    let n_arms = model.arms.len();
    batch.children += children.end - children.start;
    for costs in &mut batch.costs {
        costs.clear();
    }
    let mut streams: Vec<Stream> = Vec::with_capacity(n_arms);
    for child in children {
        let g = groups.partition_point(|&b| b <= child).saturating_sub(1);
        let group = &model.groups[g.min(model.groups.len() - 1)];
        streams.clear();
        if options.common_random_numbers {
            streams.push(rng::child_stream(options.seed, options.draw, child, None));
        } else {
            streams.extend((0..n_arms as u64).map(|a| rng::child_stream(options.seed, options.draw, child, Some(a))));
        }
        match &mut kernel {
            Moves::Steps(stepper) => stepper.simulate(group, &mut streams, batch)?,
            Moves::Events(walker) => walker.simulate(group, &mut streams, batch)?,
        }
    }
    batch.bin();
    Ok(())
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
    /// The cycle from whose start the child has been in `state`.
    since: usize,
}

impl ArmPath {
    /// A copy made field by field: read just after its fields were written
    /// one by one, a copy in wider pieces would wait for every write to land.
    #[inline(always)]
    fn fields(&self) -> Self {
        ArmPath {
            state: self.state,
            offered: self.offered,
            enrolled_at: self.enrolled_at,
            ever: self.ever,
            years_in_state: self.years_in_state,
            care: self.care,
            paid: self.paid,
            done: self.done,
            since: self.since,
        }
    }

    /// Arm `a`'s child at the start of its horizon in `state`, charged
    /// its share of the program's fixed costs.
    fn start(val: &Valuation, a: usize, state: usize) -> Self {
        ArmPath {
            state,
            offered: false,
            enrolled_at: None,
            ever: bit(state),
            years_in_state: 0,
            care: 0.0,
            paid: val.fixed[a] * val.factors.first().copied().unwrap_or(1.0),
            done: false,
            since: 0,
        }
    }
}

/// Books the move of arm `a`'s child to `next` in cycle `t` of its `n`:
/// entry, the cycle's cost, the intervention's paid year, and — when `next`
/// absorbs for good — the rest of the horizon at once.
#[inline(always)]
fn book_move(
    model: &Model,
    val: &Valuation,
    a: usize,
    (t, n): (usize, usize),
    next: usize,
    counts: &mut Counts,
    path: &mut ArmPath,
) {
    let f = val.factors[t];
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
    path.care += if next == s {
        val.annual[s]
    } else {
        counted(val.annual[s], val.annual[next])
    } * f;
    if let Some(k) = path.enrolled_at
        && t - k < val.paid_years[a]
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
        counts.occupy(next, t + 1, n);
        path.care += val.annual[next] * val.factors[t + 1..n].iter().sum::<f64>();
        path.done = true;
    }
}

/// Enrols arm `a`'s child at the start of cycle `t` if it is offered the
/// intervention then (in an enrolling state, at an enrolling age, not
/// offered before) and takes it up (`take < uptake`).
#[inline]
fn offer(
    model: &Model,
    val: &Valuation,
    a: usize,
    (t, age, start_age): (usize, u32, u32),
    take: f64,
    counts: &mut Counts,
    path: &mut ArmPath,
) {
    if let Some(iv) = &model.arms[a].intervention
        && !path.offered
        && iv.enrol_states[path.state]
        && iv.enrols_at(start_age, age)
    {
        path.offered = true;
        if take < iv.uptake {
            path.enrolled_at = Some(t);
            counts.once[t] += 1;
            counts.participants += 1;
            path.paid += val.once[a] * val.factors[t];
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
    // Spans of cycles booked at once are added to the cycle-by-cycle counts.
    let mut occupancy = counts.occupancy.clone();
    for s in 0..counts.n_states {
        let mut running: i64 = 0;
        for t in 0..=n {
            running += counts.spans[counts.delta_at(s, t)];
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
