//! The part file format: one JSON object per part, numbers to the bit.

use nalgebra::DMatrix;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::{Block, PART_FORMAT, Part};
use crate::economics::{ComparisonFigures, Payback, ProgramFigures};
use crate::scenario::{Perspective, ScenarioSpec};
use crate::simulation::Figures;

/// The part file of `part`: one line of JSON.
pub(super) fn to_json(part: &Part) -> String {
    let s = &part.settings;
    let file = PartFile {
        lifecost_part: PART_FORMAT,
        version: env!("CARGO_PKG_VERSION").to_owned(),
        scenario_name: part.scenario.name().to_owned(),
        scenario_hash: part.scenario.hash(),
        seed: s.seed,
        draws: s.draws,
        draw_range: [part.range.start, part.range.end],
        engine: s.engine.as_str().to_owned(),
        children: s.children,
        perspective: s.perspective,
        common_random_numbers: s.common_random_numbers,
        overrides: s
            .overrides
            .iter()
            .map(|&(index, value)| OverrideFile {
                parameter: part
                    .scenario
                    .parameters()
                    .get(index)
                    .map_or(String::new(), |p| p.name.clone()),
                index,
                value: Num(value),
            })
            .collect(),
        discount: s.discount.map(Num),
        break_even_state: s.break_even_state.clone(),
        break_even_curve: s.break_even_curve,
        scenario: part.scenario.spec().clone(),
        figures: part.figures.iter().map(figures_file).collect(),
        blocks: part.blocks.iter().map(block_file).collect(),
    };
    let mut text = serde_json::to_string(&file).unwrap_or_default();
    text.push('\n');
    text
}

pub(super) fn figures_file(f: &Figures) -> FiguresFile {
    FiguresFile {
        arms: f
            .arms
            .iter()
            .map(|a| ArmFile {
                cost: Num(a.cost),
                cost_by_payer: to_nums(&a.cost_by_payer),
                outcomes: to_nums(&a.outcomes),
            })
            .collect(),
        comparisons: f.comparisons.iter().map(comparison_file).collect(),
    }
}

pub(super) fn comparison_file(c: &ComparisonFigures) -> ComparisonFile {
    // Every field named, so that a new one cannot be left out of the file unnoticed.
    let ComparisonFigures {
        savings,
        intervention_cost,
        npv,
        bcr,
        roi,
        payback,
        by_payer,
        payer_payback,
        incremental_outcomes,
        icer,
        program,
        break_even,
        npv_by_effect_scale,
        public_net,
        sroi_npv,
    } = c;
    let ProgramFigures {
        children,
        years,
        children_per_year,
        start_year,
        cost,
        savings: program_savings,
        npv: program_npv,
        budget: _,
    } = program;
    ComparisonFile {
        savings: Num(*savings),
        intervention_cost: Num(*intervention_cost),
        npv: Num(*npv),
        bcr: bcr.map(Num),
        roi: roi.map(Num),
        payback: payback.into(),
        by_payer: by_payer
            .iter()
            .map(|f| [Num(f.cost), Num(f.savings), Num(f.net)])
            .collect(),
        payer_payback: payer_payback.iter().map(PaybackFile::from).collect(),
        incremental_outcomes: to_nums(incremental_outcomes),
        icer: icer.iter().map(|x| x.map(Num)).collect(),
        program: ProgramFile {
            children: Num(*children),
            years: *years,
            children_per_year: Num(*children_per_year),
            start_year: *start_year,
            cost: Num(*cost),
            savings: Num(*program_savings),
            npv: Num(*program_npv),
        },
        break_even: BreakEvenFile {
            effect_scale: break_even.effect_scale.map(Num),
            state: break_even.state.clone(),
            excess_cost: break_even.excess_cost.map(Num),
            children: break_even.children.map(Num),
        },
        npv_by_effect_scale: to_nums(npv_by_effect_scale),
        public_net: Num(*public_net),
        sroi_npv: sroi_npv.map(Num),
    }
}

