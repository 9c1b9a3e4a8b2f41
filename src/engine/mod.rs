//! Engines: how the expected streams of one draw are computed.
//!
//! The cohort engine ([`cohort`]) propagates the exact expected state
//! distribution. Every engine returns the same [`ArmStreams`]: undiscounted
//! yearly amounts per child, which the economics layer discounts once.

pub mod cohort;

use nalgebra::DMatrix;

use crate::model::Model;

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
}

impl ArmStreams {
    pub(crate) fn zeros(arm: String, model: &Model) -> Self {
        let n = model.n_cycles();
        ArmStreams {
            arm,
            care: DMatrix::zeros(model.n_payers(), n),
            intervention: DMatrix::zeros(model.n_payers(), n),
            outcomes: DMatrix::zeros(model.n_outcomes(), n),
            occupancy: DMatrix::zeros(model.n_states(), n),
            entries: DMatrix::zeros(model.n_states(), n),
            participants: 0.0,
        }
    }

    /// Number of cycles.
    pub fn n_cycles(&self) -> usize {
        self.care.ncols()
    }
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
