//! Economics: discounting, NPV, BCR, ROI, payback, who pays, the program view.
//!
//! Everything here works on the undiscounted [`ArmStreams`] of one draw;
//! discounting is applied here and nowhere else.

pub mod break_even;
mod discount;

pub use discount::DiscountRate;

use nalgebra::DMatrix;

use crate::engine::microsim::Valuation;
use crate::engine::{ArmStreams, ProgramStreams};
use crate::model::Model;
use crate::scenario::{Perspective, Scenario};

/// The figures of one arm in one draw (per child, present values).
#[derive(Clone, Debug, PartialEq)]
pub struct ArmFigures {
    /// Costs of the perspective's payers, the intervention's own included.
    pub cost: f64,
    /// Costs of every payer, the intervention's own included.
    pub cost_by_payer: Vec<f64>,
    /// Discounted outcomes.
    pub outcomes: Vec<f64>,
}

/// Cost, savings and net (`savings − cost`) of one payer.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Flows {
    pub cost: f64,
    pub savings: f64,
    pub net: f64,
}

/// An intervention arm against the status quo in one draw (per child).
#[derive(Clone, Debug, PartialEq)]
pub struct ComparisonFigures {
    /// PV of status-quo costs minus PV of the arm's costs, the intervention's own excluded.
    pub savings: f64,
    /// PV of the intervention's own costs.
    pub intervention_cost: f64,
    pub npv: f64,
    /// `savings / cost`; `None` unless the cost is positive.
    pub bcr: Option<f64>,
    /// `(savings − cost) / cost`; `None` unless the cost is positive.
    pub roi: Option<f64>,
    /// Years from the start until cumulative savings first reach the cost:
    /// discounted, and undiscounted (the budget view).
    pub payback: Payback,
    /// Indexed by payer (all payers; the perspective decides which add up).
    pub by_payer: Vec<Flows>,
    /// Each payer's own payback on its own savings and costs, indexed by payer.
    pub payer_payback: Vec<Payback>,
    /// Discounted outcome of the arm minus that of the status quo.
    pub incremental_outcomes: Vec<f64>,
    /// Net cost per unit of incremental outcome, `(cost − savings)/Δoutcome`.
    pub icer: Vec<Option<f64>>,
    pub program: ProgramFigures,
    /// How much of the effect, or how many diverted children, the program needs to pay back.
    pub break_even: BreakEven,
    /// NPV with every effect scaled by each fraction of [`break_even::CURVE`] (draws only).
    pub npv_by_effect_scale: Vec<f64>,
    /// Net flow (savings − cost, PV) of the public payers, whatever the perspective.
    pub public_net: f64,
    /// NPV with the SROI multipliers on effects, when the scenario has them.
    pub sroi_npv: Option<f64>,
}

/// Break-even figures of a comparison.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BreakEven {
    /// Fraction of the effects at which the NPV is 0 (see [`break_even::effect_scale`]).
    pub effect_scale: Option<f64>,
    /// The state whose avoided entries repay the program, when one is named.
    pub state: Option<String>,
    /// PV of the excess lifetime cost of a child entering `state` at enrolment age.
    pub excess_cost: Option<f64>,
    /// Children who must be kept out of `state` for the program's cost to be repaid.
    pub children: Option<f64>,
}

/// The whole program: every yearly cohort, shifted in calendar time.
#[derive(Clone, Debug, PartialEq)]
pub struct ProgramFigures {
    pub children: f64,
    pub years: u32,
    pub children_per_year: f64,
    pub start_year: i32,
    /// PV over the program, perspective payers.
    pub cost: f64,
    pub savings: f64,
    pub npv: f64,
    /// Undiscounted budget impact per calendar year, indexed `[year][payer]`.
    pub budget: Vec<Vec<Flows>>,
}

