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
        // Cycle by cycle: each amount adds its products in the order of the entries.
        for (o, xs) in out.chunks_exact_mut(n_out).zip(x.chunks_exact(n_x)) {
            let mut from = 0;
            for &(column, end) in &self.columns {
                let mut sum = o[column];
                for &(state, value) in &self.values[from..end] {
                    sum += value * xs[state];
                }
                o[column] = sum;
                from = end;
            }
        }
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
