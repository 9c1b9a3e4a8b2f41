//! Moving a cohort of one draw, or of draws side by side, through the
//! cycles of a stretch: the sparse and the dense propagation, and the
//! booking of each cycle's occupancy, entries and yearly costs.

use super::{NONE, lanes};
use crate::engine::ArmStreams;
use crate::model::SegmentView;
use crate::scenario::CycleCounting;

/// `next = xᵀ·T` for the rows of segment `view` with probabilities of
/// staying `stay`; with `MODIFIED`, the moves out of states whose
/// `slot_of` is not NONE are read from `alt` (at the same positions as in
/// `view`).
/// Rows of states with `x = 0` are skipped. Rows are added in state order
/// either way, so a modified row equal to its original gives the same bits.
#[inline]
fn propagate<const MODIFIED: bool>(
    view: SegmentView<'_>,
    x: &[f64],
    stay: &[f64],
    next: &mut [f64],
    slot_of: &[u32],
    alt: &[f64],
) {
    let n = x.len();
    let (stay, next, start) = (&stay[..n], &mut next[..n], &view.start[..=n]);
    for s in 0..n {
        next[s] = x[s] * stay[s];
    }
    for s in 0..n {
        let xs = x[s];
        if xs == 0.0 {
            continue;
        }
        let range = start[s] as usize..start[s + 1] as usize;
        let probs = if MODIFIED && slot_of[s] != NONE {
            &alt[range.clone()]
        } else {
            &view.probs[range.clone()]
        };
        for (&j, &p) in view.cols[range].iter().zip(probs) {
            next[j as usize] += xs * p;
        }
    }
}

/// Most states for which a run reads its rows dense, with a propagation
/// unrolled for each number of states.
pub(super) const DENSE: usize = 8;

/// Writes the rows of segment `view` into lane `l` of `dense` (`n·n`,
/// row-major), zero on the diagonal and wherever the row has no move.
pub(super) fn densify<const L: usize>(view: SegmentView<'_>, dense: &mut [[f64; L]], l: usize) {
    let n = view.stay.len();
    for (s, row) in dense.chunks_exact_mut(n).enumerate() {
        for p in row.iter_mut() {
            p[l] = 0.0;
        }
        let range = view.start[s] as usize..view.start[s + 1] as usize;
        for (&j, &p) in view.cols[range.clone()].iter().zip(&view.probs[range]) {
            row[j as usize][l] = p;
        }
    }
}

/// Runs a cohort of `L` draws side by side, `x`, through the cycles of
/// `book` with the dense `rows` (`n·n` values of `L`, zero on the
/// diagonal and wherever the sparse row has no move) and probabilities of
/// staying `stay`, booking each cycle ([`Book::cycle`]). As
/// [`propagate`]: a zero adds `+0`, which leaves every sum as it is, so
/// each draw's bits are those of the sparse propagation.
#[inline]
pub(super) fn advance_dense<const L: usize>(
    rows: &[[f64; L]],
    stay: &[[f64; L]],
    x: &mut [[f64; L]],
    book: Book<'_, '_, L>,
) {
    match x.len() {
        1 => dense::<1, L>(rows, stay, x, book),
        2 => dense::<2, L>(rows, stay, x, book),
        3 => dense::<3, L>(rows, stay, x, book),
        4 => dense::<4, L>(rows, stay, x, book),
        5 => dense::<5, L>(rows, stay, x, book),
        6 => dense::<6, L>(rows, stay, x, book),
        7 => dense::<7, L>(rows, stay, x, book),
        _ => dense::<8, L>(rows, stay, x, book),
    }
}

#[inline(always)]
fn dense<const N: usize, const L: usize>(
    rows: &[[f64; L]],
    stay: &[[f64; L]],
    x: &mut [[f64; L]],
    mut book: Book<'_, '_, L>,
) {
    let (rows, stay) = (&rows[..N * N], &stay[..N]);
    let mut now: [[f64; L]; N] = std::array::from_fn(|s| x[s]);
    for c in 0..book.cycles.len() {
        let mut next = [[0.0; L]; N];
        for j in 0..N {
            for l in 0..L {
                next[j][l] = now[j][l] * stay[j][l];
            }
        }
        for s in 0..N {
            let xs = now[s];
            if xs.iter().all(|&x| x == 0.0) {
                continue;
            }
            let row = &rows[s * N..(s + 1) * N];
            for j in 0..N {
                for l in 0..L {
                    next[j][l] += xs[l] * row[j][l];
                }
            }
        }
        book.cycle(c, &now, &next, stay);
        now = next;
    }
    x[..N].copy_from_slice(&now);
}