/// Discounting and perspective of an evaluation.
#[derive(Clone, Debug)]
pub struct Frame {
    pub perspective: Perspective,
    /// Whether each payer counts in the perspective.
    pub included: Vec<bool>,
    /// Whether each payer is public.
    pub public: Vec<bool>,
    pub cost_rate: DiscountRate,
    pub outcome_rate: DiscountRate,
    pub offset: f64,
}

impl Frame {
    pub fn new(scenario: &Scenario, perspective: Perspective) -> Frame {
        let d = scenario.discounting();
        Frame {
            perspective,
            included: scenario
                .payers()
                .iter()
                .map(|p| perspective.includes(p.public))
                .collect(),
            public: scenario.payers().iter().map(|p| p.public).collect(),
            cost_rate: d.costs.clone(),
            outcome_rate: d.outcomes.clone(),
            offset: d.timing.offset(),
        }
    }
}

/// Discount factors of a frame over a horizon, computed once for every
/// figure of a draw.
#[derive(Clone, Debug, PartialEq)]
pub struct Factors {
    /// `D(t + offset)` of costs for `t = 0..`, long enough for the program view.
    pub cost: Vec<f64>,
    /// `D(t + offset)` of outcomes for every cycle.
    pub outcome: Vec<f64>,
}

impl Frame {
    /// Discount factors for `n_cycles` cycles, the cost factors extended to
    /// `n_years` (at least `n_cycles`) for the calendar years of a program.
    pub fn factors(&self, n_cycles: usize, n_years: usize) -> Factors {
        let cost = self.cost_rate.factors(n_cycles.max(n_years), self.offset);
        let outcome = if self.outcome_rate == self.cost_rate {
            cost[..n_cycles].to_vec()
        } else {
            self.outcome_rate.factors(n_cycles, self.offset)
        };
        Factors { cost, outcome }
    }
}

/// The intervention's per-child costs by payer and cycle: participant costs
/// plus the child's share of the program's fixed costs in cycle 0.
pub fn intervention_stream(streams: &ArmStreams) -> DMatrix<f64> {
    let mut m = streams.intervention.clone();
    if let Some(program) = &streams.program
        && m.ncols() > 0
    {
        for p in 0..m.nrows() {
            m[(p, 0)] += program.fixed_costs[p] / program.children_per_year;
        }
    }
    m
}

/// An arm's costs by payer and cycle, read from its streams.
#[derive(Clone, Copy)]
struct Costs<'a> {
    n_payers: usize,
    care: &'a [f64],
    participant: &'a [f64],
    program: Option<&'a ProgramStreams>,
}

impl<'a> Costs<'a> {
    fn of(streams: &'a ArmStreams) -> Self {
        Costs {
            n_payers: streams.care.nrows(),
            care: streams.care.as_slice(),
            participant: streams.intervention.as_slice(),
            program: streams.program.as_ref(),
        }
    }

    #[inline]
    fn care(&self, t: usize, p: usize) -> f64 {
        self.care[t * self.n_payers + p]
    }

    /// The participant costs of the intervention, without the program's fixed costs.
    #[inline]
    fn participant(&self, t: usize, p: usize) -> f64 {
        self.participant[t * self.n_payers + p]
    }

    /// [`intervention_stream`] of payer `p` in cycle `t`, without building the matrix.
    #[inline]
    fn paid(&self, t: usize, p: usize) -> f64 {
        let x = self.participant(t, p);
        match self.program {
            Some(program) if t == 0 => x + program.fixed_costs[p] / program.children_per_year,
            _ => x,
        }
    }
}

/// The present value of row `r` of a column-major matrix of `rows` rows.
fn row_pv(m: &[f64], rows: usize, r: usize, factors: &[f64]) -> f64 {
    let mut pv = -0.0;
    for (t, &f) in factors.iter().enumerate() {
        pv += m[t * rows + r] * f;
    }
    pv
}

/// The sum of `x` over the payers of the perspective.
fn in_perspective(frame: &Frame, x: &[f64]) -> f64 {
    x.iter().zip(&frame.included).filter(|(_, i)| **i).map(|(x, _)| x).sum()
}