pub(super) fn block_file(b: &Block) -> BlockFile {
    let rows = |m: &DMatrix<f64>| -> Vec<Vec<Num>> {
        (0..m.nrows())
            .map(|r| (0..m.ncols()).map(|c| Num(m[(r, c)])).collect())
            .collect()
    };
    BlockFile {
        first: b.first,
        size: b.size,
        arms: b
            .streams
            .iter()
            .map(|s| StreamsFile {
                arm: s.arm.clone(),
                care: rows(&s.care),
                intervention: rows(&s.intervention),
                outcomes: rows(&s.outcomes),
                occupancy: rows(&s.occupancy),
                entries: rows(&s.entries),
                participants: Num(s.participants),
                program: s.program.as_ref().map(|p| ProgramStreamsFile {
                    years: p.years,
                    children_per_year: Num(p.children_per_year),
                    fixed_costs: to_nums(&p.fixed_costs),
                }),
            })
            .collect(),
        lifetime_cost: b
            .lifetime_cost
            .iter()
            .map(|h| {
                let (counts, sums) = h.bins();
                HistogramFile {
                    bins: counts
                        .iter()
                        .zip(sums)
                        .enumerate()
                        .filter(|(_, (c, s))| **c != 0 || s.to_bits() != 0)
                        .map(|(b, (c, s))| (b, *c, Num(*s)))
                        .collect(),
                }
            })
            .collect(),
    }
}

pub(super) fn to_nums(v: &[f64]) -> Vec<Num> {
    v.iter().copied().map(Num).collect()
}

/// An `f64` that survives JSON: finite as the shortest decimal that reads
/// back the same, `NaN` and infinities as strings.
#[derive(Clone, Copy, Debug)]
pub(super) struct Num(pub(super) f64);

