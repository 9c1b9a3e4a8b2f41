//! Reading a part file and checking it whole against its own scenario.

use nalgebra::DMatrix;
use serde::Deserialize;

use super::file::{BlockFile, FiguresFile, Header, HistogramFile, Num, PartFile, StreamsFile};
use super::{Block, PART_FORMAT, Part, Settings, block_layout, part_error, shown};
use crate::economics::{ArmFigures, BreakEven, ComparisonFigures, Flows, Payback, ProgramFigures};
use crate::engine::{ArmStreams, ProgramStreams};
use crate::error::{Error, Location, Result, ScenarioError};
use crate::model::Model;
use crate::scenario::Scenario;
use crate::simulation::{Engine, Figures, MAX_CHILDREN, MAX_DRAWS};
use crate::stats::Histogram;

/// Reads and checks a part; `name` says which in errors.
pub(super) fn parse(text: &str, name: &str) -> Result<Part> {
    let header: Header = from_json(text, name)?;
    let not_part = || {
        part_error(
            name,
            "lifecost_part",
            "is missing; expected a part file, as `lifecost run --draw-range A..B --out FILE` writes".to_owned(),
        )
    };
    match header.lifecost_part {
        Some(PART_FORMAT) => {}
        Some(other) => {
            return Err(part_error(
                name,
                "lifecost_part",
                format!("is {other}; expected {PART_FORMAT}, the part format of this lifecost"),
            ));
        }
        None => return Err(not_part()),
    }
    let ours = env!("CARGO_PKG_VERSION");
    if header.version.as_deref() != Some(ours) {
        return Err(part_error(
            name,
            "version",
            format!(
                "is {}; expected {ours}, the version of this lifecost (merge parts with the version that ran them)",
                shown(header.version)
            ),
        ));
    }
    let file: PartFile = from_json(text, name)?;
    let [a, b] = file.draw_range;
    let n = file.draws;
    if !(1..=MAX_DRAWS).contains(&n) {
        return Err(part_error(name, "draws", format!("is {n}; expected 1 to {MAX_DRAWS}")));
    }
    if !(a < b && b <= n) {
        return Err(part_error(
            name,
            "draw_range",
            format!("is [{a}, {b}]; expected [A, B] with 0 ≤ A < B ≤ {n}, the draws"),
        ));
    }
    let engine = match file.engine.as_str() {
        "cohort" => Engine::Cohort,
        "microsim" => Engine::Microsim,
        other => {
            return Err(part_error(
                name,
                "engine",
                format!("is `{other}`; expected `cohort` or `microsim`"),
            ));
        }
    };
    if !(1..=MAX_CHILDREN).contains(&file.children) {
        return Err(part_error(
            name,
            "children",
            format!("is {}; expected 1 to {MAX_CHILDREN}", file.children),
        ));
    }
    let scenario = Scenario::from_spec(file.scenario).map_err(|e| {
        let field = if e.path.is_empty() {
            "scenario".to_owned()
        } else {
            format!("scenario.{}", e.path)
        };
        part_error(name, &field, e.message)
    })?;
    if scenario.hash() != file.scenario_hash {
        return Err(part_error(
            name,
            "scenario_hash",
            format!(
                "is {}; expected {}, the hash of the scenario in the file",
                file.scenario_hash,
                scenario.hash()
            ),
        ));
    }
    let mut overrides = Vec::with_capacity(file.overrides.len());
    for (i, o) in file.overrides.iter().enumerate() {
        match scenario.parameters().get(o.index) {
            Some(p) if p.name == o.parameter => overrides.push((o.index, o.value.0)),
            _ => {
                return Err(part_error(
                    name,
                    &format!("overrides[{i}]"),
                    format!(
                        "is parameter {} `{}`; expected a parameter of the scenario at that index",
                        o.index, o.parameter
                    ),
                ));
            }
        }
    }
    let settings = Settings {
        perspective: file.perspective,
        engine,
        seed: file.seed,
        draws: n,
        children: file.children,
        common_random_numbers: file.common_random_numbers,
        overrides,
        discount: file.discount.map(|d| d.0),
        break_even_state: file.break_even_state,
        break_even_curve: file.break_even_curve,
    };
    let shape = Shape::of(&scenario, &settings).map_err(|e| part_error(name, "scenario", e.message))?;
    if file.figures.len() as u64 != b - a {
        return Err(part_error(
            name,
            "figures",
            format!(
                "has {} draws; expected {}, one per draw of {a}..{b}",
                file.figures.len(),
                b - a
            ),
        ));
    }
    let figures = file
        .figures
        .into_iter()
        .enumerate()
        .map(|(i, f)| {
            shape
                .figures(f)
                .map_err(|(field, m)| part_error(name, &format!("figures[{i}].{field}"), m))
        })
        .collect::<Result<Vec<Figures>>>()?;
    let layout = block_layout(a..b);
    let found: Vec<(u64, u64)> = file.blocks.iter().map(|b| (b.first, b.size)).collect();
    if found != layout {
        let show = |l: &[(u64, u64)]| {
            let items: Vec<String> = l.iter().map(|(f, s)| format!("{f}..{}", f + s)).collect();
            format!("[{}]", items.join(", "))
        };
        return Err(part_error(
            name,
            "blocks",
            format!(
                "cover {}; expected {}, the blocks of {a}..{b}",
                show(&found),
                show(&layout)
            ),
        ));
    }
    let blocks = file
        .blocks
        .into_iter()
        .enumerate()
        .map(|(i, b)| {
            shape
                .block(b)
                .map_err(|(field, m)| part_error(name, &format!("blocks[{i}].{field}"), m))
        })
        .collect::<Result<Vec<Block>>>()?;
    Ok(Part {
        name: name.to_owned(),
        scenario,
        settings,
        range: a..b,
        figures,
        blocks,
    })
}