/// Per-arm figures.
pub fn arm_figures(frame: &Frame, streams: &ArmStreams) -> ArmFigures {
    let n = streams.n_cycles();
    with_factors(frame, n, n, |factors| arm_figures_at(frame, factors, streams))
}

fn arm_figures_at(frame: &Frame, factors: &Factors, streams: &ArmStreams) -> ArmFigures {
    let (n, n_payers) = (streams.n_cycles(), streams.care.nrows());
    let cf = &factors.cost[..n];
    let costs = Costs::of(streams);
    // Each payer's sum runs over cycles in order.
    let cost_by_payer: Vec<f64> = (0..n_payers)
        .map(|p| {
            let mut c = -0.0;
            for (t, &f) in cf.iter().enumerate() {
                c += (costs.care(t, p) + costs.paid(t, p)) * f;
            }
            c
        })
        .collect();
    let rows = streams.outcomes.nrows();
    let outcomes = (0..rows)
        .map(|o| row_pv(streams.outcomes.as_slice(), rows, o, &factors.outcome[..n]))
        .collect();
    ArmFigures {
        cost: in_perspective(frame, &cost_by_payer),
        cost_by_payer,
        outcomes,
    }
}

/// An intervention arm against the status quo.
pub fn compare(frame: &Frame, status_quo: &ArmStreams, streams: &ArmStreams, start_year: i32) -> ComparisonFigures {
    let n = streams.n_cycles();
    let factors = frame.factors(n, program_years(streams, n));
    compare_at(frame, &factors, status_quo, streams, start_year, true, false).2
}

/// Calendar years of the program view of `streams` over `n` cycles.
fn program_years(streams: &ArmStreams, n: usize) -> usize {
    let years = streams.program.as_ref().map_or(1, |p| p.years) as usize;
    years + n.saturating_sub(1)
}

/// Every arm's figures and every intervention arm (arm `k + 1`, program
/// starting in `start_years[k]`) against the status quo (arm 0), the
/// discount factors computed once. With `budget`, each comparison also
/// holds the program's undiscounted budget per calendar year and payer
/// (its totals are there either way).
pub fn draw_figures(
    frame: &Frame,
    streams: &[ArmStreams],
    start_years: &[i32],
    budget: bool,
) -> (Vec<ArmFigures>, Vec<ComparisonFigures>) {
    let n = streams.first().map_or(0, ArmStreams::n_cycles);
    let n_years = streams.iter().map(|s| program_years(s, n)).max().unwrap_or(n);
    with_factors(frame, n, n_years, |factors| {
        let mut arms = Vec::with_capacity(streams.len());
        let mut comparisons = Vec::with_capacity(start_years.len());
        for (k, &year) in start_years.iter().enumerate() {
            let (status_quo, arm, comparison) =
                compare_at(frame, factors, &streams[0], &streams[k + 1], year, budget, k == 0);
            arms.extend(status_quo);
            arms.push(arm);
            comparisons.push(comparison);
        }
        arms.extend(streams[arms.len()..].iter().map(|s| arm_figures_at(frame, factors, s)));
        (arms, comparisons)
    })
}

/// The discount factors of the last frame a thread evaluated, with what they were computed for.
struct KeptFactors {
    cost_rate: DiscountRate,
    outcome_rate: DiscountRate,
    offset: f64,
    n_cycles: usize,
    factors: Factors,
}

/// Buffers of [`compare_at`].
#[derive(Default)]
struct Scratch {
    /// One payer's care savings by cycle.
    saved: Vec<f64>,
    /// The perspective's savings and intervention costs by cycle.
    perspective: Vec<(f64, f64)>,
    /// The perspective's program flows by calendar year.
    yearly: Vec<Flows>,
    /// One payer's program flows by calendar year.
    cells: Vec<Flows>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
    static FACTORS: std::cell::RefCell<Option<KeptFactors>> = const { std::cell::RefCell::new(None) };
}

