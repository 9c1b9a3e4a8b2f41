//! Shards: a run split into draw ranges, run anywhere, merged to the bit.
//!
//! [`Simulation::draw_range`] runs draws `A..B` of a run of `N` draws and
//! returns a [`Part`]; [`merge`] of parts that cover `0..N` exactly once
//! gives the [`RunResult`] of the single run, bit for bit, so its JSON and
//! text are byte-identical. Draw `d` takes its parameters and random streams
//! from `(seed, d)` alone, so it is the same draw in any part.
//!
//! # How the sums agree
//!
//! Floating-point addition is not associative, so the order in which draws'
//! streams are added must not depend on how the run was split. Every run
//! with draws adds them in one fixed binary tree over the draw indices: an
//! aligned block of `2^k` draws starting at a multiple of `2^k` is the sum
//! of its two halves, left plus right, and the total of `N` draws is the
//! root of the tree over `0..2^⌈log₂N⌉`, where a node whose right half lies
//! past `N` is its left half. A part stores, for its range, the sums of the
//! largest aligned blocks inside it (at most about `2·log₂N` of them: its
//! range cut the way a segment tree cuts it), and every draw's figures.
//! Merging rebuilds the same tree from the blocks of all parts, so each sum
//! is made of the same additions in the same order as in the single run.
//! A single run does exactly this with one part, `0..N`.
//!
//! # Part files
//!
//! [`Part::to_json`] writes one JSON object: the part format
//! (`lifecost_part`), the lifecost version, the scenario's name and hash,
//! the run's settings (seed, draws, draw range, engine, children,
//! perspective, parameter overrides, discount rate, break-even options),
//! the scenario tree itself (bases already merged in, so a merge needs no
//! scenario file), the figures of each draw, and the blocks (each arm's
//! summed streams, and with the microsimulation its histogram of lifetime
//! costs). Numbers are written with the shortest decimal that reads back as
//! the same `f64`; `NaN` and infinities as the strings `"NaN"`, `"inf"`,
//! `"-inf"`.
//!
//! # Example
//!
//! ```
//! # fn main() -> Result<(), lifecost::Error> {
//! use lifecost::shard::{Part, merge};
//!
//! let scenario = lifecost::Scenario::default_scenario()?;
//! let sim = lifecost::Simulation::new(&scenario).draws(30).seed(11);
//! // Each range may run on another machine; the files carry everything a merge needs.
//! let files: Vec<String> = [20..30, 0..8, 8..20]
//!     .into_iter()
//!     .map(|range| Ok(sim.draw_range(range)?.to_json()))
//!     .collect::<Result<_, lifecost::Error>>()?;
//! let parts = files.iter().map(|text| Part::from_json_str(text)).collect::<Result<Vec<_>, _>>()?;
//! let merged = merge(&parts)?;
//! assert_eq!(merged.summary(), sim.run()?.summary());
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::fmt::Display;
use std::ops::Range;
use std::path::Path;

use nalgebra::DMatrix;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::economics::{ArmFigures, BreakEven, ComparisonFigures, Flows, Payback, ProgramFigures};
use crate::engine::{ArmStreams, ProgramStreams};
use crate::error::{Error, Location, Result, ScenarioError};
use crate::model::Model;
use crate::result::RunResult;
use crate::scenario::{Perspective, Scenario, ScenarioSpec};
use crate::simulation::{Engine, Figures, MAX_CHILDREN, MAX_DRAWS, Simulation};
use crate::stats::Histogram;

/// The part format this lifecost writes and reads.
pub const PART_FORMAT: u32 = 1;
/// Largest part file read (4 GiB).
pub const MAX_PART_BYTES: u64 = 4 << 30;

/// The draws `A..B` of a run, ready to be merged with the other ranges.
///
/// Made by [`Simulation::draw_range`], written by [`Part::to_json`], read
/// back by [`Part::from_json_str`] or [`Part::read`], which check it whole
/// against its own scenario so that [`merge`] never meets a malformed part.
#[derive(Clone, Debug)]
pub struct Part {
    name: String,
    scenario: Scenario,
    settings: Settings,
    range: Range<u64>,
    figures: Vec<Figures>,
    blocks: Vec<Block>,
}

