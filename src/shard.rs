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

mod file;
mod read;

use std::collections::BTreeMap;
use std::fmt::Display;
use std::ops::Range;
use std::path::Path;

use crate::engine::ArmStreams;
use crate::error::{Error, Result, ScenarioError};
use crate::result::RunResult;
use crate::scenario::{Perspective, Scenario};
use crate::simulation::{Engine, Figures, Simulation};
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
        crate::engine::cohort::recycle(right.streams);
    }
}

/// Whether blocks `(first, size)` `left` and `right` are the two halves of one aligned block.
fn halves(left: (u64, u64), right: (u64, u64)) -> bool {
    left.1 == right.1 && left.0.is_multiple_of(2 * left.1) && left.0 + left.1 == right.0
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

    /// Adds the next draw's streams (and histograms).
    pub fn push(&mut self, streams: Vec<ArmStreams>, lifetime_cost: Vec<Histogram>) {
        self.push_block(Block {
            first: self.next,
            size: 1,
            streams,
            lifetime_cost,
        });
    }

    /// Adds the sum of the aligned block of draws that follows (see
    /// [`aligned_blocks`]): the same to the bit as adding its draws one at a
    /// time, since no piece of an aligned block pairs with a block before it.
    pub fn push_block(&mut self, block: Block) {
        debug_assert!(block.first == self.next && block.first.is_multiple_of(block.size));
        self.next += block.size;
        self.stack.push(block);
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

/// `range` cut into aligned blocks `(first, size)` of at most `most` draws
/// (a power of two), each as large as its start and the range allow: the
/// pieces a run evaluates one task each and adds to its [`TreeSum`].
pub(crate) fn aligned_blocks(range: Range<u64>, most: u64) -> Vec<(u64, u64)> {
    let mut blocks = Vec::new();
    let mut next = range.start;
    while next < range.end {
        let mut size = 1u64;
        while 2 * size <= most && next.is_multiple_of(2 * size) && 2 * size <= range.end - next {
            size *= 2;
        }
        blocks.push((next, size));
        next += size;
    }
    blocks
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
        file::to_json(self)
    }

    /// Reads a part file written by [`Part::to_json`], named `part` in errors.
    ///
    /// # Errors
    ///
    /// [`Error::Scenario`] naming the field path, the value and what was
    /// expected when the text is not a part of this lifecost version, or is
    /// inconsistent with its own scenario and settings.
    pub fn from_json_str(text: &str) -> Result<Part> {
        read::parse(text, "part")
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
        read::parse(&text, &name)
    }
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
}