/// Calls `f` with [`Frame::factors`]`(n_cycles, n_years)`, kept per thread:
/// the draws of a run share their frame.
fn with_factors<T>(frame: &Frame, n_cycles: usize, n_years: usize, f: impl FnOnce(&Factors) -> T) -> T {
    FACTORS.with(|cell| {
        let Ok(mut kept) = cell.try_borrow_mut() else {
            return f(&frame.factors(n_cycles, n_years));
        };
        let fits = kept.as_ref().is_some_and(|k| {
            k.n_cycles == n_cycles
                && k.factors.cost.len() >= n_years
                && k.offset.to_bits() == frame.offset.to_bits()
                && k.cost_rate == frame.cost_rate
                && k.outcome_rate == frame.outcome_rate
        });
        if !fits {
            *kept = Some(KeptFactors {
                cost_rate: frame.cost_rate.clone(),
                outcome_rate: frame.outcome_rate.clone(),
                offset: frame.offset,
                n_cycles,
                factors: frame.factors(n_cycles, n_years),
            });
        }
        match kept.as_ref() {
            Some(k) => f(&k.factors),
            None => f(&frame.factors(n_cycles, n_years)),
        }
    })
}

/// An intervention arm against the status quo, with the figures of the arm
/// and, with `with_status_quo`, of the status quo: one pass over the cycles
/// per payer and per outcome gives them all.
fn compare_at(
    frame: &Frame,
    factors: &Factors,
    status_quo: &ArmStreams,
    streams: &ArmStreams,
    start_year: i32,
    with_budget: bool,
    with_status_quo: bool,
) -> (Option<ArmFigures>, ArmFigures, ComparisonFigures) {
    let n = streams.n_cycles();
    let n_payers = streams.care.nrows();
    let cf = &factors.cost[..n];
    let (before, after) = (Costs::of(status_quo), Costs::of(streams));
    let mut scratch = SCRATCH.with(|cell| {
        cell.try_borrow_mut()
            .map(|mut s| std::mem::take(&mut *s))
            .unwrap_or_default()
    });
    let mut program = Program::new(streams, n_payers, with_budget, &mut scratch.yearly, &mut scratch.cells);
    // With one payer in the perspective, its paybacks are the perspective's.
    let mut included = (0..n_payers).filter(|&p| frame.included[p]);
    let only = match (included.next(), included.next()) {
        (Some(p), None) => Some(p),
        _ => None,
    };
    let perspective = &mut scratch.perspective;
    perspective.clear();
    perspective.resize(if only.is_none() { n } else { 0 }, (-0.0, -0.0));

    // Each payer's sums and paybacks, over cycles in order.
    let mut before_cost = Vec::with_capacity(if with_status_quo { n_payers } else { 0 });
    let mut after_cost = Vec::with_capacity(n_payers);
    let mut by_payer = Vec::with_capacity(n_payers);
    let mut payer_payback = Vec::with_capacity(n_payers);
    let mut all = Paybacks::default();
    let saved = &mut scratch.saved;
    saved.resize(n, 0.0);
    for p in 0..n_payers {
        let sums = payer_sums(&before, &after, p, cf, saved);
        if frame.included[p] && only.is_none() {
            for ((t, x), &s) in perspective.iter_mut().enumerate().zip(saved.iter()) {
                x.0 += s;
                x.1 += after.paid(t, p);
            }
        }
        program.add(frame, &after, saved, p);
        if with_status_quo {
            before_cost.push(sums.before);
        }
        after_cost.push(sums.after);
        by_payer.push(sums.flows);
        payer_payback.push(sums.paybacks.finish());
        if only == Some(p) {
            all = sums.paybacks;
        }
    }
    for (t, (&(s, c), &f)) in perspective.iter().zip(cf).enumerate() {
        all.add(t, s - c, f);
    }
    let included = |p: &usize| frame.included[*p];
    let savings: f64 = (0..by_payer.len()).filter(included).map(|p| by_payer[p].savings).sum();
    let cost: f64 = (0..by_payer.len()).filter(included).map(|p| by_payer[p].cost).sum();
    let npv = savings - cost;
    let public_net = (0..by_payer.len())
        .filter(|&p| frame.public[p])
        .map(|p| by_payer[p].net)
        .sum();
    let (bcr, roi) = if cost > 0.0 {
        (Some(savings / cost), Some(npv / cost))
    } else {
        (None, None)
    };

    // Each outcome's present values, over cycles in order.
    let of = &factors.outcome[..n];
    let rows = streams.outcomes.nrows();
    let (was, is) = (status_quo.outcomes.as_slice(), streams.outcomes.as_slice());
    let mut before_outcomes = Vec::with_capacity(if with_status_quo { rows } else { 0 });
    let mut after_outcomes = Vec::with_capacity(rows);
    let mut incremental_outcomes = Vec::with_capacity(rows);
    for o in 0..rows {
        let (pv_before, pv_after, d) = outcome_sums(was, is, rows, o, of);
        if with_status_quo {
            before_outcomes.push(pv_before);
        }
        after_outcomes.push(pv_after);
        incremental_outcomes.push(d);
    }
    let icer = incremental_outcomes
        .iter()
        .map(|&d| if d != 0.0 { Some(-npv / d) } else { None })
        .collect();

    let program = program.finish(&factors.cost, start_year);
    SCRATCH.with(|cell| {
        if let Ok(mut s) = cell.try_borrow_mut() {
            *s = scratch;
        }
    });
    let status_quo = with_status_quo.then(|| ArmFigures {
        cost: in_perspective(frame, &before_cost),
        cost_by_payer: before_cost,
        outcomes: before_outcomes,
    });
    let arm = ArmFigures {
        cost: in_perspective(frame, &after_cost),
        cost_by_payer: after_cost,
        outcomes: after_outcomes,
    };
    let comparison = ComparisonFigures {
        savings,
        intervention_cost: cost,
        npv,
        bcr,
        roi,
        payback: all.finish(),
        by_payer,
        payer_payback,
        incremental_outcomes,
        icer,
        program,
        public_net,
        break_even: BreakEven::default(),
        npv_by_effect_scale: Vec::new(),
        sroi_npv: None,
    };
    (status_quo, arm, comparison)
}

