//! Status-quo transitions by age segment: one table for each run of ages
//! over which the same bands apply, stored as sparse rows.

use std::sync::{Arc, OnceLock};

use nalgebra::DMatrix;

use crate::error::ScenarioError;
use crate::scenario::Scenario;

/// Where the moves of every segment sit: the part of [`Segments`] that is
/// the same in every draw, worked out once per scenario ([`Scenario::layout`]).
#[derive(Debug, PartialEq)]
pub(crate) struct Layout {
    n_states: usize,
    start_age: u32,
    /// Ages `[from, to)` of each segment, in age order.
    ages: Vec<(u32, u32)>,
    /// Segment of each age `start_age..end_age`.
    of_age: Vec<u32>,
    /// The band of state `s` in segment `k`, `band_at[k·n + s]` (`u32::MAX`: none).
    band_at: Vec<u32>,
    /// Row `s` of segment `k` is `row_start[k·(n + 1) + s] .. row_start[k·(n + 1) + s + 1]`
    /// of `cols` (and of a draw's `probs`): the moves out of `s` (never `s` itself).
    row_start: Vec<u32>,
    cols: Vec<u32>,
    /// The moves of band `i` are `band_start[i]..band_start[i + 1]` of the bands' moves in file order.
    band_start: Vec<u32>,
}

impl Layout {
    /// The segments of `scenario`'s horizon and the moves of their rows.
    pub(crate) fn of(scenario: &Scenario) -> Layout {
        let spec = &scenario.spec.scenario;
        let (start_age, end_age) = (spec.start_age, spec.end_age);
        let n = scenario.states.len();
        let n_ages = end_age.saturating_sub(start_age) as usize;

        // Ages at which some band starts or ends split the horizon.
        let mut cut = vec![false; n_ages + 1];
        cut[0] = true;
        cut[n_ages] = true;
        let clip = |a: u32| (a.clamp(start_age, end_age) - start_age) as usize;
        for band in &scenario.bands {
            let (a, b) = (clip(band.ages.0), clip(band.ages.1));
            if a < b {
                cut[a] = true;
                cut[b] = true;
            }
        }
        let mut ages = Vec::new();
        let mut of_age = Vec::with_capacity(n_ages);
        let mut from = 0;
        for (a, &at_cut) in cut.iter().enumerate().skip(1) {
            if at_cut {
                of_age.extend(std::iter::repeat_n(ages.len() as u32, a - from));
                ages.push((start_age + from as u32, start_age + a as u32));
                from = a;
            }
        }
        let n_segments = ages.len();

        // The band of each state in each segment (bands of a state never overlap).
        let mut band_at = vec![u32::MAX; n_segments * n];
        for (i, band) in scenario.bands.iter().enumerate() {
            let (a, b) = (clip(band.ages.0), clip(band.ages.1));
            if a < b {
                for k in of_age[a]..=of_age[b - 1] {
                    band_at[k as usize * n + band.from] = i as u32;
                }
            }
        }

        let mut row_start = Vec::with_capacity(n_segments * (n + 1));
        let mut cols = Vec::new();
        for k in 0..n_segments {
            for s in 0..n {
                row_start.push(cols.len() as u32);
                if let Some(band) = scenario.bands.get(band_at[k * n + s] as usize) {
                    // A band's targets are distinct states other than its own (checked).
                    cols.extend(band.to.iter().map(|&(j, _)| j as u32));
                }
            }
            row_start.push(cols.len() as u32);
        }

        let mut band_start = vec![0];
        for band in &scenario.bands {
            band_start.push(band_start[band_start.len() - 1] + band.to.len() as u32);
        }
        Layout {
            n_states: n,
            band_start,
            start_age,
            ages,
            of_age,
            band_at,
            row_start,
            cols,
        }
    }
}

/// The status-quo transition tables of a draw, one per age segment.
///
/// A segment is a maximal run of ages `[from, to)` inside which no band
/// of any state starts or ends, so every age of it has the same table.
/// Each row is kept sparse: the probabilities of the moves its band
/// names, and the probability of staying. The dense table of a segment is
/// built on first use ([`Segments::table`]).
#[derive(Clone, Debug)]
pub struct Segments {
    layout: Arc<Layout>,
    /// This draw's probability of each move of the layout.
    probs: Vec<f64>,
    /// Probability of staying in `s` in segment `k`: `stay[k·n + s]`.
    stay: Vec<f64>,
    dense: Vec<OnceLock<DMatrix<f64>>>,
}

/// Buffers of dropped segments, for the next compiled on the same thread:
/// a PSA compiles the same shape of tables for every draw.
#[derive(Default)]
struct Kept {
    moves: Vec<f64>,
    leaves: Vec<f64>,
    probs: Vec<f64>,
    stay: Vec<f64>,
    dense: Vec<OnceLock<DMatrix<f64>>>,
}

thread_local! {
    static KEPT: std::cell::RefCell<Kept> = std::cell::RefCell::default();
}

impl Drop for Segments {
    fn drop(&mut self) {
        KEPT.with(|cell| {
            if let Ok(mut k) = cell.try_borrow_mut() {
                k.probs = std::mem::take(&mut self.probs);
                k.stay = std::mem::take(&mut self.stay);
                self.dense.clear();
                k.dense = std::mem::take(&mut self.dense);
            }
        });
    }
}

/// One row of a segment: where children move and with which probability.
#[derive(Clone, Copy, Debug)]
pub struct Row<'a> {
    /// Destination states, each other than the row's own state.
    pub to: &'a [u32],
    pub probs: &'a [f64],
    /// Probability of staying.
    pub stay: f64,
}