/// What a part records of its [`Simulation`], to rebuild the run at the merge.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub perspective: Perspective,
    pub engine: Engine,
    pub seed: u64,
    pub draws: u64,
    pub children: u64,
    pub common_random_numbers: bool,
    /// `(parameter index, value)`, in the order they were set.
    pub overrides: Vec<(usize, f64)>,
    /// A constant discount rate for costs and outcomes instead of the scenario's.
    pub discount: Option<f64>,
    pub break_even_state: Option<String>,
    pub break_even_curve: bool,
}

/// The summed streams of the aligned block of draws `first..first + size`.
#[derive(Clone, Debug)]
pub(crate) struct Block {
    pub first: u64,
    pub size: u64,
    /// One per arm.
    pub streams: Vec<ArmStreams>,
    /// One per arm with the microsimulation; empty with the cohort engine.
    pub lifetime_cost: Vec<Histogram>,
}

impl Block {
    /// Adds the block on its right.
    fn absorb(&mut self, right: Block) {
        for (a, b) in self.streams.iter_mut().zip(&right.streams) {
            a.add_scaled(b, 1.0);
        }
        for (a, b) in self.lifetime_cost.iter_mut().zip(&right.lifetime_cost) {
            a.merge(b);
        }
        self.size += right.size;
    }
}

/// Whether blocks `(first, size)` `left` and `right` are the two halves of one aligned block.
fn halves(left: (u64, u64), right: (u64, u64)) -> bool {
    left.1 == right.1 && left.0 % (2 * left.1) == 0 && left.0 + left.1 == right.0
}

/// Draws added one by one, in order, into the largest aligned blocks they complete.
pub(crate) struct TreeSum {
    next: u64,
    stack: Vec<Block>,
}

impl TreeSum {
    /// A sum whose first draw will be `first`.
    pub fn new(first: u64) -> Self {
        TreeSum {
            next: first,
            stack: Vec::new(),
        }
    }

    /// Adds the next draw.
    pub fn push(&mut self, streams: Vec<ArmStreams>, lifetime_cost: Vec<Histogram>) {
        self.stack.push(Block {
            first: self.next,
            size: 1,
            streams,
            lifetime_cost,
        });
        self.next += 1;
        while let [.., l, r] = self.stack.as_slice()
            && halves((l.first, l.size), (r.first, r.size))
            && let Some(right) = self.stack.pop()
            && let Some(left) = self.stack.last_mut()
        {
            left.absorb(right);
        }
    }

    /// The blocks, in draw order.
    pub fn into_blocks(self) -> Vec<Block> {
        self.stack
    }
}

/// `(first, size)` of the blocks a [`TreeSum`] over `range` ends with.
fn block_layout(range: Range<u64>) -> Vec<(u64, u64)> {
    let mut stack: Vec<(u64, u64)> = Vec::new();
    for d in range {
        stack.push((d, 1));
        while let [.., l, r] = stack.as_slice()
            && halves(*l, *r)
        {
            let size = l.1 * 2;
            stack.pop();
            if let Some(l) = stack.last_mut() {
                l.1 = size;
            }
        }
    }
    stack
}

/// The sum of the streams of draws `0..n` over the tree, from blocks that
/// cover them exactly once; `None` when they do not.
pub(crate) fn total(blocks: Vec<Block>, n: u64) -> Option<Block> {
    fn node(blocks: &mut BTreeMap<u64, Block>, first: u64, size: u64, n: u64) -> Option<Block> {
        if blocks.get(&first).is_some_and(|b| b.size == size) {
            return blocks.remove(&first);
        }
        if size <= 1 {
            return None;
        }
        let half = size / 2;
        let mut left = node(blocks, first, half, n)?;
        if first + half < n {
            left.absorb(node(blocks, first + half, half, n)?);
        }
        Some(left)
    }
    let mut by_first: BTreeMap<u64, Block> = BTreeMap::new();
    for b in blocks {
        if by_first.insert(b.first, b).is_some() {
            return None;
        }
    }
    let root = node(&mut by_first, 0, n.checked_next_power_of_two()?, n)?;
    by_first.is_empty().then_some(root)
}