/// One payer's sums over the cycles of a comparison.
struct PayerSums {
    /// The status quo's costs, the intervention's own included.
    before: f64,
    /// The arm's costs, the intervention's own included.
    after: f64,
    flows: Flows,
    paybacks: Paybacks,
}

/// The sums of payer `p` over the cycles, in order; its care savings by cycle go to `saved`.
#[inline(never)]
fn payer_sums(before: &Costs, after: &Costs, p: usize, cf: &[f64], saved: &mut [f64]) -> PayerSums {
    let (mut arm_before, mut arm_after) = (-0.0, -0.0);
    let (mut savings, mut cost, mut paybacks) = (-0.0, -0.0, Paybacks::default());
    for ((t, &f), saved) in cf.iter().enumerate().zip(saved) {
        let (was, care, c) = (before.care(t, p), after.care(t, p), after.paid(t, p));
        let s = difference(was, care);
        arm_before += (was + before.paid(t, p)) * f;
        arm_after += (care + c) * f;
        savings += s * f;
        cost += c * f;
        paybacks.add(t, s - c, f);
        *saved = s;
    }
    PayerSums {
        before: arm_before,
        after: arm_after,
        flows: Flows {
            cost,
            savings,
            net: savings - cost,
        },
        paybacks,
    }
}

/// Outcome `o`'s present values over the cycles, in order: of the status
/// quo (`was`), of the arm (`is`), and of the arm's increment.
#[inline(never)]
fn outcome_sums(was: &[f64], is: &[f64], rows: usize, o: usize, factors: &[f64]) -> (f64, f64, f64) {
    let (mut before, mut after, mut increment) = (-0.0, -0.0, -0.0);
    for (t, &f) in factors.iter().enumerate() {
        let (x, y) = (was[t * rows + o], is[t * rows + o]);
        before += x * f;
        after += y * f;
        increment += difference(y, x) * f;
    }
    (before, after, increment)
}

