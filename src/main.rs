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
    /// Seed recorded with the result.
    #[arg(long)]
    seed: Option<u64>,
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

fn run(args: &RunArgs) -> lifecost::Result<String> {
    let scenario = load(args.scenario.as_ref())?;
    let mut sim = Simulation::new(&scenario).engine(match args.engine {
        EngineArg::Cohort => Engine::Cohort,
    });
    if let Some(p) = args.perspective {
        sim = sim.perspective(match p {
            PerspectiveArg::Fiscal => Perspective::Fiscal,
            PerspectiveArg::Societal => Perspective::Societal,
        });
    }
    if let Some(seed) = args.seed {
        sim = sim.seed(seed);
    }
    let result = sim.run()?;
    Ok(match args.format {
        Format::Text => result.summary(),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&result.to_json()).unwrap_or_default();
            s.push('\n');
            s
        }
    })
}
