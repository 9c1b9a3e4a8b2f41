//! The `lifecost` command: a thin layer over the library.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use lifecost::shard::Part;
use lifecost::{Engine, Perspective, RunResult, Scenario, Simulation};

#[derive(Parser)]
#[command(
    name = "lifecost",
    version,
    about = "Lifetime public cost of children's trajectories, with and without early coordinated intervention"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario (the embedded default when none is named) and print the result.
    Run(RunArgs),
    /// Merge the part files of `run --draw-range` into the result of the whole run, byte for byte.
    Merge {
        /// Part files, in any order; together they must cover every draw of the run once.
        #[arg(required = true, value_name = "PART")]
        parts: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Write the result to this file (atomically) instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Also write streams.csv, draws.csv, summary.csv and budget.csv into this directory (created if missing).
        #[arg(long, value_name = "DIR")]
        csv: Option<PathBuf>,
        /// Overwrite existing output files.
        #[arg(long)]
        force: bool,
    },
    /// Check a scenario file and report the first problem found.
    Validate {
        /// Scenario file (.toml or .json); the embedded default when omitted.
        scenario: Option<PathBuf>,
    },
    /// Print the default scenario, to start a new one from.
    Init,
    /// Every parameter with its value or distribution, unit, payer, price year, source and confidence.
    Assumptions {
        /// Scenario file (.toml or .json); the embedded default when omitted.
        scenario: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// One-way sensitivity (tornado) of the NPV, and the NPV at discount rates 0–4 %.
    Sensitivity {
        /// Scenario file (.toml or .json); the embedded default when omitted.
        scenario: Option<PathBuf>,
        /// The intervention; the first one when omitted.
        #[arg(long)]
        intervention: Option<String>,
        /// Perspective; the scenario's own when omitted.
        #[arg(long, value_enum)]
        perspective: Option<PerspectiveArg>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Write the grant-ready report: one self-contained HTML file, or Markdown with its charts as SVG files beside it.
    Report(ReportArgs),
    /// Run a grid of parameter values and write one CSV row per point and intervention.
    Sweep {
        /// Scenario file (.toml or .json); the embedded default when omitted.
        scenario: Option<PathBuf>,
        /// A parameter and its values: NAME=FROM:TO:COUNT or NAME=V1,V2,…; may be repeated.
        #[arg(long, value_name = "NAME=VALUES", required = true)]
        vary: Vec<String>,
        /// PSA draws per point (none: the base case).
        #[arg(long)]
        draws: Option<u64>,
        /// Seed of every random stream.
        #[arg(long)]
        seed: Option<u64>,
        /// Perspective; the scenario's own when omitted.
        #[arg(long, value_enum)]
        perspective: Option<PerspectiveArg>,
        /// Write the CSV to this file (atomically) instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Overwrite the output file if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Value of information: EVPI per perspective, and EVPPI of parameter groups, from PSA draws.
    Voi {
        /// Scenario file (.toml or .json); the embedded default when omitted.
        scenario: Option<PathBuf>,
        /// PSA draws.
        #[arg(long, default_value_t = 1_000)]
        draws: u64,
        /// Seed of every random stream.
        #[arg(long)]
        seed: Option<u64>,
        /// A parameter group for EVPPI, comma-separated; may be repeated.
        #[arg(long = "evppi", value_name = "A,B,…")]
        groups: Vec<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// No progress bar.
        #[arg(long, short)]
        quiet: bool,
    },
}

#[derive(clap::Args, Default)]
struct RunArgs {
    /// Scenario file (.toml or .json); the embedded default when omitted.
    scenario: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Engine used for each draw.
    #[arg(long, value_enum, default_value_t = EngineArg::Cohort)]
    engine: EngineArg,
    /// Perspective of the headline figures; the scenario's own when omitted.
    #[arg(long, value_enum)]
    perspective: Option<PerspectiveArg>,
    /// Seed of every random stream.
    #[arg(long)]
    seed: Option<u64>,
    /// Probabilistic sensitivity analysis: draws of every uncertain parameter.
    #[arg(long)]
    draws: Option<u64>,
    /// Children simulated per draw (microsim).
    #[arg(long)]
    children: Option<u64>,
    /// Add draws (or children) until the standard error of every NPV is at most this share of it, e.g. 0.01.
    #[arg(long)]
    precision: Option<f64>,
    /// Cap on draws for --precision.
    #[arg(long, default_value_t = lifecost::DEFAULT_MAX_DRAWS)]
    max_draws: u64,
    /// Cap on children per draw for --precision (microsim).
    #[arg(long, default_value_t = lifecost::DEFAULT_MAX_CHILDREN)]
    max_children: u64,
    /// Run even a very large simulation (more than 100 000 draws or 100 million children).
    #[arg(long)]
    yes: bool,
    /// With --draws: P(NPV > 0) at effect fractions 0, 0.1, …, 1 (the break-even curve).
    #[arg(long)]
    break_even_curve: bool,
    /// A costly state (e.g. residential_care): how many children the program must keep out of it to pay back.
    #[arg(long, value_name = "STATE")]
    break_even_state: Option<String>,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
    /// Also write streams.csv, draws.csv, summary.csv and budget.csv into this directory (created if missing).
    #[arg(long, value_name = "DIR")]
    csv: Option<PathBuf>,
    /// Run only draws A..B of the --draws N (0 ≤ A < B ≤ N) and write them to the part file --out, for `lifecost merge`.
    #[arg(long, value_name = "A..B")]
    draw_range: Option<String>,
    /// The part file of --draw-range, written atomically.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Overwrite existing output files (CSV, the part file).
    #[arg(long)]
    force: bool,
}

#[derive(clap::Args)]
struct ReportArgs {
    /// Scenario file (.toml or .json); the embedded default when omitted.
    scenario: Option<PathBuf>,
    /// Output file; HTML goes to standard output when omitted. Markdown needs a file: its charts go beside it.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Html)]
    format: ReportFormat,
    /// Language of labels and number formatting.
    #[arg(long, value_enum, default_value_t = LangArg::En)]
    lang: LangArg,
    /// The intervention; the first one when omitted.
    #[arg(long)]
    intervention: Option<String>,
    /// Perspective of the headline figures; the scenario's own when omitted.
    #[arg(long, value_enum)]
    perspective: Option<PerspectiveArg>,
    /// Engine used for each draw.
    #[arg(long, value_enum, default_value_t = EngineArg::Cohort)]
    engine: EngineArg,
    /// Draws of every uncertain parameter, for the intervals, P(NPV > 0) and the histogram.
    #[arg(long, default_value_t = lifecost::report::html::DEFAULT_DRAWS)]
    draws: u64,
    /// Seed of every random stream.
    #[arg(long)]
    seed: Option<u64>,
    /// Children simulated per draw (microsim).
    #[arg(long)]
    children: Option<u64>,
    /// The costly state of the break-even sentence; the costliest state per year when omitted.
    #[arg(long, value_name = "STATE")]
    break_even_state: Option<String>,
    /// Overwrite existing output files.
    #[arg(long)]
    force: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum ReportFormat {
    Html,
    Md,
}

#[derive(Clone, Copy, ValueEnum)]
enum LangArg {
    En,
    Sv,
}

#[derive(Clone, Copy, Default, ValueEnum)]
enum Format {
    #[default]
    Text,
    Json,
}

#[derive(Clone, Copy, Default, ValueEnum)]
enum EngineArg {
    #[default]
    Cohort,
    Microsim,
}

#[derive(Clone, Copy, ValueEnum)]
enum PerspectiveArg {
    Fiscal,
    Societal,
}

/// Exit code for a scenario or file the user must fix.
const BAD_INPUT: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command.unwrap_or(Command::Run(RunArgs::default())) {
        Command::Run(args) => run(&args),
        Command::Merge {
            parts,
            format,
            output,
            csv,
            force,
        } => merge(&parts, format, output.as_ref(), csv.as_ref(), force),
        Command::Validate { scenario } => load(scenario.as_ref()).map(|s| {
            format!(
                "{}: valid — {} states, {} payers, {} parameters, {} intervention(s)\n",
                scenario
                    .as_ref()
                    .map_or("default scenario".to_owned(), |p| p.display().to_string()),
                s.states().len(),
                s.payers().len(),
                s.parameters().iter().filter(|p| p.named).count(),
                s.interventions().len()
            )
        }),
        Command::Init => Ok(lifecost::scenario::DEFAULT_SCENARIO_TOML.to_owned()),
        Command::Sensitivity {
            scenario,
            intervention,
            perspective,
            format,
        } => sensitivity(scenario.as_ref(), intervention.as_deref(), perspective, format),
        Command::Assumptions { scenario, format } => load(scenario.as_ref()).map(|s| {
            let table = lifecost::report::assumptions::Assumptions::of(&s);
            match format {
                Format::Text => table.to_text(),
                Format::Json => json_text(&table.to_json()),
            }
        }),
        Command::Report(args) => report(&args),
        Command::Sweep {
            scenario,
            vary,
            draws,
            seed,
            perspective,
            output,
            force,
        } => sweep(
            scenario.as_ref(),
            &vary,
            draws,
            seed,
            perspective,
            output.as_ref(),
            force,
        ),
        Command::Voi {
            scenario,
            draws,
            seed,
            groups,
            format,
            quiet,
        } => voi(scenario.as_ref(), draws, seed, &groups, format, quiet),
    };
    match result {
        Ok(text) => {
            // A closed pipe (e.g. `| head`) is not an error worth a panic.
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
            ExitCode::SUCCESS
        }
        Err(e) => {
            let message = e.to_string().replace('\n', " ");
            let _ = writeln!(std::io::stderr().lock(), "error: {message}");
            ExitCode::from(BAD_INPUT)
        }
    }
}

fn load(path: Option<&PathBuf>) -> lifecost::Result<Scenario> {
    match path {
        Some(p) => Scenario::from_path(p),
        None => Scenario::default_scenario(),
    }
}

fn perspective_of(arg: PerspectiveArg) -> Perspective {
    match arg {
        PerspectiveArg::Fiscal => Perspective::Fiscal,
        PerspectiveArg::Societal => Perspective::Societal,
    }
}

fn json_text(value: &serde_json::Value) -> String {
    let mut s = serde_json::to_string_pretty(value).unwrap_or_default();
    s.push('\n');
    s
}

fn sensitivity(
    path: Option<&PathBuf>,
    intervention: Option<&str>,
    perspective: Option<PerspectiveArg>,
    format: Format,
) -> lifecost::Result<String> {
    let scenario = load(path)?;
    let id = match intervention {
        Some(id) => id.to_owned(),
        None => first_intervention(&scenario)?,
    };
    let perspective = perspective.map_or(scenario.perspective(), perspective_of);
    let result = lifecost::analysis::sensitivity::one_way(&scenario, &id, perspective)?;
    Ok(match format {
        Format::Text => with_flags(&scenario, result.to_text()),
        Format::Json => json_with_flags(&scenario, result.to_json()),
    })
}

fn bad_input(path: &str, message: String) -> lifecost::Error {
    lifecost::Error::Scenario(lifecost::ScenarioError {
        path: path.to_owned(),
        message,
        location: None,
    })
}

fn sweep(
    path: Option<&PathBuf>,
    vary: &[String],
    draws: Option<u64>,
    seed: Option<u64>,
    perspective: Option<PerspectiveArg>,
    output: Option<&PathBuf>,
    force: bool,
) -> lifecost::Result<String> {
    use lifecost::analysis::sweep::{Axis, sweep, to_csv};
    let scenario = load(path)?;
    let axes = vary
        .iter()
        .enumerate()
        .map(|(i, text)| text.parse::<Axis>().map_err(|m| bad_input(&format!("--vary[{i}]"), m)))
        .collect::<lifecost::Result<Vec<Axis>>>()?;
    let mut sim = Simulation::new(&scenario);
    if let Some(n) = draws {
        sim = sim.draws(n);
    }
    if let Some(seed) = seed {
        sim = sim.seed(seed);
    }
    if let Some(p) = perspective {
        sim = sim.perspective(perspective_of(p));
    }
    let csv = to_csv(&axes, &sweep(&sim, &scenario, &axes)?);
    match output {
        None => Ok(csv),
        Some(file) => {
            write_file(file, csv.as_bytes(), force)?;
            Ok(String::new())
        }
    }
}

/// Adds the line flagging unverified figures and assumptions to an analysis's JSON.
fn json_with_flags(scenario: &Scenario, mut value: serde_json::Value) -> String {
    if let Some(object) = value.as_object_mut() {
        let flags = lifecost::report::assumptions::flagged_summary(scenario);
        object.insert(
            "flags".to_owned(),
            flags.map_or(serde_json::Value::Null, serde_json::Value::String),
        );
    }
    json_text(&value)
}

/// Puts the line flagging unverified figures and assumptions above an analysis that rests on them.
fn with_flags(scenario: &Scenario, text: String) -> String {
    match lifecost::report::assumptions::flagged_summary(scenario) {
        Some(flags) => format!("! {flags}\n\n{text}"),
        None => text,
    }
}

fn first_intervention(scenario: &Scenario) -> lifecost::Result<String> {
    scenario.interventions().first().map(|i| i.id.clone()).ok_or_else(|| {
        bad_input(
            "interventions",
            "is empty; expected an intervention to analyse".to_owned(),
        )
    })
}

fn voi(
    path: Option<&PathBuf>,
    draws: u64,
    seed: Option<u64>,
    groups: &[String],
    format: Format,
    quiet: bool,
) -> lifecost::Result<String> {
    let scenario = load(path)?;
    let groups: Vec<Vec<&str>> = groups
        .iter()
        .map(|g| g.split(',').map(str::trim).filter(|n| !n.is_empty()).collect())
        .collect();
    let groups: Vec<&[&str]> = groups.iter().map(Vec::as_slice).collect();
    let bar = progress_bar(quiet);
    let report = |done: u64, total: u64| bar.update(done, total);
    let mut text = String::new();
    let mut json = serde_json::Map::new();
    for perspective in [Perspective::Fiscal, Perspective::Societal] {
        let mut sim = Simulation::new(&scenario)
            .perspective(perspective)
            .draws(draws.max(2))
            .progress(&report);
        if let Some(seed) = seed {
            sim = sim.seed(seed);
        }
        let run = sim.run()?;
        let voi = lifecost::analysis::voi::Voi::new(&scenario, &run, &groups)?;
        text.push_str(&voi.to_text(scenario.currency()));
        text.push('\n');
        json.insert(perspective.as_str().to_owned(), voi.to_json());
    }
    bar.finish();
    Ok(match format {
        Format::Text => with_flags(&scenario, text),
        Format::Json => json_with_flags(&scenario, serde_json::Value::Object(json)),
    })
}

/// Draws and children above which the CLI asks for `--yes`.
const LARGE_DRAWS: u64 = 100_000;
const LARGE_CHILDREN: u64 = 100_000_000;

/// Refuses a very large run unless confirmed, so a typo does not start hours of work.
fn confirm_size(draws: u64, children: u64, yes: bool) -> lifecost::Result<()> {
    if yes || (draws <= LARGE_DRAWS && children <= LARGE_CHILDREN) {
        return Ok(());
    }
    let (path, value, limit) = if draws > LARGE_DRAWS {
        ("--draws", draws, LARGE_DRAWS)
    } else {
        ("--children", children, LARGE_CHILDREN)
    };
    Err(bad_input(
        path,
        format!("is {value}, above {limit}: a run that may take very long; add --yes to run it"),
    ))
}

fn run(args: &RunArgs) -> lifecost::Result<String> {
    let range = match &args.draw_range {
        Some(text) => Some(draw_range(args, text)?),
        None => None,
    };
    if range.is_none() && args.out.is_some() {
        return Err(bad_input(
            "--out",
            "is the part file of a draw range; expected it with --draw-range A..B".to_owned(),
        ));
    }
    let scenario = load(args.scenario.as_ref())?;
    let draws = match (&range, args.precision) {
        (Some(r), _) => r.end - r.start,
        (None, Some(_)) => args.max_draws,
        (None, None) => args.draws.unwrap_or(1),
    };
    let children = match args.engine {
        EngineArg::Microsim if args.precision.is_some() => args.max_children,
        EngineArg::Microsim => args.children.unwrap_or(lifecost::DEFAULT_CHILDREN),
        EngineArg::Cohort => 0,
    };
    confirm_size(draws, children, args.yes)?;
    let mut sim = Simulation::new(&scenario)
        .engine(match args.engine {
            EngineArg::Cohort => Engine::Cohort,
            EngineArg::Microsim => Engine::Microsim,
        })
        .caps(args.max_draws, args.max_children);
    if let Some(p) = args.perspective {
        sim = sim.perspective(perspective_of(p));
    }
    if let Some(seed) = args.seed {
        sim = sim.seed(seed);
    }
    if let Some(n) = args.draws {
        sim = sim.draws(n);
    }
    if let Some(n) = args.children {
        sim = sim.children(n);
    }
    if let Some(state) = &args.break_even_state {
        sim = sim.break_even_state(state.clone());
    }
    sim = sim.break_even_curve(args.break_even_curve);
    if let Some(p) = args.precision {
        // Adaptive precision over draws needs a PSA; start it at the first round.
        if args.draws.is_none() && matches!(args.engine, EngineArg::Cohort) {
            sim = sim.draws(1);
        }
        sim = sim.precision(p);
    }
    let bar = progress_bar(args.quiet);
    let report = |done: u64, total: u64| bar.update(done, total);
    if let (Some(range), Some(out)) = (range, &args.out) {
        let part = sim.progress(&report).draw_range(range)?;
        bar.finish();
        write_file(out, part.to_json().as_bytes(), args.force)?;
        return Ok(String::new());
    }
    let result = sim.progress(&report).run()?;
    bar.finish();
    if let Some(dir) = &args.csv {
        write_csv(dir, &scenario, &result, args.force)?;
    }
    let text = result_text(&result, args.format);
    // The process ends next and hands the memory back at once; freeing a
    // large PSA's draws one by one would only delay the output.
    std::mem::forget(result);
    Ok(text)
}

/// Reads `--draw-range A..B` and refuses what a part cannot be run with.
fn draw_range(args: &RunArgs, text: &str) -> lifecost::Result<std::ops::Range<u64>> {
    let Some(n) = args.draws else {
        return Err(bad_input(
            "--draw-range",
            format!("is {text} without --draws; expected --draws N, the draws of the whole run"),
        ));
    };
    if let Some(p) = args.precision {
        return Err(bad_input(
            "--precision",
            format!(
                "is {p} with --draw-range; expected no precision target when a run is split (its number of draws is not known in advance)"
            ),
        ));
    }
    if args.csv.is_some() {
        return Err(bad_input(
            "--csv",
            "is given with --draw-range; expected it on `lifecost merge`, which has every draw".to_owned(),
        ));
    }
    if args.out.is_none() {
        return Err(bad_input(
            "--out",
            "is missing; expected the part file to write, e.g. --out part-0.json".to_owned(),
        ));
    }
    let parsed = text
        .split_once("..")
        .and_then(|(a, b)| Some((a.trim().parse::<u64>().ok()?, b.trim().parse::<u64>().ok()?)));
    match parsed {
        Some((a, b)) if a < b && b <= n => Ok(a..b),
        _ => Err(bad_input(
            "--draw-range",
            format!(
                "is `{text}`; expected A..B with 0 ≤ A < B ≤ {n} (--draws), e.g. 0..{}",
                n.div_ceil(2)
            ),
        )),
    }
}

fn merge(
    paths: &[PathBuf],
    format: Format,
    output: Option<&PathBuf>,
    csv: Option<&PathBuf>,
    force: bool,
) -> lifecost::Result<String> {
    let parts = paths.iter().map(Part::read).collect::<lifecost::Result<Vec<Part>>>()?;
    let result = lifecost::shard::merge(&parts)?;
    if let (Some(dir), Some(first)) = (csv, parts.first()) {
        write_csv(dir, first.scenario(), &result, force)?;
    }
    let text = result_text(&result, format);
    match output {
        None => Ok(text),
        Some(file) => {
            write_file(file, text.as_bytes(), force)?;
            Ok(String::new())
        }
    }
}

fn result_text(result: &RunResult, format: Format) -> String {
    match format {
        Format::Text => result.summary(),
        Format::Json => json_text(&result.to_json()),
    }
}

/// Writes the CSV files of a result into `dir`, created if missing.
fn write_csv(dir: &Path, scenario: &Scenario, result: &RunResult, force: bool) -> lifecost::Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| lifecost::Error::Write {
        path: dir.to_owned(),
        source,
    })?;
    let files: Vec<(PathBuf, String)> = lifecost::report::csv::files(scenario, result)
        .into_iter()
        .map(|(name, text)| (dir.join(name), text))
        .collect();
    write_files(&files, force)
}

