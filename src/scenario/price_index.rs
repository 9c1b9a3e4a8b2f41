//! Price indices: converting amounts of other price years to the scenario's.

use std::collections::BTreeMap;

/// Swedish consumer price index (KPI, 1980 = 100, annual means), SCB
/// "KPI fastställda tal". 2007 and 2009 are not included; 2024 is the mean
/// of monthly values January–November (secondary source).
const KPI_SWEDEN: &[(i32, f64)] = &[
    (2006, 284.22),
    (2008, 300.61),
    (2010, 303.46),
    (2011, 311.43),
    (2012, 314.20),
    (2013, 314.06),
    (2014, 313.49),
    (2015, 313.35),
    (2016, 316.43),
    (2017, 322.11),
    (2018, 328.40),
    (2019, 334.26),
    (2020, 335.92),
    (2021, 343.19),
    (2022, 371.91),
    (2023, 403.70),
    (2024, 415.0),
];

/// Names of the indices shipped with the crate.
pub const SHIPPED: &[&str] = &["kpi_sweden"];

/// A price index: a level per calendar year.
#[derive(Clone, Debug, PartialEq)]
pub struct PriceIndex {
    pub name: String,
    levels: BTreeMap<i32, f64>,
}

impl PriceIndex {
    /// A shipped index by name (see [`SHIPPED`]).
    pub fn shipped(name: &str) -> Option<PriceIndex> {
        let table = match name {
            "kpi_sweden" => KPI_SWEDEN,
            _ => return None,
        };
        Some(PriceIndex {
            name: name.to_owned(),
            levels: table.iter().copied().collect(),
        })
    }

    /// An index from its own levels.
    pub fn new(name: impl Into<String>, levels: BTreeMap<i32, f64>) -> PriceIndex {
        PriceIndex {
            name: name.into(),
            levels,
        }
    }

    /// Adds or replaces levels.
    pub fn extend(&mut self, levels: impl IntoIterator<Item = (i32, f64)>) {
        self.levels.extend(levels);
    }

    pub fn level(&self, year: i32) -> Option<f64> {
        self.levels.get(&year).copied()
    }

    /// The years the index covers, as "2006–2024" (gaps are possible).
    pub fn span(&self) -> String {
        match (self.levels.keys().next(), self.levels.keys().next_back()) {
            (Some(a), Some(b)) => format!("{a}–{b}"),
            _ => "no years".to_owned(),
        }
    }

    /// The factor turning an amount in `from` prices into `to` prices.
    pub fn factor(&self, from: i32, to: i32) -> Option<f64> {
        Some(self.level(to)? / self.level(from)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kpi_converts_2015_to_2023_as_published() {
        let kpi = PriceIndex::shipped("kpi_sweden").unwrap();
        // The published factor to 2023 prices is 1.288.
        assert!((kpi.factor(2015, 2023).unwrap() - 1.288).abs() < 5e-4);
        assert_eq!(kpi.factor(2007, 2023), None);
        assert_eq!(kpi.span(), "2006–2024");
    }
}