/// `a − b`, with differences at the level of rounding (at most 1e-12 of the
/// operands) set to exactly 0: a cohort split into participants and the rest
/// and summed again differs from the whole in its last bits, and that noise
/// must not read as savings, an ICER or a payback year.
#[inline]
fn difference(x: f64, y: f64) -> f64 {
    let d = x - y;
    if d.abs() <= 1e-12 * x.abs().max(y.abs()) {
        0.0
    } else {
        d
    }
}

/// Payback years of a net flow: discounted and undiscounted.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Payback {
    pub discounted: Option<f64>,
    pub undiscounted: Option<f64>,
}

/// [`payback`] of a net flow and of its discounted flow, fed a cycle at a time.
#[derive(Clone, Copy, Debug, Default)]
struct Paybacks {
    undiscounted: Crossing,
    discounted: Crossing,
}

impl Paybacks {
    #[inline]
    fn add(&mut self, t: usize, net: f64, factor: f64) {
        self.undiscounted.add(t, net);
        self.discounted.add(t, net * factor);
    }

    fn finish(&self) -> Payback {
        Payback {
            discounted: self.discounted.finish(),
            undiscounted: self.undiscounted.finish(),
        }
    }
}

/// The running state of [`payback`].
#[derive(Clone, Copy, Debug, Default)]
struct Crossing {
    cumulative: f64,
    was_negative: bool,
    at: Option<f64>,
}

impl Crossing {
    #[inline]
    fn add(&mut self, t: usize, x: f64) {
        if self.at.is_some() {
            return;
        }
        let before = self.cumulative;
        self.cumulative += x;
        if self.cumulative < 0.0 {
            self.was_negative = true;
        } else if self.was_negative {
            self.at = Some(t as f64 + (-before) / (self.cumulative - before));
        }
    }

    fn finish(&self) -> Option<f64> {
        match self.at {
            Some(at) => Some(at),
            None if self.was_negative => None,
            None => Some(0.0),
        }
    }
}

/// Years until the cumulative net flow first turns from negative to ≥ 0.
///
/// Cycle `t` spans `[t, t + 1)`; the cumulative sum is interpolated
/// linearly within the year it crosses zero. A flow that is never negative
/// pays back at 0; one that never recovers has no payback (`None`).
pub fn payback(net: &[f64]) -> Option<f64> {
    let mut crossing = Crossing::default();
    for (t, &x) in net.iter().enumerate() {
        crossing.add(t, x);
    }
    crossing.finish()
}

/// The program view of a comparison, a payer at a time: every yearly
/// cohort, shifted in calendar time.
struct Program<'a> {
    years: u32,
    children_per_year: f64,
    fixed: &'a [f64],
    /// The perspective's undiscounted flows by calendar year.
    yearly: &'a mut Vec<Flows>,
    /// One payer's undiscounted flows by calendar year.
    cells: &'a mut Vec<Flows>,
    /// Every payer's undiscounted flows, indexed `[year][payer]`, when asked for.
    budget: Option<Vec<Vec<Flows>>>,
}

impl<'a> Program<'a> {
    fn new(
        streams: &'a ArmStreams,
        n_payers: usize,
        with_budget: bool,
        yearly: &'a mut Vec<Flows>,
        cells: &'a mut Vec<Flows>,
    ) -> Self {
        let (years, children_per_year, fixed) = match &streams.program {
            Some(p) => (p.years, p.children_per_year, p.fixed_costs.as_slice()),
            None => (1, 1.0, &[][..]),
        };
        let n_cycles = streams.n_cycles();
        let n_years = years as usize + n_cycles.saturating_sub(1);
        let zero = Flows {
            cost: -0.0,
            savings: -0.0,
            net: 0.0,
        };
        yearly.clear();
        yearly.resize(n_years, zero);
        Program {
            years,
            children_per_year,
            fixed,
            yearly,
            cells,
            budget: with_budget.then(|| vec![vec![Flows::default(); n_payers]; n_years]),
        }
    }