/// The rows of one segment: row `s` is `start[s]..start[s + 1]` of `cols` and `probs`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SegmentView<'a> {
    pub start: &'a [u32],
    pub cols: &'a [u32],
    pub probs: &'a [f64],
    pub stay: &'a [f64],
}

impl Segments {
    /// Evaluates the bands of `scenario` at `values`.
    ///
    /// # Errors
    ///
    /// When the probabilities of a band sum above 1 in this draw: the
    /// earliest age at which that happens, and the first such band at it.
    pub(crate) fn compile(scenario: &Scenario, values: &[f64]) -> Result<Segments, ScenarioError> {
        let layout = Arc::clone(scenario.layout());
        let n = layout.n_states;
        // Buffers of the segments a thread compiled before, kept by `Drop`.
        let kept = KEPT.with(|cell| {
            cell.try_borrow_mut()
                .map(|mut k| std::mem::take(&mut *k))
                .unwrap_or_default()
        });
        let Kept {
            mut moves,
            mut leaves,
            mut probs,
            mut stay,
            mut dense,
        } = kept;
        // Each band's probabilities, evaluated once however many segments it spans.
        moves.clear();
        leaves.clear();
        for band in &scenario.bands {
            let mut leave = 0.0;
            for &(_, v) in &band.to {
                let p = v.get(values);
                leave += p;
                moves.push(p);
            }
            leaves.push(leave);
        }
        probs.clear();
        probs.reserve(layout.cols.len());
        stay.clear();
        stay.reserve(layout.ages.len() * n);
        for (k, &(age, _)) in layout.ages.iter().enumerate() {
            let mut failed: Option<(usize, f64)> = None;
            for s in 0..n {
                let i = layout.band_at[k * n + s];
                let Some(&leave) = leaves.get(i as usize) else {
                    stay.push(1.0);
                    continue;
                };
                let i = i as usize;
                probs.extend_from_slice(&moves[layout.band_start[i] as usize..layout.band_start[i + 1] as usize]);
                if leave > 1.0 + 1e-12 && failed.is_none_or(|(f, _)| i < f) {
                    failed = Some((i, leave));
                }
                stay.push((1.0 - leave).max(0.0));
            }
            if let Some((i, leave)) = failed {
                let band = &scenario.bands[i];
                return Err(scenario.locate(ScenarioError::new(
                    format!("{}.to", band.path),
                    format!(
                        "probabilities out of `{}` at age {age} sum to {leave} in this draw; expected at most 1",
                        scenario.states[band.from].id
                    ),
                )));
            }
        }
        dense.clear();
        dense.resize_with(layout.ages.len(), OnceLock::new);
        KEPT.with(|cell| {
            if let Ok(mut k) = cell.try_borrow_mut() {
                k.moves = moves;
                k.leaves = leaves;
            }
        });
        Ok(Segments {
            layout,
            probs,
            stay,
            dense,
        })
    }

    /// Whether `other` has the same states and the same segments of ages.
    pub(crate) fn same_ages(&self, other: &Segments) -> bool {
        Arc::ptr_eq(&self.layout, &other.layout)
            || (self.layout.n_states == other.layout.n_states && self.layout.ages == other.layout.ages)
    }

    /// Whether every probability of this draw is finite.
    pub(crate) fn is_finite(&self) -> bool {
        self.probs.iter().chain(&self.stay).all(|p| p.is_finite())
    }

    /// Number of segments.
    pub fn len(&self) -> usize {
        self.layout.ages.len()
    }

    /// Whether the horizon is empty.
    pub fn is_empty(&self) -> bool {
        self.layout.ages.is_empty()
    }

    /// Ages `[from, to)` of segment `k`.
    pub fn ages(&self, k: usize) -> (u32, u32) {
        self.layout.ages[k]
    }

    /// The segment that holds `age` (`start_age ≤ age < end_age`).
    #[inline]
    pub fn at_age(&self, age: u32) -> usize {
        self.layout.of_age[(age - self.layout.start_age) as usize] as usize
    }

    /// Row `s` of segment `k`.
    #[inline]
    pub fn row(&self, k: usize, s: usize) -> Row<'_> {
        let range = self.row_range(k, s);
        Row {
            to: &self.layout.cols[range.clone()],
            probs: &self.probs[range],
            stay: self.stay[k * self.layout.n_states + s],
        }
    }

    /// Segment `k`'s rows, for engines that read them all.
    #[inline]
    pub(crate) fn view(&self, k: usize) -> SegmentView<'_> {
        let (layout, n) = (&*self.layout, self.layout.n_states);
        SegmentView {
            start: &layout.row_start[k * (n + 1)..(k + 1) * (n + 1)],
            cols: &layout.cols,
            probs: &self.probs,
            stay: &self.stay[k * n..(k + 1) * n],
        }
    }

    /// Where the moves of row `s` of segment `k` sit in one flat array of
    /// every segment's moves (for callers that keep a value per move).
    #[inline]
    pub(crate) fn row_range(&self, k: usize, s: usize) -> std::ops::Range<usize> {
        let at = k * (self.layout.n_states + 1) + s;
        self.layout.row_start[at] as usize..self.layout.row_start[at + 1] as usize
    }

    /// Number of moves over all rows of all segments.
    pub(crate) fn n_moves(&self) -> usize {
        self.layout.cols.len()
    }

    /// The dense row-stochastic table of segment `k`.
    pub fn table(&self, k: usize) -> &DMatrix<f64> {
        self.dense[k].get_or_init(|| {
            let n = self.layout.n_states;
            let mut m = DMatrix::<f64>::identity(n, n);
            for s in 0..n {
                let row = self.row(k, s);
                for (&j, &p) in row.to.iter().zip(row.probs) {
                    m[(s, j as usize)] = p;
                }
                m[(s, s)] = row.stay;
            }
            m
        })
    }
}
