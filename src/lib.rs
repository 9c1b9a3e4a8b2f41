//! # lifecost
//!
//! What a child's trajectory costs the public over a lifetime, with and
//! without early, coordinated intervention (the Swedish TSI, *tidiga
//! samordnade insatser*): who pays, who gains, when it pays back.
//!
//! The crate is a multi-state life-course model. A [`Scenario`] describes
//! states (school, social services, youth crime, NEET, work, …) with annual
//! costs per [`Payer`], age-banded transition probabilities, a population,
//! and [`Intervention`]s with their costs and effects. A [`Simulation`] runs
//! every arm — the status quo and one per intervention — and a
//! [`RunResult`] reports, per child and for the whole program, the figures a
//! grant committee asks for: savings, cost, NPV, BCR, ROI, payback year,
//! who pays and who gains.
//!
//! ## Quick start
//!
//! ```
//! # fn main() -> Result<(), lifecost::Error> {
//! let scenario = lifecost::Scenario::default_scenario()?; // scenarios/tsi_sweden.toml
//! let run = lifecost::Simulation::new(&scenario).run()?;
//! let tsi = run.compare("tsi")?;
//! println!("{}", tsi.summary());
//! println!("NPV per child: {:.0} {}", tsi.npv().mean, scenario.currency());
//! # Ok(()) }
//! ```
//!
//! ## Map of the crate
//!
//! - [`scenario`]: the file format ([`scenario::spec`]), reading TOML and
//!   JSON, and checking into a [`Scenario`] with precise errors.
//! - [`param`]: numbers of a scenario — fixed values and distributions.
//! - [`model`]: a scenario compiled for one draw — per-age transition
//!   tables with effects applied on the fly, cost and outcome matrices.
//! - [`engine`]: the cohort engine, exact expected occupancy.
//! - [`economics`]: discounting, NPV/BCR/ROI, payback, who pays, program view.
//! - [`stats`]: summaries across draws.
//! - [`report`]: the readable summary.
//!
//! ## Semantics
//!
//! Cycles are years: cycle `t` is the year the child is `start_age + t`,
//! up to `end_age`. `x_t` is the state distribution at the start of cycle
//! `t`. The cycle is charged for `x_t` (`cycle_counting = "beginning"`, the
//! default), `x_{t+1}` (`"end"`) or their mean (`"life_table"`). Flows of
//! cycle `t` are discounted by `D(t + τ)` with `τ` = 0, 0.5 (default) or 1
//! for `timing` = `start`, `mid`, `end`; `D` is a constant rate or a
//! schedule compounded segment by segment, separately for costs and
//! outcomes.
//!
//! Choices the design leaves open, made here:
//!
//! - **Entry costs** are charged in the cycle in which the move happens
//!   (the cycle whose start-of-cycle state is left), whatever the counting.
//! - **Enrolment** happens at the start of a cycle. Without `enrol.ages`,
//!   children are enrolled at their group's start age only; with
//!   `ages = [a, b]`, in the first cycle with age in `[a, b)` in which they
//!   are in a target state. A child is offered the intervention once: the
//!   share `uptake` takes part, the rest never does.
//! - **Effects** act on participants from the cycle of enrolment (`d = 0`)
//!   at full strength for `duration` years, then with weight
//!   `0.5^((d − duration)/half_life)` or not at all. A ratio `θ` with weight
//!   `w` becomes `θ^w`; an effect size `d` becomes the odds ratio
//!   `exp(1.65·d·w)`.
//! - **Per-year participant costs** accrue in each of the first `years`
//!   cycles from enrolment, on the counted occupancy of the participant's
//!   non-absorbing states. One-off participant costs accrue in the cycle of
//!   enrolment.
//! - **Fixed program costs** of a program year are shared by the children
//!   reached that year: each child carries `fixed / children_per_year` in
//!   its cycle 0. The program view puts them back in their calendar year.
//! - **Per child** means per child of the population (participants or
//!   not); population groups are weighted by size.
//! - **An arm's cost** is the sum over the perspective's payers of state,
//!   entry and intervention costs; `cost_by_payer` lists every payer.
//! - **Payback** is the time from the start (in years, cycle `t` spanning
//!   `[t, t+1)`) until cumulative savings first reach cumulative cost after
//!   having been below it, interpolated linearly within the year; `0` when
//!   the net flow is never negative, `None` when it never recovers.
//! - **ICER** per outcome is the net cost `cost − savings` divided by the
//!   incremental outcome; `None` when the outcome does not change.
//! - **Break-even effect** (`break_even.effect_scale`): the smallest
//!   fraction `s ∈ [0, 1]` of every effect of the intervention (ratios
//!   `θ^s`, effect sizes `d·s`) at which the NPV is 0, by bisection; `0`
//!   when the NPV is not negative without any effect, `null` when it is
//!   negative even with the full effect.
//! - **Distributions in the base case**: a parameter given as a
//!   distribution takes its mean (for a lognormal given by median and 95 %
//!   interval, `exp(μ + σ²/2)`, above the median).
//!
//! ## Reproducibility
//!
//! A run is a pure function of the scenario and its options; the library
//! never takes entropy from the OS. The seed defaults to
//! [`DEFAULT_SEED`] and is recorded in every result, with the scenario's
//! hash.
//!
//! ## Errors and panics
//!
//! Every fallible function returns [`Error`]. A bad scenario gives an
//! [`Error::Scenario`] whose [`ScenarioError`] names the field path
//! (`states[3].costs.region`), the value and what was expected, with the
//! line and column for TOML. No input makes the library panic.
//!
//! ## Numerical accuracy
//!
//! The cohort engine is exact up to floating-point rounding: it reproduces
//! the published reference model to better than 1e-9 relative, and a
//! two-state model to its closed-form geometric sums.
//!
//! ## Limitations
//!
//! A horizon is at most 150 years, a scenario at most 1 000 states, a
//! program at most 100 years. Annual costs depend on the state, not on age.

pub mod economics;
pub mod engine;
mod error;
pub mod model;
pub mod param;
pub mod report;
mod result;
pub mod scenario;
mod simulation;
pub mod stats;

pub use error::{Error, Location, Result, ScenarioError};
pub use param::{Confidence, Distribution, Parameter};
pub use result::{Comparison, RunResult};
pub use scenario::{Intervention, Payer, Perspective, Scenario, State};
pub use simulation::{
    DEFAULT_CHILDREN, DEFAULT_MAX_CHILDREN, DEFAULT_MAX_DRAWS, DEFAULT_SEED, Engine, Simulation, Stop,
};
pub use stats::Estimate;

/// The id of the arm without intervention.
pub const STATUS_QUO: &str = "status_quo";
