//! A run as CSV files a spreadsheet opens directly (`lifecost run --csv DIR`).
//!
//! - `streams.csv`: the expected yearly streams per child, undiscounted, one
//!   line per arm, payer and cycle: `arm, payer, payer_name, cycle, age,
//!   care, intervention` (`intervention` includes the child's share of the
//!   program's fixed costs in cycle 0).
//! - `draws.csv`: one line per draw and intervention: savings, intervention
//!   cost, NPV, BCR, ROI and the public payers' net, then savings and cost
//!   per payer (`savings_<payer>`, `cost_<payer>`).
//! - `summary.csv`: one line per figure: `subject, figure, mean, se, p2_5,
//!   p5, p50, p95, p97_5`; the subject is an arm (its lifetime cost) or an
//!   intervention (savings, cost, NPV, BCR, ROI, program NPV,
//!   P(NPV > 0) with its standard error, payback years of the expected
//!   streams, the last two without spread).
//! - `budget.csv`: the program's undiscounted budget impact per calendar
//!   year and payer: `intervention, year, payer, cost, savings, net`.
//!
//! Fields are separated by commas and quoted as RFC 4180 asks; numbers use
//! a decimal point and Rust's shortest representation that reads back to the
//! same `f64` (no exponent); an undefined figure is an empty cell. Files
//! start with a UTF-8 byte-order mark, which tells spreadsheet programs the
//! encoding (payer names such as `Kommun – socialtjänst`), and lines end in `\n`.
//!
//! # Example
//!
//! ```
//! # fn main() -> Result<(), lifecost::Error> {
//! let scenario = lifecost::Scenario::default_scenario()?;
//! let run = lifecost::Simulation::new(&scenario).draws(10).run()?;
//! for (name, text) in lifecost::report::csv::files(&scenario, &run) {
//!     assert!(name.ends_with(".csv") && text.lines().count() > 1);
//! }
//! # Ok(()) }
//! ```

use std::fmt::Write;

use crate::economics::intervention_stream;
use crate::result::RunResult;
use crate::scenario::Scenario;
use crate::stats::Estimate;

/// The byte-order mark that starts every file.
const BOM: &str = "\u{feff}";

/// The CSV files of a run of `scenario`, as `(file name, contents)`.
pub fn files(scenario: &Scenario, run: &RunResult) -> Vec<(&'static str, String)> {
    vec![
        ("streams.csv", streams(run, scenario.spec().scenario.start_age)),
        ("draws.csv", draws(run)),
        ("summary.csv", summary(run)),
        ("budget.csv", budget(run)),
    ]
}

fn streams(run: &RunResult, start_age: u32) -> String {
    let mut out = format!("{BOM}arm,payer,payer_name,cycle,age,care,intervention\n");
    for s in run.base_streams() {
        let own = intervention_stream(s);
        for (p, (id, name, _)) in run.payers.iter().enumerate() {
            for t in 0..s.n_cycles() {
                let _ = writeln!(
                    out,
                    "{},{},{},{t},{},{},{}",
                    text(&s.arm),
                    text(id),
                    text(name),
                    start_age as usize + t,
                    number(Some(s.care[(p, t)])),
                    number(Some(own[(p, t)]))
                );
            }
        }
    }
    out
}

fn draws(run: &RunResult) -> String {
    let mut out = format!("{BOM}draw,intervention,savings,intervention_cost,npv,bcr,roi,public_net");
    for (id, _, _) in &run.payers {
        let _ = write!(
            out,
            ",{},{}",
            text(&format!("savings_{id}")),
            text(&format!("cost_{id}"))
        );
    }
    out.push('\n');
    for (d, figures) in run.draws().iter().enumerate() {
        for (c, (id, _)) in figures.comparisons.iter().zip(&run.intervention_ids) {
            let _ = write!(
                out,
                "{d},{},{},{},{},{},{},{}",
                text(id),
                number(Some(c.savings)),
                number(Some(c.intervention_cost)),
                number(Some(c.npv)),
                number(c.bcr),
                number(c.roi),
                number(Some(c.public_net))
            );
            for f in &c.by_payer {
                let _ = write!(out, ",{},{}", number(Some(f.savings)), number(Some(f.cost)));
            }
            out.push('\n');
        }
    }
    out
}

fn summary(run: &RunResult) -> String {
    let mut out = format!("{BOM}subject,figure,mean,se,p2_5,p5,p50,p95,p97_5\n");
    let mut cells = |subject: &str, figure: &str, values: [Option<f64>; 7]| {
        let _ = writeln!(out, "{},{figure},{}", text(subject), values.map(number).join(","));
    };
    let estimate = |e: Option<Estimate>| match e {
        Some(e) => [e.mean, e.se, e.p2_5, e.p5, e.p50, e.p95, e.p97_5].map(Some),
        None => [None; 7],
    };
    // A figure of the expected streams has a value but no spread across draws.
    let single = |x: Option<f64>, se: Option<f64>| [x, se, None, None, None, None, None];
    for (a, id) in run.arm_ids().enumerate() {
        cells(id, "cost", estimate(Some(run.arm_estimate(a, |f| f.cost))));
    }
    for c in run.comparisons() {
        let id = c.intervention();
        cells(id, "savings", estimate(Some(c.savings())));
        cells(id, "intervention_cost", estimate(Some(c.intervention_cost())));
        cells(id, "npv", estimate(Some(c.npv())));
        cells(id, "bcr", estimate(c.bcr()));
        cells(id, "roi", estimate(c.roi()));
        cells(id, "program_npv", estimate(c.estimate(|f| Some(f.program.npv))));
        let (p, se) = c.prob_npv_positive();
        let (discounted, undiscounted) = c.payback_year();
        for (figure, values) in [
            ("prob_npv_positive", single(Some(p), Some(se))),
            ("payback_discounted", single(discounted, None)),
            ("payback_undiscounted", single(undiscounted, None)),
        ] {
            cells(id, figure, values);
        }
    }
    out
}

fn budget(run: &RunResult) -> String {
    let mut out = format!("{BOM}intervention,year,payer,cost,savings,net\n");
    for c in run.comparisons() {
        let program = &c.base().program;
        for (y, row) in program.budget.iter().enumerate() {
            for ((id, _, _), f) in run.payers.iter().zip(row) {
                let _ = writeln!(
                    out,
                    "{},{},{},{},{},{}",
                    text(c.intervention()),
                    program.start_year + y as i32,
                    text(id),
                    number(Some(f.cost)),
                    number(Some(f.savings)),
                    number(Some(f.net))
                );
            }
        }
    }
    out
}

/// Shortest round-trip form without exponent; NaN, infinities and undefined figures are empty.
fn number(x: Option<f64>) -> String {
    match x {
        Some(v) if v.is_finite() => v.to_string(),
        _ => String::new(),
    }
}

/// RFC 4180: quoted when the text holds a comma, a double quote or a line break.
fn text(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}