/// Merges parts covering draws `0..N` exactly once, given in any order, into
/// the result of the single run of `N` draws.
///
/// # Errors
///
/// [`Error::Scenario`] naming the part and the field when the list is
/// empty, when parts differ in scenario, seed, draws, engine, children,
/// perspective, random-number setting, overrides, discount rate or
/// break-even options, or when their ranges overlap or leave draws out.
pub fn merge(parts: &[Part]) -> Result<RunResult> {
    let Some(first) = parts.first() else {
        return Err(Error::Scenario(ScenarioError::new(
            "parts",
            "is empty; expected the parts of every draw range of a run",
        )));
    };
    for part in &parts[1..] {
        same_run(first, part)?;
    }
    let mut order: Vec<&Part> = parts.iter().collect();
    order.sort_by_key(|p| (p.range.start, p.range.end));
    let n = first.settings.draws;
    let mut next = 0;
    let mut previous: Option<&Part> = None;
    for part in &order {
        let (a, b) = (part.range.start, part.range.end);
        if a < next
            && let Some(prev) = previous
        {
            return Err(part_error(
                &part.name,
                "draw_range",
                format!(
                    "is {a}..{b}, overlapping {}..{} of {}; expected parts covering 0..{n} exactly once",
                    prev.range.start, prev.range.end, prev.name
                ),
            ));
        }
        if a > next {
            return Err(part_error(
                &part.name,
                "draw_range",
                format!(
                    "is {a}..{b}, and draws {next}..{a} are in no part; expected parts covering 0..{n} exactly once"
                ),
            ));
        }
        next = b;
        previous = Some(part);
    }
    if next < n
        && let Some(last) = previous
    {
        return Err(part_error(
            &last.name,
            "draw_range",
            format!(
                "is {}..{}, and draws {next}..{n} are in no part; expected parts covering 0..{n} exactly once",
                last.range.start, last.range.end
            ),
        ));
    }
    let mut figures = Vec::new();
    let mut blocks = Vec::new();
    for part in order {
        figures.extend(part.figures.iter().cloned());
        blocks.extend(part.blocks.iter().cloned());
    }
    Simulation::from_settings(&first.scenario, &first.settings).merged(figures, blocks)
}

/// Refuses a part of another run than `first`'s, naming the field.
fn same_run(first: &Part, part: &Part) -> Result<()> {
    let (a, b) = (&first.settings, &part.settings);
    let differ = |field: &str, mine: String, theirs: String| {
        part_error(
            &part.name,
            field,
            format!("is {theirs}; expected {mine}, as in {}", first.name),
        )
    };
    let hash = (first.scenario.hash(), part.scenario.hash());
    if hash.0 != hash.1 {
        return Err(differ("scenario_hash", hash.0, hash.1));
    }
    if a.seed != b.seed {
        return Err(differ("seed", a.seed.to_string(), b.seed.to_string()));
    }
    if a.draws != b.draws {
        return Err(differ("draws", a.draws.to_string(), b.draws.to_string()));
    }
    if a.engine != b.engine {
        return Err(differ("engine", a.engine.as_str().into(), b.engine.as_str().into()));
    }
    if a.children != b.children {
        return Err(differ("children", a.children.to_string(), b.children.to_string()));
    }
    if a.perspective != b.perspective {
        return Err(differ(
            "perspective",
            a.perspective.as_str().into(),
            b.perspective.as_str().into(),
        ));
    }
    if a.common_random_numbers != b.common_random_numbers {
        return Err(differ(
            "common_random_numbers",
            a.common_random_numbers.to_string(),
            b.common_random_numbers.to_string(),
        ));
    }
    let bits = |o: &[(usize, f64)]| o.iter().map(|&(i, v)| (i, v.to_bits())).collect::<Vec<_>>();
    if bits(&a.overrides) != bits(&b.overrides) {
        let show = |o: &[(usize, f64)]| {
            let items: Vec<String> = o
                .iter()
                .map(|&(i, v)| match first.scenario.parameters().get(i) {
                    Some(p) => format!("{} = {v}", p.name),
                    None => format!("parameter {i} = {v}"),
                })
                .collect();
            format!("[{}]", items.join(", "))
        };
        return Err(differ("overrides", show(&a.overrides), show(&b.overrides)));
    }
    if a.discount.map(f64::to_bits) != b.discount.map(f64::to_bits) {
        return Err(differ("discount", shown(a.discount), shown(b.discount)));
    }
    if a.break_even_state != b.break_even_state {
        return Err(differ(
            "break_even_state",
            shown(a.break_even_state.as_ref()),
            shown(b.break_even_state.as_ref()),
        ));
    }
    if a.break_even_curve != b.break_even_curve {
        return Err(differ(
            "break_even_curve",
            a.break_even_curve.to_string(),
            b.break_even_curve.to_string(),
        ));
    }
    Ok(())
}