/// [`advance_dense`] for one draw (`L` = 1) of any number of states, by
/// [`propagate`] with the moves of states whose `slot_of` is not NONE
/// read from `alt` (`(slot_of, alt)`); `next` is a buffer.
pub(super) fn advance_sparse<const MODIFIED: bool, const L: usize>(
    view: SegmentView<'_>,
    (slot_of, alt): (&[u32], &[f64]),
    stay: &[f64],
    (x, next): (&mut [f64], &mut [f64]),
    mut book: Book<'_, '_, L>,
) {
    for c in 0..book.cycles.len() {
        propagate::<MODIFIED>(view, x, stay, next, slot_of, alt);
        book.cycle(c, lanes(x), lanes(next), lanes(stay));
        x.copy_from_slice(next);
    }
}

/// The share of a cycle counted for a state with `x` at its start and `next` at its end.
#[inline]
fn counted(counting: CycleCounting, x: f64, next: f64) -> f64 {
    match counting {
        CycleCounting::Beginning => x,
        CycleCounting::End => next,
        CycleCounting::LifeTable => (x + next) * 0.5,
    }
}

/// Where the cycles of a cohort of `L` draws side by side are booked:
/// how a cycle is counted, per draw the weight of the cohort and its
/// streams, the cycles, and a sub-cohort's yearly costs.
pub(super) struct Book<'a, 'b, const L: usize> {
    counting: CycleCounting,
    w: [f64; L],
    out: &'a mut [&'b mut ArmStreams; L],
    cycles: std::ops::Range<usize>,
    pub(super) yearly: Option<Yearly<'a, L>>,
}

/// A sub-cohort's yearly costs: per draw by payer (none where nobody
/// joined), the absorbing states, and the number of cycles paid for.
pub(super) type Yearly<'a, const L: usize> = ([&'a [f64]; L], &'a [bool], usize);

