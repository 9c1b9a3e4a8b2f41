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
//!   JSON, scenarios built on a base ([`scenario::base`]), price indices,
//!   and checking into a [`Scenario`] with precise errors.
//! - [`param`]: numbers of a scenario — fixed values and distributions.
//! - [`model`]: a scenario compiled for one draw — per-age transition
//!   tables with effects applied on the fly, cost and outcome matrices.
//! - [`engine`]: the cohort engine (exact expected occupancy) and the
//!   microsimulation (children one by one, common random numbers).
//! - [`economics`]: discounting, NPV/BCR/ROI, payback, who pays, program view.
//! - [`stats`]: summaries across draws.
//! - [`report`]: the readable summary, the grant report (HTML, Markdown,
//!   CSV), the assumption table, and files written whole or not at all.
//! - [`shard`]: a run split into draw ranges ([`Simulation::draw_range`]),
//!   each written as a part file, and [`shard::merge`], which gives the
//!   single run's result to the bit.
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
//! ## Uncertainty
//!
//! [`Simulation::draws`] runs a probabilistic sensitivity analysis: each
//! draw samples every uncertain parameter once (beta and gamma from mean
//! and sd by the method of moments, lognormal from mean and sd or from
//! median and 95 % interval, normal, uniform, triangular, PERT; within
//! `truncate = [lo, hi]` where given) and evaluates every arm with the
//! same values, so comparisons are paired. `[[correlations]]` correlate
//! parameters through a Gaussian copula (Cholesky factor of the matrix,
//! which must be positive definite). Every figure is then reported as its
//! mean across draws, the Monte Carlo standard error of that mean
//! (`sd/√n`) and the 2.5th to 97.5th percentiles; P(NPV > 0) comes with its
//! binomial standard error. Payback years, who pays and the budget view are
//! those of the draw-averaged streams; the break-even effect is that of the
//! base case.
//!
//! [`Engine::Microsim`] simulates children one by one ([`engine::microsim`]):
//! it gives the distribution of lifetime cost over children (percentiles,
//! share carried by the costliest 10 %) and follows history rules
//! (`[[history]]`: a change to transitions for children who have ever been
//! in a state, or have spent at least some years in their current one),
//! which the cohort engine refuses. A single microsimulation draw gets its
//! standard errors from 64 replicates of the children (batch means).
//! [`Simulation::precision`] adds draws (or, in a single microsimulation
//! draw, re-runs with more children) until the standard error of every NPV
//! is at most the asked share of it, or a cap is reached; [`RunResult::stop`]
//! says which. The first round has 200 draws; each further round aims 1 %
//! past the size the last round's standard errors predict (they fall as
//! one over the square root of the size), growing by at least a sixteenth
//! and at most doubling. The draws of a run are the first draws of a longer
//! one, so the result is that of a fixed run of its number of draws.
//!
//! ## Budget analyses
//!
//! - **Break-even effect** (`break_even.effect_scale`): the fraction of the
//!   intervention's effects at which the NPV is 0; above 1 when the program
//!   needs a stronger effect than assumed (searched up to 8×), `null` when
//!   never. With draws and [`Simulation::break_even_curve`]
//!   (`--break-even-curve`), `break_even.curve` gives P(NPV > 0) at effect
//!   fractions 0, 0.1, …, 1 and the break-even effect is that of the
//!   expected NPV, read off the curve; otherwise it is the base case's.
//! - **Break-even children** ([`Simulation::break_even_state`],
//!   `--break-even-state residential_care`): the PV excess lifetime cost of
//!   a child entering that state at the enrolment age (its entry cost
//!   included) over a child of the population who does not, from the
//!   status-quo model; the program cost divided by it is the number of
//!   entries the program must prevent to pay back.
//! - **Who pays, who gains**: cost, savings and net per payer, and each
//!   payer's own payback year on its own flows.
//! - **One-way sensitivity** ([`analysis::sensitivity`], `lifecost
//!   sensitivity`), **value of information** ([`analysis::voi`], `lifecost
//!   voi`) and **sweeps** ([`analysis::sweep`], `lifecost sweep`).
//! - **Adjustments** (`[adjustments]`), each on its own line and never
//!   inside the headline figures: `tax_factor`, the deadweight cost of
//!   taxation per unit of net public flow (WSIPP 0.5, Norway 0.2; the
//!   Swedish ASEK factor 1.3 is unverified), reported in the societal
//!   perspective only; and SROI `attribution`, `deadweight` and `drop_off`,
//!   which keep the share `attribution·(1 − deadweight)` of every effect,
//!   less `drop_off` a year.
//! - **Price years**: an amount with its own `price_year` is converted to the
//!   scenario's through `[price_index]` (the shipped `kpi_sweden`, SCB KPI
//!   2006–2024 without 2007 and 2009, or own `levels`); an amount of another
//!   year without an index, or of a year the index lacks, is an error
//!   naming the amount.
//!
//! ## Reproducibility
//!
//! A run is a pure function of the scenario and its options; the library
//! never takes entropy from the OS. The seed defaults to [`DEFAULT_SEED`]
//! and is recorded in every result, with the scenario's hash.
//!
//! - The parameters of draw `d` come from a stream keyed by `(seed, d)`;
//!   a child's random numbers from a stream keyed by `(seed, d, child)`
//!   (xoshiro256++, seeded through SplitMix64; see [`engine::rng`]). The
//!   arm is not part of the key: every arm sees the same numbers.
//! - A child's first number picks its start state, the second decides its
//!   participation, and the rest move it. The status quo inverts its
//!   cumulative row in state order; every other arm takes the maximal
//!   coupling of its row with the status quo's, so the arms part only where
//!   the intervention makes them part, and meet again as soon as they can.
//! - The microsimulation moves children from one move to the next: within
//!   a stretch of cycles where no arm's row can change while the child
//!   stays (one age band, one phase of every effect, no enrolment due), the
//!   number of cycles before the next move is geometric and is drawn with
//!   one number, and the move with another. So the work grows with the
//!   number of moves, not of cycles. A step kernel that takes one number per
//!   cycle gives the same joint law of the arms' paths and is kept as the
//!   reference it is tested against ([`engine::microsim::Kernel`]).
//! - Children run in batches of a fixed size; batches and draws run in
//!   parallel with rayon but are merged in index order, and occupancy is
//!   counted in integers. The same seed gives bit-identical results on any
//!   number of threads. Nothing is kept per child, so memory does not grow
//!   with the number of children.
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
//! two-state model to its closed-form geometric sums. The microsimulation
//! agrees with it within 4 Monte Carlo standard errors. Percentiles of
//! lifetime cost over children come from a histogram with a resolution of
//! about 0.6 %.
//!
//! ## Limitations
//!
//! A horizon is at most 150 years, a scenario at most 1 000 states, a
//! program at most 100 years, an effect size `|d|` at most 5, a run at most
//! [`MAX_DRAWS`] draws of at most [`MAX_CHILDREN`] children, a scenario file
//! at most 16 MiB. The CLI asks for `--yes` before runs of more than 100 000
//! draws or 100 million children. Annual costs
//! depend on the state, not on age. History rules on `ever_in` distinguish
//! the first 63 states; later states share one flag.

pub mod analysis;
pub mod economics;
pub mod engine;
mod error;
pub mod model;
pub mod param;
pub mod report;
mod result;
pub mod scenario;
pub mod shard;
mod simulation;
pub mod stats;

pub use error::{Error, Location, Result, ScenarioError};
pub use param::{Confidence, Distribution, Parameter};
pub use result::{Comparison, RunResult};
pub use scenario::{Intervention, Payer, Perspective, Scenario, State};
pub use simulation::{
    DEFAULT_CHILDREN, DEFAULT_MAX_CHILDREN, DEFAULT_MAX_DRAWS, DEFAULT_SEED, Engine, Figures, MAX_CHILDREN, MAX_DRAWS,
    Simulation, Stop, draw_values,
};
pub use stats::Estimate;

/// The id of the arm without intervention.
pub const STATUS_QUO: &str = "status_quo";