    /// Adds payer `p`, whose care savings by cycle are `saved`.
    fn add(&mut self, frame: &Frame, costs: &Costs, saved: &[f64], p: usize) {
        let included = frame.included[p];
        if !included && self.budget.is_none() {
            return;
        }
        let cpy = self.children_per_year;
        let fixed = self.fixed.get(p).copied().unwrap_or(0.0);
        let cells = &mut *self.cells;
        cells.clear();
        cells.resize(self.yearly.len(), Flows::default());
        // Cycle t of the children who start in year y falls in calendar year y + t.
        for y in 0..self.years as usize {
            cells[y].cost += fixed;
            for (t, (flows, &saved)) in cells[y..].iter_mut().zip(saved).enumerate() {
                flows.cost += cpy * costs.participant(t, p);
                flows.savings += cpy * saved;
            }
        }
        for (year, (flows, yearly)) in cells.iter_mut().zip(self.yearly.iter_mut()).enumerate() {
            flows.net = flows.savings - flows.cost;
            if let Some(budget) = &mut self.budget {
                budget[year][p] = *flows;
            }
            if included {
                yearly.cost += flows.cost;
                yearly.savings += flows.savings;
            }
        }
    }

    /// The program's figures, once every payer is added.
    fn finish(self, factors: &[f64], start_year: i32) -> ProgramFigures {
        let (mut cost, mut savings) = (-0.0, -0.0);
        for (flows, &f) in self.yearly.iter().zip(factors) {
            cost += flows.cost * f;
            savings += flows.savings * f;
        }
        let cpy = self.children_per_year;
        ProgramFigures {
            children: cpy * f64::from(self.years),
            years: self.years,
            children_per_year: cpy,
            start_year,
            cost,
            savings,
            npv: savings - cost,
            budget: self.budget.unwrap_or_default(),
        }
    }
}

/// What a child's path is worth in this frame, for the microsimulation's
/// per-child figures: discount factors and perspective costs.
pub fn valuation(frame: &Frame, model: &Model) -> Valuation {
    let n = model.n_cycles();
    // A state's costs, row `row` of a matrix by payer.
    let row_in_perspective = |m: &DMatrix<f64>, row: usize| -> f64 {
        (0..m.ncols()).filter(|&p| frame.included[p]).map(|p| m[(row, p)]).sum()
    };
    let per_arm = |f: &dyn Fn(&crate::model::InterventionModel) -> f64| -> Vec<f64> {
        model
            .arms
            .iter()
            .map(|a| a.intervention.as_ref().map_or(0.0, f))
            .collect()
    };
    Valuation {
        factors: frame.cost_rate.factors(n, frame.offset),
        annual: (0..model.n_states())
            .map(|s| row_in_perspective(&model.state_costs, s))
            .collect(),
        entry: (0..model.n_states())
            .map(|s| row_in_perspective(&model.entry_costs, s))
            .collect(),
        once: per_arm(&|iv| in_perspective(frame, iv.once_costs.as_slice())),
        yearly: per_arm(&|iv| in_perspective(frame, iv.yearly_costs.as_slice())),
        fixed: per_arm(&|iv| in_perspective(frame, iv.fixed_costs.as_slice()) / iv.children_per_year),
        paid_years: model
            .arms
            .iter()
            .map(|a| a.intervention.as_ref().map_or(0, |iv| iv.paid_years()))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payback_interpolates_within_the_year() {
        // −100 in year 0, +40 a year after: cumulative −60, −20, +20 ⇒ halfway through cycle 3.
        assert_eq!(payback(&[-100.0, 40.0, 40.0, 40.0]), Some(3.5));
        assert_eq!(payback(&[-100.0, 10.0]), None);
        assert_eq!(payback(&[0.0, 5.0]), Some(0.0));
    }
}