impl Serialize for Num {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let x = self.0;
        if x.is_finite() {
            s.serialize_f64(x)
        } else if x.is_nan() {
            s.serialize_str("NaN")
        } else if x > 0.0 {
            s.serialize_str("inf")
        } else {
            s.serialize_str("-inf")
        }
    }
}

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Num, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Num;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a number, or \"NaN\", \"inf\" or \"-inf\"")
            }
            fn visit_f64<E: de::Error>(self, x: f64) -> Result<Num, E> {
                Ok(Num(x))
            }
            fn visit_i64<E: de::Error>(self, x: i64) -> Result<Num, E> {
                Ok(Num(x as f64))
            }
            fn visit_u64<E: de::Error>(self, x: u64) -> Result<Num, E> {
                Ok(Num(x as f64))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Num, E> {
                match s {
                    "NaN" => Ok(Num(f64::NAN)),
                    "inf" => Ok(Num(f64::INFINITY)),
                    "-inf" => Ok(Num(f64::NEG_INFINITY)),
                    _ => Err(E::invalid_value(de::Unexpected::Str(s), &self)),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// The fields read before the rest, to tell a part of another format or version.
#[derive(Deserialize)]
pub(super) struct Header {
    pub(super) lifecost_part: Option<u32>,
    pub(super) version: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PartFile {
    pub(super) lifecost_part: u32,
    pub(super) version: String,
    pub(super) scenario_name: String,
    pub(super) scenario_hash: String,
    pub(super) seed: u64,
    pub(super) draws: u64,
    pub(super) draw_range: [u64; 2],
    pub(super) engine: String,
    pub(super) children: u64,
    pub(super) perspective: Perspective,
    pub(super) common_random_numbers: bool,
    pub(super) overrides: Vec<OverrideFile>,
    pub(super) discount: Option<Num>,
    pub(super) break_even_state: Option<String>,
    pub(super) break_even_curve: bool,
    pub(super) scenario: ScenarioSpec,
    pub(super) figures: Vec<FiguresFile>,
    pub(super) blocks: Vec<BlockFile>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct OverrideFile {
    pub(super) parameter: String,
    pub(super) index: usize,
    pub(super) value: Num,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FiguresFile {
    pub(super) arms: Vec<ArmFile>,
    pub(super) comparisons: Vec<ComparisonFile>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ArmFile {
    pub(super) cost: Num,
    pub(super) cost_by_payer: Vec<Num>,
    pub(super) outcomes: Vec<Num>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ComparisonFile {
    pub(super) savings: Num,
    pub(super) intervention_cost: Num,
    pub(super) npv: Num,
    pub(super) bcr: Option<Num>,
    pub(super) roi: Option<Num>,
    pub(super) payback: PaybackFile,
    /// `[cost, savings, net]` per payer.
    pub(super) by_payer: Vec<[Num; 3]>,
    pub(super) payer_payback: Vec<PaybackFile>,
    pub(super) incremental_outcomes: Vec<Num>,
    pub(super) icer: Vec<Option<Num>>,
    pub(super) program: ProgramFile,
    pub(super) break_even: BreakEvenFile,
    pub(super) npv_by_effect_scale: Vec<Num>,
    pub(super) public_net: Num,
    pub(super) sroi_npv: Option<Num>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PaybackFile {
    pub(super) discounted: Option<Num>,
    pub(super) undiscounted: Option<Num>,
}

impl From<&Payback> for PaybackFile {
    fn from(p: &Payback) -> Self {
        PaybackFile {
            discounted: p.discounted.map(Num),
            undiscounted: p.undiscounted.map(Num),
        }
    }
}

impl From<PaybackFile> for Payback {
    fn from(p: PaybackFile) -> Self {
        Payback {
            discounted: p.discounted.map(|x| x.0),
            undiscounted: p.undiscounted.map(|x| x.0),
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ProgramFile {
    pub(super) children: Num,
    pub(super) years: u32,
    pub(super) children_per_year: Num,
    pub(super) start_year: i32,
    pub(super) cost: Num,
    pub(super) savings: Num,
    pub(super) npv: Num,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BreakEvenFile {
    pub(super) effect_scale: Option<Num>,
    pub(super) state: Option<String>,
    pub(super) excess_cost: Option<Num>,
    pub(super) children: Option<Num>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BlockFile {
    pub(super) first: u64,
    pub(super) size: u64,
    pub(super) arms: Vec<StreamsFile>,
    pub(super) lifetime_cost: Vec<HistogramFile>,
}

/// Matrices as rows: `care[payer][cycle]`, `occupancy[state][cycle]`, ….
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StreamsFile {
    pub(super) arm: String,
    pub(super) care: Vec<Vec<Num>>,
    pub(super) intervention: Vec<Vec<Num>>,
    pub(super) outcomes: Vec<Vec<Num>>,
    pub(super) occupancy: Vec<Vec<Num>>,
    pub(super) entries: Vec<Vec<Num>>,
    pub(super) participants: Num,
    pub(super) program: Option<ProgramStreamsFile>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ProgramStreamsFile {
    pub(super) years: u32,
    pub(super) children_per_year: Num,
    pub(super) fixed_costs: Vec<Num>,
}

/// The bins holding anything, as `[bin, count, sum]`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct HistogramFile {
    pub(super) bins: Vec<(usize, u64, Num)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_back_to_the_bit() {
        let xs = [
            0.1 + 0.2,
            -0.0,
            f64::MIN_POSITIVE,
            5e-324,
            f64::MAX,
            1.0 / 3.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e21,
            123_456_789.123_456_78,
        ];
        let text = serde_json::to_string(&to_nums(&xs)).unwrap();
        let back: Vec<Num> = serde_json::from_str(&text).unwrap();
        for (x, y) in xs.iter().zip(back) {
            assert!(
                x.to_bits() == y.0.to_bits() || (x.is_nan() && y.0.is_nan()),
                "{x} read as {}",
                y.0
            );
        }
    }
}
