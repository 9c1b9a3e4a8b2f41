//! Care costs and outcomes of a cohort run, priced once per cycle from the
//! occupancy and entries of a whole arm.

use crate::engine::ArmStreams;
use crate::model::Model;

/// The non-zero entries of the cost and outcome matrices.
#[derive(Default)]
pub(super) struct Prices {
    annual: Entries,
    entry: Entries,
    outcome: Entries,
}

/// The non-zero entries of a matrix, column by column (states in order
/// within each): `(state, value)`, and per column with any, the column and
/// the end of its entries.
#[derive(Default)]
struct Entries {
    values: Vec<(usize, f64)>,
    columns: Vec<(usize, usize)>,
}

impl Entries {
    fn set(&mut self, m: &nalgebra::DMatrix<f64>) {
        self.values.clear();
        self.columns.clear();
        for column in 0..m.ncols() {
            for state in 0..m.nrows() {
                let value = m[(state, column)];
                if value != 0.0 {
                    self.values.push((state, value));
                }
            }
            if self.columns.last().map_or(0, |&(_, end)| end) < self.values.len() {
                self.columns.push((column, self.values.len()));
            }
        }
    }

    /// `out[column, t] += value · x[state, t]` for every entry and cycle,
    /// with `x` and `out` column-major (`n_x` and `n_out` rows).
    fn add_products(&self, x: &[f64], n_x: usize, out: &mut [f64], n_out: usize) {
        if n_x == 0 || n_out == 0 {
            return; // no entries
        }
        // Column by column, a group of entries at a time over every cycle: a
        // cycle's amount still adds its products in the order of the entries.
        let mut from = 0;
        for &(column, end) in &self.columns {
            for group in self.values[from..end].chunks(GROUP) {
                let add = match group.len() {
                    1 => add_group::<1>,
                    2 => add_group::<2>,
                    3 => add_group::<3>,
                    4 => add_group::<4>,
                    5 => add_group::<5>,
                    6 => add_group::<6>,
                    7 => add_group::<7>,
                    _ => add_group::<GROUP>,
                };
                add(group, column, x, n_x, out, n_out);
            }
            from = end;
        }
    }
}

/// Most entries of a column added to every cycle in one pass.
const GROUP: usize = 8;

/// `out[column, t] += value · x[state, t]` for the `K` entries of `group`,
/// in order, and every cycle `t`: the cycle's sum is kept in a register
/// across the entries, which are unrolled; cycles do not wait on each other.
fn add_group<const K: usize>(
    group: &[(usize, f64)],
    column: usize,
    x: &[f64],
    n_x: usize,
    out: &mut [f64],
    n_out: usize,
) {
    let states: [usize; K] = std::array::from_fn(|j| group[j].0);
    let values: [f64; K] = std::array::from_fn(|j| group[j].1);
    for (o, xs) in out.chunks_exact_mut(n_out).zip(x.chunks_exact(n_x)) {
        let mut sum = o[column];
        for (&state, &value) in states.iter().zip(&values) {
            sum += value * xs[state];
        }
        o[column] = sum;
    }
}

impl Prices {
    pub(super) fn set(&mut self, model: &Model) {
        self.annual.set(&model.state_costs);
        self.entry.set(&model.entry_costs);
        self.outcome.set(&model.outcome_weights);
    }

    /// Care costs and outcomes of every cycle from the arm's occupancy and entries.
    pub(super) fn apply(&self, out: &mut ArmStreams) {
        let (n, n_payers, n_outcomes) = (out.occupancy.nrows(), out.care.nrows(), out.outcomes.nrows());
        let (occupancy, entered) = (out.occupancy.as_slice(), out.entries.as_slice());
        self.annual
            .add_products(occupancy, n, out.care.as_mut_slice(), n_payers);
        self.entry.add_products(entered, n, out.care.as_mut_slice(), n_payers);
        self.outcome
            .add_products(occupancy, n, out.outcomes.as_mut_slice(), n_outcomes);
    }
}

#[cfg(test)]
mod tests {
    use nalgebra::DMatrix;
    use rand::{RngExt, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    use super::*;

    /// A random `rows × cols` matrix, about a third of it zeros, the rest of
    /// either sign over several orders of magnitude (so that the order of a
    /// sum shows in its bits).
    fn random_matrix(rng: &mut Xoshiro256PlusPlus, rows: usize, cols: usize) -> DMatrix<f64> {
        DMatrix::from_fn(rows, cols, |_, _| {
            if rng.random_bool(0.35) {
                0.0
            } else {
                let sign = if rng.random_bool(0.2) { -1.0 } else { 1.0 };
                sign * rng.random::<f64>() * 10f64.powi(rng.random_range(-3..6))
            }
        })
    }

    /// `out[c, t] += Σ m[s, c] · x[s, t]` over the non-zero `m[s, c]`, each
    /// element summed on its own, states in order.
    fn reference(m: &DMatrix<f64>, x: &DMatrix<f64>, out: &mut DMatrix<f64>) {
        for t in 0..x.ncols() {
            for c in 0..m.ncols() {
                let mut sum = out[(c, t)];
                for s in 0..m.nrows() {
                    if m[(s, c)] != 0.0 {
                        sum += m[(s, c)] * x[(s, t)];
                    }
                }
                out[(c, t)] = sum;
            }
        }
    }

    fn bits(m: &DMatrix<f64>) -> Vec<u64> {
        m.iter().map(|v| v.to_bits()).collect()
    }

    #[test]
    fn apply_gives_the_bits_of_a_sum_per_element_in_the_order_of_the_entries() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
        for trial in 0..400 {
            let n = [1, 2, 3, 5, 8, 9, 13, 18, 30][trial % 9];
            let (n_payers, n_outcomes) = (rng.random_range(1..5), rng.random_range(1..4));
            let cycles = [0, 1, 7, 80][trial % 4];
            let (annual, entry, outcome) = (
                random_matrix(&mut rng, n, n_payers),
                random_matrix(&mut rng, n, n_payers),
                random_matrix(&mut rng, n, n_outcomes),
            );
            let mut streams = ArmStreams {
                arm: String::new(),
                care: random_matrix(&mut rng, n_payers, cycles),
                intervention: DMatrix::zeros(n_payers, cycles),
                outcomes: random_matrix(&mut rng, n_outcomes, cycles),
                occupancy: random_matrix(&mut rng, n, cycles).abs(),
                entries: random_matrix(&mut rng, n, cycles).abs(),
                participants: 0.0,
                program: None,
            };
            let (mut care, mut outcomes) = (streams.care.clone(), streams.outcomes.clone());
            reference(&annual, &streams.occupancy, &mut care);
            reference(&entry, &streams.entries, &mut care);
            reference(&outcome, &streams.occupancy, &mut outcomes);

            let mut prices = Prices::default();
            prices.annual.set(&annual);
            prices.entry.set(&entry);
            prices.outcome.set(&outcome);
            prices.apply(&mut streams);
            assert_eq!(bits(&streams.care), bits(&care), "care, trial {trial}");
            assert_eq!(bits(&streams.outcomes), bits(&outcomes), "outcomes, trial {trial}");
        }
    }
}