/// Deserializes JSON, naming the field path, line and column of a problem.
fn from_json<T: for<'de> Deserialize<'de>>(text: &str, name: &str) -> Result<T> {
    let located = |path: String, e: serde_json::Error| {
        let text = e.to_string();
        let message = text.rfind(" at line ").map_or(text.as_str(), |i| &text[..i]).to_owned();
        let path = if path.is_empty() || path == "." {
            name.to_owned()
        } else {
            format!("{name}: {path}")
        };
        let mut error = ScenarioError::new(path, message);
        if e.line() > 0 {
            error.location = Some(Location {
                line: e.line(),
                column: e.column(),
            });
        }
        Error::Scenario(error)
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        located(path, e.into_inner())
    })?;
    de.end().map_err(|e| located(String::new(), e))?;
    Ok(value)
}

/// What a part's arrays must hold, from its scenario and settings.
struct Shape {
    arms: Vec<ArmStreams>,
    payers: usize,
    outcomes: usize,
    interventions: usize,
    curve: usize,
    microsim: bool,
    bins: usize,
}

/// A field path below the part and what is wrong there.
type Bad = (String, String);

fn expect_len<T>(v: &[T], n: usize, field: &str) -> Result<(), Bad> {
    if v.len() == n {
        Ok(())
    } else {
        Err((field.to_owned(), format!("has {} entries; expected {n}", v.len())))
    }
}

impl Shape {
    fn of(scenario: &Scenario, settings: &Settings) -> Result<Shape, ScenarioError> {
        let model = Model::compile(scenario, &scenario.base_values())?;
        Ok(Shape {
            arms: model.arms.iter().map(|arm| ArmStreams::zeros(arm, &model)).collect(),
            payers: scenario.payers().len(),
            outcomes: scenario.outcomes().len(),
            interventions: scenario.interventions().len(),
            curve: if settings.break_even_curve && scenario.history().is_empty() {
                crate::economics::break_even::CURVE.len()
            } else {
                0
            },
            microsim: settings.engine == Engine::Microsim,
            bins: Histogram::default().bins().0.len(),
        })
    }

    fn figures(&self, f: FiguresFile) -> Result<Figures, Bad> {
        expect_len(&f.arms, self.arms.len(), "arms")?;
        expect_len(&f.comparisons, self.interventions, "comparisons")?;
        let mut arms = Vec::with_capacity(f.arms.len());
        for (i, a) in f.arms.into_iter().enumerate() {
            expect_len(&a.cost_by_payer, self.payers, &format!("arms[{i}].cost_by_payer"))?;
            expect_len(&a.outcomes, self.outcomes, &format!("arms[{i}].outcomes"))?;
            arms.push(ArmFigures {
                cost: a.cost.0,
                cost_by_payer: nums(a.cost_by_payer),
                outcomes: nums(a.outcomes),
            });
        }
        let mut comparisons = Vec::with_capacity(f.comparisons.len());
        for (k, c) in f.comparisons.into_iter().enumerate() {
            let at = |field: &str| format!("comparisons[{k}].{field}");
            expect_len(&c.by_payer, self.payers, &at("by_payer"))?;
            expect_len(&c.payer_payback, self.payers, &at("payer_payback"))?;
            expect_len(&c.incremental_outcomes, self.outcomes, &at("incremental_outcomes"))?;
            expect_len(&c.icer, self.outcomes, &at("icer"))?;
            expect_len(&c.npv_by_effect_scale, self.curve, &at("npv_by_effect_scale"))?;
            let p = c.program;
            comparisons.push(ComparisonFigures {
                savings: c.savings.0,
                intervention_cost: c.intervention_cost.0,
                npv: c.npv.0,
                bcr: c.bcr.map(|x| x.0),
                roi: c.roi.map(|x| x.0),
                payback: c.payback.into(),
                by_payer: c
                    .by_payer
                    .iter()
                    .map(|[cost, savings, net]| Flows {
                        cost: cost.0,
                        savings: savings.0,
                        net: net.0,
                    })
                    .collect(),
                payer_payback: c.payer_payback.into_iter().map(Payback::from).collect(),
                incremental_outcomes: nums(c.incremental_outcomes),
                icer: c.icer.into_iter().map(|x| x.map(|x| x.0)).collect(),
                program: ProgramFigures {
                    children: p.children.0,
                    years: p.years,
                    children_per_year: p.children_per_year.0,
                    start_year: p.start_year,
                    cost: p.cost.0,
                    savings: p.savings.0,
                    npv: p.npv.0,
                    budget: Vec::new(),
                },
                break_even: BreakEven {
                    effect_scale: c.break_even.effect_scale.map(|x| x.0),
                    state: c.break_even.state,
                    excess_cost: c.break_even.excess_cost.map(|x| x.0),
                    children: c.break_even.children.map(|x| x.0),
                },
                npv_by_effect_scale: nums(c.npv_by_effect_scale),
                public_net: c.public_net.0,
                sroi_npv: c.sroi_npv.map(|x| x.0),
            });
        }
        Ok(Figures { arms, comparisons })
    }

