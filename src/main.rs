//! The `lifecost` command: a thin layer over the library.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use lifecost::{Engine, Perspective, Scenario, Simulation};

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
    /// With --draws: P(NPV > 0) at effect fractions 0, 0.1, …, 1 (the break-even curve).
    #[arg(long)]
    break_even_curve: bool,
    /// A costly state (e.g. residential_care): how many children the program must keep out of it to pay back.
    #[arg(long, value_name = "STATE")]
    break_even_state: Option<String>,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
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
        Format::Text => result.to_text(),
        Format::Json => json_text(&result.to_json()),
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
            lifecost::report::output::write_atomic(file, csv.as_bytes(), force).map_err(|source| {
                lifecost::Error::Write {
                    path: file.clone(),
                    source,
                }
            })?;
            Ok(String::new())
        }
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
        Format::Text => text,
        Format::Json => json_text(&serde_json::Value::Object(json)),
    })
}

fn run(args: &RunArgs) -> lifecost::Result<String> {
    let scenario = load(args.scenario.as_ref())?;
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
    let result = sim.progress(&report).run()?;
    bar.finish();
    Ok(match args.format {
        Format::Text => result.summary(),
        Format::Json => json_text(&result.to_json()),
    })
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
