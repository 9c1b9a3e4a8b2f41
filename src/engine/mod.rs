//! Engines: how the expected streams of one draw are computed.
//!
//! The cohort engine ([`cohort`]) propagates the exact expected state
//! distribution. Every engine returns the same [`ArmStreams`]: undiscounted
//! yearly amounts per child, which the economics layer discounts once.

pub mod cohort;
pub mod microsim;
pub mod rng;

use nalgebra::DMatrix;

use crate::model::{Arm, Model};

/// Undiscounted per-child streams of one arm; column `t` is cycle `t` since
/// the start (the group's start age).
#[derive(Clone, Debug, PartialEq)]
pub struct ArmStreams {
    pub arm: String,
    /// Annual state costs plus entry costs: payers × cycles.
    pub care: DMatrix<f64>,
    /// Participant costs of the intervention (fixed program costs are not here): payers × cycles.
    pub intervention: DMatrix<f64>,
    /// Non-monetary outcomes: outcomes × cycles.
    pub outcomes: DMatrix<f64>,
    /// Counted occupancy (expected share of children): states × cycles.
    pub occupancy: DMatrix<f64>,
    /// Entries into each state during the cycle: states × cycles.
    pub entries: DMatrix<f64>,
    /// Expected share of children who take part in the intervention.
    pub participants: f64,
    /// The program delivering the arm's intervention, if any.
    pub program: Option<ProgramStreams>,
}

/// An intervention's program: fixed costs that belong to the program, not to a child.
#[derive(Clone, Debug, PartialEq)]
pub struct ProgramStreams {
    pub years: u32,
    pub children_per_year: f64,
    /// Fixed cost per program year, by payer.
    pub fixed_costs: Vec<f64>,
}

impl ArmStreams {
    pub(crate) fn zeros(arm: &Arm, model: &Model) -> Self {
        let n = model.n_cycles();
        ArmStreams {
            program: program_of(arm),
            arm: arm.id.clone(),
            care: DMatrix::zeros(model.n_payers(), n),
            intervention: DMatrix::zeros(model.n_payers(), n),
            outcomes: DMatrix::zeros(model.n_outcomes(), n),
            occupancy: DMatrix::zeros(model.n_states(), n),
            entries: DMatrix::zeros(model.n_states(), n),
            participants: 0.0,
        }
    }

    /// Makes these the zero streams of `arm` in `model`, keeping their
    /// memory when the shapes already fit.
    pub(crate) fn reset(&mut self, arm: &Arm, model: &Model) {
        let n = model.n_cycles();
        let fits = self.care.shape() == (model.n_payers(), n)
            && self.intervention.shape() == (model.n_payers(), n)
            && self.outcomes.shape() == (model.n_outcomes(), n)
            && self.occupancy.shape() == (model.n_states(), n)
            && self.entries.shape() == (model.n_states(), n);
        if !fits {
            *self = ArmStreams::zeros(arm, model);
            return;
        }
        self.arm.clone_from(&arm.id);
        for m in [
            &mut self.care,
            &mut self.intervention,
            &mut self.outcomes,
            &mut self.occupancy,
            &mut self.entries,
        ] {
            m.as_mut_slice().iter_mut().for_each(|x| *x = 0.0);
        }
        self.participants = 0.0;
        match (&mut self.program, &arm.intervention) {
            (Some(p), Some(iv)) => {
                p.years = iv.program_years;
                p.children_per_year = iv.children_per_year;
                p.fixed_costs.clear();
                p.fixed_costs.extend(iv.fixed_costs.iter().copied());
            }
            (program, _) => *program = program_of(arm),
        }
    }

    /// Number of cycles.
    pub fn n_cycles(&self) -> usize {
        self.care.ncols()
    }

    /// Adds `w · other` (the same arm of another draw), e.g. to average draws.
    pub fn add_scaled(&mut self, other: &ArmStreams, w: f64) {
        let add = |a: &mut DMatrix<f64>, b: &DMatrix<f64>| {
            assert_eq!(a.shape(), b.shape(), "add_scaled: streams of different shapes");
            for (x, y) in a.as_mut_slice().iter_mut().zip(b.as_slice()) {
                *x += y * w;
            }
        };
        add(&mut self.care, &other.care);
        add(&mut self.intervention, &other.intervention);
        add(&mut self.outcomes, &other.outcomes);
        add(&mut self.occupancy, &other.occupancy);
        add(&mut self.entries, &other.entries);
        self.participants += other.participants * w;
        if let (Some(mine), Some(theirs)) = (&mut self.program, &other.program) {
            for (a, b) in mine.fixed_costs.iter_mut().zip(&theirs.fixed_costs) {
                *a += b * w;
            }
        }
    }

    /// The same shape with every amount 0.
    pub fn zeroed(&self) -> ArmStreams {
        let mut z = self.clone();
        z.add_scaled(self, -1.0);
        z.participants = 0.0;
        if let Some(p) = &mut z.program {
            p.fixed_costs.iter_mut().for_each(|x| *x = 0.0);
        }
        z
    }
}

/// The program delivering `arm`'s intervention, with its fixed costs, if any.
fn program_of(arm: &Arm) -> Option<ProgramStreams> {
    arm.intervention.as_ref().map(|iv| ProgramStreams {
        years: iv.program_years,
        children_per_year: iv.children_per_year,
        fixed_costs: iv.fixed_costs.iter().copied().collect(),
    })
}

/// A failure while running an engine on a compiled model.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// An effect pushed the probabilities of leaving a state above 1.
    #[error(
        "{path}: makes the probabilities out of state {state} at age {age} in arm `{arm}` sum to {sum}; expected at most 1 (use hazard_ratio, which always gives a valid row)"
    )]
    RowAboveOne {
        path: String,
        state: usize,
        age: u32,
        arm: String,
        sum: f64,
    },
}