fn write_file(path: &Path, contents: &[u8], force: bool) -> lifecost::Result<()> {
    lifecost::report::output::write_atomic(path, contents, force).map_err(|source| lifecost::Error::Write {
        path: path.to_owned(),
        source,
    })
}

/// Writes every file, each atomically; without `force`, refuses before
/// writing any of them if one exists, so a set is never half replaced.
fn write_files(files: &[(PathBuf, String)], force: bool) -> lifecost::Result<()> {
    if !force && let Some((path, _)) = files.iter().find(|(p, _)| p.symlink_metadata().is_ok()) {
        return write_file(path, b"", false);
    }
    for (path, text) in files {
        write_file(path, text.as_bytes(), force)?;
    }
    Ok(())
}

fn report(args: &ReportArgs) -> lifecost::Result<String> {
    use lifecost::report::html::{Options, Report};
    use lifecost::report::lang::Lang;
    let scenario = load(args.scenario.as_ref())?;
    let lang = match args.lang {
        LangArg::En => Lang::En,
        LangArg::Sv => Lang::Sv,
    };
    if matches!(args.format, ReportFormat::Md) && args.output.is_none() {
        return Err(bad_input(
            "--output",
            "is missing; expected a file for the Markdown, e.g. -o report.md (its charts are written beside it)"
                .to_owned(),
        ));
    }
    let mut options = Options {
        intervention: args.intervention.clone(),
        perspective: args.perspective.map(perspective_of),
        draws: args.draws,
        engine: match args.engine {
            EngineArg::Cohort => Engine::Cohort,
            EngineArg::Microsim => Engine::Microsim,
        },
        children: args.children,
        break_even_state: args.break_even_state.clone(),
        ..Options::default()
    };
    if let Some(seed) = args.seed {
        options.seed = seed;
    }
    let report = Report::new(&scenario, options)?;
    match (args.format, &args.output) {
        (ReportFormat::Html, None) => Ok(report.html(lang)),
        (ReportFormat::Html, Some(file)) => {
            write_file(file, report.html(lang).as_bytes(), args.force)?;
            Ok(String::new())
        }
        (ReportFormat::Md, Some(file)) => {
            let stem = file.file_stem().map_or("report".into(), |s| s.to_string_lossy());
            let dir = file.parent().unwrap_or(Path::new(""));
            let (text, charts) = lifecost::report::markdown::render(&report, lang, &stem);
            // Charts first, so the Markdown never points at a file not yet there.
            let mut files: Vec<(PathBuf, String)> = charts.into_iter().map(|(n, svg)| (dir.join(n), svg)).collect();
            files.push((file.clone(), text));
            write_files(&files, args.force)?;
            Ok(String::new())
        }
        (ReportFormat::Md, None) => Ok(String::new()),
    }
}

/// A progress bar on stderr that appears only after a second, and never when
/// stderr is not a terminal or with `--quiet`.
struct Bar {
    bar: Option<indicatif::ProgressBar>,
    started: std::time::Instant,
}

fn progress_bar(quiet: bool) -> Bar {
    use std::io::IsTerminal;
    let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::hidden();
        if let Ok(style) = indicatif::ProgressStyle::with_template("{bar:40} {percent:>3} %, {eta} left") {
            bar.set_style(style);
        }
        bar
    });
    Bar {
        bar,
        started: std::time::Instant::now(),
    }
}

impl Bar {
    fn update(&self, done: u64, total: u64) {
        let Some(bar) = &self.bar else { return };
        if bar.is_hidden() && self.started.elapsed() > std::time::Duration::from_secs(1) {
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        }
        bar.set_length(total);
        bar.set_position(done);
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
