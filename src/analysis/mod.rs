//! Analyses on top of runs: one-way sensitivity, value of information, sweeps.

pub mod sensitivity;
pub mod sweep;
pub mod voi;
