//! The step-by-step kernel: every child moved one cycle at a time.
//!
//! It is the reference the event kernel ([`super::events`]) is tested
//! against: both give the same joint law of the arms' paths.

use super::events::Plan;
use super::{ArmPath, Batch, Shared, Stream, Valuation, book_move, coupled, holds, invert, offer, pick_start};
use crate::engine::{EngineError, rng};
use crate::model::{GroupModel, Model, apply_effects};

/// The step kernel with its scratch space, for one batch.
pub(super) struct Stepper<'a> {
    ctx: Context<'a>,
    scratch: Scratch,
}

impl<'a> Stepper<'a> {
    pub(super) fn new(shared: &'a Shared<'a>) -> Self {
        let model = shared.model;
        Stepper {
            ctx: Context {
                model,
                plan: &shared.plan,
                valuation: shared.valuation,
            },
            scratch: Scratch::new(model.n_states(), model.arms.len()),
        }
    }

    /// Simulates one child (one stream shared by the arms, or one per arm) and adds it to `batch`.
    pub(super) fn simulate(
        &mut self,
        group: &GroupModel,
        streams: &mut [Stream],
        batch: &mut Batch,
    ) -> Result<(), EngineError> {
        self.ctx.simulate(group, streams, batch, &mut self.scratch)
    }
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

struct Context<'a> {
    model: &'a Model,
    plan: &'a Plan,
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
            scratch.paths.push(ArmPath::start(val, a, state));
        }

        let mut u = vec![0.0; streams.len()];
        let mut next = Vec::with_capacity(n_arms);
        for t in 0..n {
            let age = group.start_age + t as u32;
            for (x, st) in u.iter_mut().zip(streams.iter_mut()) {
                *x = rng::uniform(st);
            }
            for a in 0..n_arms {
                let path = &mut scratch.paths[a];
                if path.done {
                    continue;
                }
                batch.counts[a].count_in(path.state, t);
                let when = (t, age, group.start_age);
                offer(model, val, a, when, draws[stream_of(a)].1, &mut batch.counts[a], path);
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
                    book_move(model, val, a, (t, n), to, &mut batch.counts[a], &mut scratch.paths[a]);
                }
            }
        }
        for a in 0..n_arms {
            let path = scratch.paths[a];
            if !path.done {
                batch.counts[a].count_in(path.state, n);
            }
            batch.cost(a, path.care + path.paid);
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
            return invert(u, self.plan.cumulative(age_index, s), s);
        }
        let mut acc = 0.0;
        for (c, r) in scratch.cumulative.iter_mut().zip(&scratch.rows[a]) {
            acc += r;
            *c = acc;
        }
        invert(u, &scratch.cumulative, s)
    }
}
