//! The tables of one run of the event kernel that every batch reads: the
//! rows of the tables with their cumulative sums, the discount factors
//! added up, and what may change each arm's rows.

use super::super::Valuation;
use super::positions::Row;
use crate::model::Model;
use crate::scenario::CycleCounting;

/// Leading bits of a mantissa that pick an entry of [`Plan::rough_ln`]'s table.
const LN_BITS: u32 = 8;

/// Tables of one run that every batch of the event kernel reads.
pub(crate) struct Plan {
    pub(super) n_states: usize,
    /// `sums[t]`: the discount factors of the cycles before `t`, added up.
    pub(super) sums: Vec<f64>,
    /// Per age index: the age segment of the model's tables
    /// ([`Model::segments`]) that holds it.
    pub(super) segment: Vec<usize>,
    /// Per age index: one past the last age index of its segment.
    pub(super) segment_end: Vec<usize>,
    /// Rows of `2S` numbers, a row's probabilities then their cumulative
    /// sums: first the rows that keep a child where it is (one per state),
    /// then the status-quo tables' rows, per segment and state.
    pub(super) rows: Vec<f64>,
    /// Per row of `rows`: one over the log of its probability of staying.
    pub(super) inv_ln_stay: Vec<f64>,
    /// Per arm and state (`a·S + s`): effects of the arm's intervention or
    /// history rules may change the row out of the state.
    pub(super) shaped: Vec<bool>,
    /// Per arm and state: the arm's intervention enrols from the state.
    pub(super) enrols: Vec<bool>,
    /// Per arm: once its child has been offered the intervention, the arm's
    /// rows depend only on state, age segment and participation (effects at
    /// full strength for good, no history rules).
    pub(super) settled: Vec<bool>,
    /// Per arm: settled, with few enough effects for its changed rows to be
    /// kept, so that its rows can be told apart by state, age segment and
    /// participation alone (see [`Positions`](super::positions::Positions)), and with finite costs and
    /// discount factors (see the lanes of [`settled`](super::settled)).
    pub(super) by_position: Vec<bool>,
    /// Per state `s` and destination `j` (`s·S + j`): the cost of entering
    /// `j` from `s` (0 for `j = s`).
    pub(super) move_entry: Vec<f64>,
    /// Per state `s` and destination `j`: the cost of the cycle of a move
    /// from `s` to `j`, counted as the model counts cycles.
    pub(super) move_annual: Vec<f64>,
    /// Per length `n` of a group's horizon: for each cycle `t`, the discount
    /// factors of the cycles `t + 1..n` added up (0 in the last cycle), the
    /// rest of the horizon of a child absorbed in cycle `t`.
    tails: Vec<(usize, Vec<f64>)>,
    /// Cycles of the longest horizon.
    pub(super) n_cycles: usize,
    /// For [`Plan::rough_ln`]: per [`LN_BITS`] leading bits of a mantissa,
    /// the log of the middle of their interval and its inverse.
    ln_table: Vec<[f64; 2]>,
}