fn shown<T: Display>(x: Option<T>) -> String {
    x.map_or("none".to_owned(), |x| format!("`{x}`"))
}

fn part_error(name: &str, field: &str, message: String) -> Error {
    let path = if field.is_empty() {
        name.to_owned()
    } else {
        format!("{name}: {field}")
    };
    Error::Scenario(ScenarioError::new(path, message))
}

impl Part {
    pub(crate) fn new(
        scenario: &Scenario,
        settings: Settings,
        range: Range<u64>,
        figures: Vec<Figures>,
        blocks: Vec<Block>,
    ) -> Part {
        Part {
            name: format!("part {}..{}", range.start, range.end),
            scenario: scenario.clone(),
            settings,
            range,
            figures,
            blocks,
        }
    }

    /// The name used in errors: the file it was read from, or `part A..B`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The same part, called `name` in errors (e.g. where it was stored).
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>) -> Part {
        self.name = name.into();
        self
    }

    /// The draws of this part.
    pub fn range(&self) -> Range<u64> {
        self.range.clone()
    }

    /// Draws of the whole run.
    pub fn n_draws(&self) -> u64 {
        self.settings.draws
    }

    /// The seed of the run.
    pub fn seed(&self) -> u64 {
        self.settings.seed
    }

    /// The scenario the part was run on.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// The part file: one line of JSON (see the [module docs](self)).
    pub fn to_json(&self) -> String {
        let s = &self.settings;
        let file = PartFile {
            lifecost_part: PART_FORMAT,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            scenario_name: self.scenario.name().to_owned(),
            scenario_hash: self.scenario.hash(),
            seed: s.seed,
            draws: s.draws,
            draw_range: [self.range.start, self.range.end],
            engine: s.engine.as_str().to_owned(),
            children: s.children,
            perspective: s.perspective,
            common_random_numbers: s.common_random_numbers,
            overrides: s
                .overrides
                .iter()
                .map(|&(index, value)| OverrideFile {
                    parameter: self
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
            scenario: self.scenario.spec().clone(),
            figures: self.figures.iter().map(figures_file).collect(),
            blocks: self.blocks.iter().map(block_file).collect(),
        };
        let mut text = serde_json::to_string(&file).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Reads a part file written by [`Part::to_json`], named `part` in errors.
    ///
    /// # Errors
    ///
    /// [`Error::Scenario`] naming the field path, the value and what was
    /// expected when the text is not a part of this lifecost version, or is
    /// inconsistent with its own scenario and settings.
    pub fn from_json_str(text: &str) -> Result<Part> {
        parse(text, "part")
    }

    /// Reads a part file, named by its path in errors.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the file cannot be read, and the errors of
    /// [`Part::from_json_str`].
    pub fn read(path: impl AsRef<Path>) -> Result<Part> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let io = |source| Error::Io {
            path: path.to_owned(),
            source,
        };
        let size = std::fs::metadata(path).map_err(io)?.len();
        if size > MAX_PART_BYTES {
            return Err(part_error(
                &name,
                "",
                format!("is {size} bytes; expected a part file of at most {MAX_PART_BYTES} bytes"),
            ));
        }
        let text = String::from_utf8(std::fs::read(path).map_err(io)?)
            .map_err(|_| part_error(&name, "", "is not UTF-8 text; expected a JSON part file".to_owned()))?;
        parse(&text, &name)
    }
}

/// Reads and checks a part; `name` says which in errors.
fn parse(text: &str, name: &str) -> Result<Part> {
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

fn figures_file(f: &Figures) -> FiguresFile {
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

fn comparison_file(c: &ComparisonFigures) -> ComparisonFile {
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

fn block_file(b: &Block) -> BlockFile {
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

fn to_nums(v: &[f64]) -> Vec<Num> {
    v.iter().copied().map(Num).collect()
}

/// An `f64` that survives JSON: finite as the shortest decimal that reads
/// back the same, `NaN` and infinities as strings.
#[derive(Clone, Copy, Debug)]
struct Num(f64);

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
struct Header {
    lifecost_part: Option<u32>,
    version: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PartFile {
    lifecost_part: u32,
    version: String,
    scenario_name: String,
    scenario_hash: String,
    seed: u64,
    draws: u64,
    draw_range: [u64; 2],
    engine: String,
    children: u64,
    perspective: Perspective,
    common_random_numbers: bool,
    overrides: Vec<OverrideFile>,
    discount: Option<Num>,
    break_even_state: Option<String>,
    break_even_curve: bool,
    scenario: ScenarioSpec,
    figures: Vec<FiguresFile>,
    blocks: Vec<BlockFile>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct OverrideFile {
    parameter: String,
    index: usize,
    value: Num,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FiguresFile {
    arms: Vec<ArmFile>,
    comparisons: Vec<ComparisonFile>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ArmFile {
    cost: Num,
    cost_by_payer: Vec<Num>,
    outcomes: Vec<Num>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ComparisonFile {
    savings: Num,
    intervention_cost: Num,
    npv: Num,
    bcr: Option<Num>,
    roi: Option<Num>,
    payback: PaybackFile,
    /// `[cost, savings, net]` per payer.
    by_payer: Vec<[Num; 3]>,
    payer_payback: Vec<PaybackFile>,
    incremental_outcomes: Vec<Num>,
    icer: Vec<Option<Num>>,
    program: ProgramFile,
    break_even: BreakEvenFile,
    npv_by_effect_scale: Vec<Num>,
    public_net: Num,
    sroi_npv: Option<Num>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PaybackFile {
    discounted: Option<Num>,
    undiscounted: Option<Num>,
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
struct ProgramFile {
    children: Num,
    years: u32,
    children_per_year: Num,
    start_year: i32,
    cost: Num,
    savings: Num,
    npv: Num,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BreakEvenFile {
    effect_scale: Option<Num>,
    state: Option<String>,
    excess_cost: Option<Num>,
    children: Option<Num>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BlockFile {
    first: u64,
    size: u64,
    arms: Vec<StreamsFile>,
    lifetime_cost: Vec<HistogramFile>,
}

/// Matrices as rows: `care[payer][cycle]`, `occupancy[state][cycle]`, ….
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StreamsFile {
    arm: String,
    care: Vec<Vec<Num>>,
    intervention: Vec<Vec<Num>>,
    outcomes: Vec<Vec<Num>>,
    occupancy: Vec<Vec<Num>>,
    entries: Vec<Vec<Num>>,
    participants: Num,
    program: Option<ProgramStreamsFile>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProgramStreamsFile {
    years: u32,
    children_per_year: Num,
    fixed_costs: Vec<Num>,
}

/// The bins holding anything, as `[bin, count, sum]`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct HistogramFile {
    bins: Vec<(usize, u64, Num)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_the_aligned_pieces_of_a_range() {
        assert_eq!(block_layout(0..13), vec![(0, 8), (8, 4), (12, 1)]);
        assert_eq!(block_layout(3..12), vec![(3, 1), (4, 4), (8, 4)]);
        assert_eq!(block_layout(7..30), vec![(7, 1), (8, 8), (16, 8), (24, 4), (28, 2)]);
        assert_eq!(block_layout(5..6), vec![(5, 1)]);
    }

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