impl<'a, 'b, const L: usize> Book<'a, 'b, L> {
    pub(super) fn new(
        counting: CycleCounting,
        w: [f64; L],
        out: &'a mut [&'b mut ArmStreams; L],
        cycles: std::ops::Range<usize>,
    ) -> Self {
        Book {
            counting,
            w,
            out,
            cycles,
            yearly: None,
        }
    }

    /// Books the `c`-th of the cycles: the cohort `x` at its start, `next`
    /// at its end, `stay` the probability of staying in each state.
    #[inline(always)]
    fn cycle(&mut self, c: usize, x: &[[f64; L]], next: &[[f64; L]], stay: &[[f64; L]]) {
        let t = self.cycles.start + c;
        let n = x.len();
        for (l, out) in self.out.iter_mut().enumerate() {
            let w = self.w[l];
            let occupancy = &mut out.occupancy.as_mut_slice()[t * n..(t + 1) * n];
            for s in 0..n {
                occupancy[s] += w * counted(self.counting, x[s][l], next[s][l]);
            }
            let entries = &mut out.entries.as_mut_slice()[t * n..(t + 1) * n];
            for s in 0..n {
                // Entries into s: everything in s at the end that was not already there and stayed.
                entries[s] += w * (next[s][l] - x[s][l] * stay[s][l]);
            }
        }
        if let Some((costs, absorbing, paid)) = self.yearly
            && c < paid
        {
            for (l, out) in self.out.iter_mut().enumerate() {
                if costs[l].is_empty() {
                    continue;
                }
                let alive: f64 = (0..n)
                    .filter(|&s| !absorbing[s])
                    .map(|s| counted(self.counting, x[s][l], next[s][l]))
                    .sum();
                for (p, &cost) in costs[l].iter().enumerate() {
                    out.intervention[(p, t)] += self.w[l] * alive * cost;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::{RngExt, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    use super::super::lanes_mut;
    use super::*;

    /// A random sparse segment of `n` states: some moves with probability
    /// zero, and `x` with some states empty.
    fn random_segment(rng: &mut Xoshiro256PlusPlus, n: usize) -> (Vec<u32>, Vec<u32>, Vec<f64>, Vec<f64>) {
        let (mut start, mut cols, mut probs, mut stay) = (vec![0], Vec::new(), Vec::new(), Vec::new());
        for s in 0..n {
            let mut leave = 0.0;
            for j in 0..n {
                if j == s || !rng.random_bool(0.6) {
                    continue;
                }
                let p = if rng.random_bool(0.2) {
                    0.0
                } else {
                    rng.random::<f64>() / n as f64
                };
                cols.push(j as u32);
                probs.push(p);
                leave += p;
            }
            start.push(cols.len() as u32);
            stay.push(1.0 - leave);
        }
        (start, cols, probs, stay)
    }

    #[test]
    fn dense_and_sparse_propagation_give_the_same_bits() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let counting = [CycleCounting::Beginning, CycleCounting::End, CycleCounting::LifeTable];
        for trial in 0..2_000 {
            let n = 1 + trial % DENSE;
            let (start, cols, probs, mut stay) = random_segment(&mut rng, n);
            let x: Vec<f64> = (0..n)
                .map(|_| if rng.random_bool(0.3) { 0.0 } else { rng.random::<f64>() })
                .collect();
            // Some states read a modified row, at the moves' positions (sparse) and dense by slot.
            let mut alt = probs.clone();
            let mut slot_of = vec![NONE; n];
            let mut dense_alt = Vec::new();
            for s in 0..n {
                if rng.random_bool(0.4) {
                    let range = start[s] as usize..start[s + 1] as usize;
                    let mut row = vec![0.0; n];
                    for i in range {
                        alt[i] = probs[i] * rng.random::<f64>();
                        row[cols[i] as usize] = alt[i];
                    }
                    stay[s] = rng.random::<f64>();
                    slot_of[s] = (dense_alt.len() / n) as u32;
                    dense_alt.extend(row);
                }
            }
            let view = SegmentView {
                start: &start,
                cols: &cols,
                probs: &probs,
                stay: &stay,
            };
            // The dense rows: the segment's, with the modified ones written in.
            let mut dense = vec![0.0; n * n];
            densify(view, lanes_mut::<1>(&mut dense), 0);
            for s in (0..n).filter(|&s| slot_of[s] != NONE) {
                let slot = slot_of[s] as usize;
                dense[s * n..(s + 1) * n].copy_from_slice(&dense_alt[slot * n..(slot + 1) * n]);
            }
            let w = rng.random::<f64>();
            let counting = counting[trial % 3];
            let cycles = 1 + trial % 3;
            let streams = || {
                let m = |x| nalgebra::DMatrix::from_element(n, cycles, x);
                let none = nalgebra::DMatrix::zeros(0, cycles);
                ArmStreams {
                    arm: String::new(),
                    care: none.clone(),
                    intervention: none.clone(),
                    outcomes: none,
                    occupancy: m(0.5),
                    entries: m(0.25),
                    participants: 0.0,
                    program: None,
                }
            };

            let (mut sparse_x, mut next, mut sparse_out) = (x.clone(), vec![0.0; n], streams());
            let mut out = [&mut sparse_out];
            let book = Book::new(counting, [w], &mut out, 0..cycles);
            advance_sparse::<true, 1>(view, (&slot_of, &alt), &stay, (&mut sparse_x, &mut next), book);

            let (mut dense_x, mut dense_out) = (x.clone(), streams());
            let mut out = [&mut dense_out];
            let book = Book::new(counting, [w], &mut out, 0..cycles);
            advance_dense(lanes(&dense), lanes(&stay), lanes_mut(&mut dense_x), book);

            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&sparse_x), bits(&dense_x), "x, trial {trial}, {n} states");
            let [sparse, dense] = [&sparse_out, &dense_out];
            assert_eq!(
                bits(sparse.occupancy.as_slice()),
                bits(dense.occupancy.as_slice()),
                "occupancy, trial {trial}"
            );
            assert_eq!(
                bits(sparse.entries.as_slice()),
                bits(dense.entries.as_slice()),
                "entries, trial {trial}"
            );
        }
    }
}