impl Plan {
    pub(crate) fn new(model: &Model, val: &Valuation) -> Self {
        let factors = &val.factors;
        let n = model.n_states();
        let segments = model.segments();
        let ages = model.start_age..model.end_age;
        let segment: Vec<usize> = ages.clone().map(|age| segments.at_age(age)).collect();
        let segment_end = segment
            .iter()
            .map(|&k| (segments.ages(k).1 - model.start_age) as usize)
            .collect();
        let mut rows = Vec::with_capacity(2 * n * n * (segments.len() + 1));
        let mut push = |p: &mut dyn Iterator<Item = f64>| {
            let first = rows.len();
            rows.extend(p);
            let mut acc = 0.0;
            for j in 0..n {
                acc += rows[first + j];
                rows.push(acc);
            }
        };
        for s in 0..n {
            push(&mut (0..n).map(|j| f64::from(u8::from(j == s))));
        }
        for k in 0..segments.len() {
            let m = segments.table(k);
            for s in 0..n {
                push(&mut (0..n).map(|j| m[(s, j)]));
            }
        }
        let inv_ln_stay = (0..rows.len() / (2 * n))
            .map(|i| 1.0 / rows[2 * n * i + i % n].ln())
            .collect();
        let mut sums = Vec::with_capacity(factors.len() + 1);
        let mut acc = 0.0;
        sums.push(acc);
        for f in factors {
            acc += f;
            sums.push(acc);
        }
        let mut shaped = vec![false; model.arms.len() * n];
        let mut enrols = vec![false; model.arms.len() * n];
        for (a, arm) in model.arms.iter().enumerate() {
            for h in &model.history {
                shaped[a * n + h.effect.from] = true;
            }
            if let Some(iv) = &arm.intervention {
                for e in &iv.effects {
                    shaped[a * n + e.from] = true;
                }
                for (s, &on) in iv.enrol_states.iter().enumerate() {
                    enrols[a * n + s] = on;
                }
            }
        }
        let settled = model
            .arms
            .iter()
            .map(|arm| {
                model.history.is_empty()
                    && arm.intervention.as_ref().is_none_or(|iv| {
                        iv.effects
                            .iter()
                            .all(|e| e.duration == f64::INFINITY && e.drop_off == 0.0)
                    })
            })
            .collect::<Vec<bool>>();
        let finite = [&val.annual, &val.entry, factors]
            .iter()
            .all(|x| x.iter().all(|x| x.is_finite()));
        let by_position = model
            .arms
            .iter()
            .zip(&settled)
            .map(|(arm, &settled)| {
                finite && settled && arm.intervention.as_ref().is_none_or(|iv| iv.effects.len() <= 62)
            })
            .collect();
        let move_entry = (0..n * n)
            .map(|i| if i / n == i % n { 0.0 } else { val.entry[i % n] })
            .collect();
        let move_annual = (0..n * n)
            .map(|i| {
                let (s, j) = (i / n, i % n);
                let (x, y) = (val.annual[s], val.annual[j]);
                // As `book_move` counts the cycle of a move.
                if j == s {
                    x
                } else {
                    match model.counting {
                        CycleCounting::Beginning => x,
                        CycleCounting::End => y,
                        CycleCounting::LifeTable => 0.5 * (x + y),
                    }
                }
            })
            .collect();
        let mut tails: Vec<(usize, Vec<f64>)> = Vec::new();
        for g in &model.groups {
            let horizon = ((model.end_age - g.start_age) as usize).min(factors.len());
            if tails.iter().all(|&(m, _)| m != horizon) {
                // Added up as `book_move` adds them, so the sums are the same numbers.
                let tail = (0..horizon)
                    .map(|t| factors[(t + 1).min(horizon)..horizon].iter().sum::<f64>())
                    .collect();
                tails.push((horizon, tail));
            }
        }
        Plan {
            n_states: n,
            sums,
            segment,
            segment_end,
            rows,
            inv_ln_stay,
            shaped,
            enrols,
            settled,
            by_position,
            move_entry,
            move_annual,
            tails,
            n_cycles: model.n_cycles(),
            ln_table: (0..1 << LN_BITS)
                .map(|i| {
                    let middle = 1.0 + (f64::from(i) + 0.5) / f64::from(1 << LN_BITS);
                    [middle.ln(), 1.0 / middle]
                })
                .collect(),
        }
    }

    /// The row keeping a child in `s`.
    pub(super) fn stay(&self, s: usize) -> Row {
        Row::Plan(s)
    }

    /// The status-quo row out of `s` at age index `at` (the same for a whole segment).
    pub(super) fn table(&self, at: usize, s: usize) -> Row {
        Row::Plan(self.table_index(at, s))
    }

    /// The cumulative sums of the status-quo row out of `s` at age index `at`.
    pub(in crate::engine::microsim) fn cumulative(&self, at: usize, s: usize) -> &[f64] {
        let (n, i) = (self.n_states, self.table_index(at, s));
        &self.rows[2 * n * i + n..2 * n * (i + 1)]
    }

    pub(super) fn table_index(&self, at: usize, s: usize) -> usize {
        (1 + self.segment[at]) * self.n_states + s
    }

    /// Rows in the plan.
    pub(super) fn n_rows(&self) -> usize {
        self.rows.len() / (2 * self.n_states)
    }

    /// The log of `x` within about `2·10⁻⁶`, for a positive normal `x`: from
    /// its exponent, a table of the logs of mantissas, and the first term of
    /// the series of `ln(1 + r)` for the rest (`|r| < 1/512`). Only a guess
    /// that the wait's thresholds then confirm (see [`Positions::wait`](super::positions::Positions::wait)).
    #[inline]
    pub(super) fn rough_ln(&self, x: f64) -> f64 {
        const MANTISSA: u64 = (1 << 52) - 1;
        let bits = x.to_bits();
        let exponent = ((bits >> 52) & 0x7ff) as f64 - 1023.0;
        let top = ((bits & MANTISSA) >> (52 - LN_BITS)) as usize;
        let mantissa = f64::from_bits((bits & MANTISSA) | 1.0f64.to_bits());
        let [ln_middle, inv_middle] = self.ln_table.get(top).copied().unwrap_or([0.0, 1.0]);
        let r = mantissa * inv_middle - 1.0;
        exponent * std::f64::consts::LN_2 + ln_middle + r
    }

    /// The rest-of-horizon sums of a horizon of `n` cycles (see [`Plan::tails`]).
    pub(super) fn tail(&self, n: usize) -> Option<&[f64]> {
        self.tails
            .iter()
            .find(|&&(m, _)| m == n)
            .map(|(_, tail)| tail.as_slice())
    }
}