    fn block(&self, b: BlockFile) -> Result<Block, Bad> {
        expect_len(&b.arms, self.arms.len(), "arms")?;
        let streams = b
            .arms
            .into_iter()
            .zip(&self.arms)
            .enumerate()
            .map(|(i, (s, like))| streams(s, like).map_err(|(field, m)| (format!("arms[{i}].{field}"), m)))
            .collect::<Result<Vec<ArmStreams>, Bad>>()?;
        expect_len(
            &b.lifetime_cost,
            if self.microsim { self.arms.len() } else { 0 },
            "lifetime_cost",
        )?;
        let lifetime_cost = b
            .lifetime_cost
            .into_iter()
            .enumerate()
            .map(|(i, h)| histogram(h, self.bins).map_err(|m| (format!("lifetime_cost[{i}]"), m)))
            .collect::<Result<Vec<Histogram>, Bad>>()?;
        Ok(Block {
            first: b.first,
            size: b.size,
            streams,
            lifetime_cost,
        })
    }
}

fn nums(v: Vec<Num>) -> Vec<f64> {
    v.into_iter().map(|x| x.0).collect()
}

/// The streams of a file, shaped like `like` (the same arm of the scenario).
fn streams(s: StreamsFile, like: &ArmStreams) -> Result<ArmStreams, Bad> {
    if s.arm != like.arm {
        return Err(("arm".into(), format!("is `{}`; expected `{}`", s.arm, like.arm)));
    }
    let program = match (s.program, &like.program) {
        (None, None) => None,
        (Some(p), Some(l)) => {
            expect_len(&p.fixed_costs, l.fixed_costs.len(), "program.fixed_costs")?;
            Some(ProgramStreams {
                years: p.years,
                children_per_year: p.children_per_year.0,
                fixed_costs: nums(p.fixed_costs),
            })
        }
        (found, _) => {
            let state = |p: bool| if p { "a program" } else { "none" };
            return Err((
                "program".into(),
                format!(
                    "is {}; expected {} for arm `{}`",
                    state(found.is_some()),
                    state(like.program.is_some()),
                    like.arm
                ),
            ));
        }
    };
    Ok(ArmStreams {
        arm: s.arm,
        care: matrix(s.care, &like.care, "care")?,
        intervention: matrix(s.intervention, &like.intervention, "intervention")?,
        outcomes: matrix(s.outcomes, &like.outcomes, "outcomes")?,
        occupancy: matrix(s.occupancy, &like.occupancy, "occupancy")?,
        entries: matrix(s.entries, &like.entries, "entries")?,
        participants: s.participants.0,
        program,
    })
}

/// A matrix from its rows, with the shape of `like`.
fn matrix(rows: Vec<Vec<Num>>, like: &DMatrix<f64>, field: &str) -> Result<DMatrix<f64>, Bad> {
    expect_len(&rows, like.nrows(), field)?;
    for (r, row) in rows.iter().enumerate() {
        expect_len(row, like.ncols(), &format!("{field}[{r}]"))?;
    }
    Ok(DMatrix::from_fn(like.nrows(), like.ncols(), |r, c| rows[r][c].0))
}

fn histogram(h: HistogramFile, n: usize) -> Result<Histogram, String> {
    let mut counts = vec![0; n];
    let mut sums = vec![0.0; n];
    for &(bin, count, sum) in &h.bins {
        if bin >= n || counts[bin] != 0 || sums[bin] != 0.0 {
            return Err(format!(
                "bin {bin} is out of order or repeated; expected each bin of 0..{n} at most once"
            ));
        }
        counts[bin] = count;
        sums[bin] = sum.0;
    }
    Histogram::from_bins(counts, sums).ok_or_else(|| format!("expected {n} bins"))
}
