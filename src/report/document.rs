//! The grant-ready report: its figures ([`Report`]) and its content as a
//! list of blocks, which [`super::html`] and [`super::markdown`] render.
//!
//! [`Report::new`] runs everything the report shows: a probabilistic run
//! with draws (intervals, P(NPV > 0), the NPV histogram, the break-even
//! curve), each draw's yearly streams again through the cohort engine for a
//! true per-year 90 % band of the cumulative net benefit, and the one-way
//! sensitivity. [`Report::html`] and [`super::markdown`] render the same
//! blocks, in English or Swedish ([`Lang`]).
//!
//! Blocks hold text as written; the renderers escape it.
//!
//! # Example
//!
//! ```
//! # fn main() -> Result<(), lifecost::Error> {
//! use lifecost::report::html::{Options, Report};
//! use lifecost::report::lang::Lang;
//!
//! let scenario = lifecost::Scenario::default_scenario()?;
//! let report = Report::new(&scenario, Options { draws: 50, ..Options::default() })?;
//! let html = report.html(Lang::Sv);
//! assert!(html.contains("<section id=\"headline\">"));
//! # Ok(()) }
//! ```

use rayon::prelude::*;

use super::assumptions::Assumptions;
use super::charts::{self, Labels as ChartLabels, Panel};
use super::lang::Lang;
use crate::analysis::sensitivity::{self, Sensitivity};
use crate::economics::{self, Frame};
use crate::engine::{ArmStreams, cohort};
use crate::error::{Error, Result, ScenarioError};
use crate::model::Model;
use crate::result::{Comparison, RunResult};
use crate::scenario::{Perspective, Scenario};
use crate::simulation::{DEFAULT_SEED, Engine, Simulation, draw_values};
use crate::stats::{Estimate, quantile_sorted};

/// The ids of the report's sections, in order; each is an HTML `<section id>`.
pub const SECTIONS: [&str; 12] = [
    "summary",
    "headline",
    "payers",
    "cumulative",
    "annual-cost",
    "npv-distribution",
    "tornado",
    "who-pays",
    "break-even",
    "budget",
    "assumptions",
    "reproducibility",
];

/// Draws of a report run. The default of [`Options::draws`].
pub const DEFAULT_DRAWS: u64 = 1_000;

/// Bars shown in the tornado.
const TORNADO_BARS: usize = 15;

/// What the report runs.
#[derive(Clone, Debug)]
pub struct Options {
    /// The intervention reported on. The default is the scenario's first.
    pub intervention: Option<String>,
    /// The perspective of the headline figures. The default is the scenario's own.
    pub perspective: Option<Perspective>,
    /// Draws of the probabilistic sensitivity analysis. The default is [`DEFAULT_DRAWS`].
    pub draws: u64,
    /// The seed of every random stream. The default is [`DEFAULT_SEED`].
    pub seed: u64,
    /// The engine. The default is [`Engine::Cohort`]; with the microsimulation
    /// the cumulative chart shows the expected line without a band.
    pub engine: Engine,
    /// Children per draw of the microsimulation. The default is the library's.
    pub children: Option<u64>,
    /// The costly state whose avoided entries the break-even sentence counts.
    /// The default is the state with the highest annual cost in the perspective.
    pub break_even_state: Option<String>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            intervention: None,
            perspective: None,
            draws: DEFAULT_DRAWS,
            seed: DEFAULT_SEED,
            engine: Engine::Cohort,
            children: None,
            break_even_state: None,
        }
    }
}

/// The cumulative discounted net benefit per child after each year.
#[derive(Clone, Debug)]
struct Cumulative {
    mean: Vec<f64>,
    /// 5th and 95th percentiles across draws, per year.
    band: Option<(Vec<f64>, Vec<f64>)>,
}

/// Everything the report shows, computed once; render it with [`Report::html`]
/// or [`super::markdown::render`].
#[derive(Debug)]
pub struct Report<'a> {
    scenario: &'a Scenario,
    run: RunResult,
    intervention: String,
    sensitivity: Sensitivity,
    cumulative: Cumulative,
    start_age: u32,
    options: Options,
}

/// One piece of the report's content; text is plain and escaped by each renderer.
#[derive(Clone, Debug)]
pub(crate) enum Block {
    Title(String),
    Subtitle(String),
    Section {
        id: &'static str,
        title: String,
    },
    Paragraph(String),
    Callout(String),
    Table(Table),
    Figure {
        name: &'static str,
        svg: String,
        caption: String,
    },
    Code(String),
}

/// A table: the header, rows of cells, which columns are numbers, and ids of single cells.
#[derive(Clone, Debug, Default)]
pub(crate) struct Table {
    pub head: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub numeric: Vec<bool>,
    /// `(row, column, id)`: cells that tests and readers can find by id.
    pub ids: Vec<(usize, usize, &'static str)>,
    pub class: &'static str,
}

fn engine_error(e: crate::engine::EngineError) -> Error {
    Error::Scenario(ScenarioError::new("", e.to_string()))
}

impl<'a> Report<'a> {
    /// Runs what the report shows.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownIntervention`] for an intervention the scenario does
    /// not have, [`Error::Scenario`] when the scenario has no intervention,
    /// names an unknown break-even state, or fails to run (see
    /// [`Simulation::run`] and [`sensitivity::one_way`]).
    pub fn new(scenario: &'a Scenario, options: Options) -> Result<Report<'a>> {
        let intervention = match &options.intervention {
            Some(id) => id.clone(),
            None => scenario.interventions().first().map(|i| i.id.clone()).ok_or_else(|| {
                ScenarioError::new("interventions", "is empty; expected an intervention to report on")
            })?,
        };
        let perspective = options.perspective.unwrap_or(scenario.perspective());
        let frame = Frame::new(scenario, perspective);
        let base_model = Model::compile(scenario, &scenario.base_values())?;
        let state = match &options.break_even_state {
            Some(s) => Some(s.clone()),
            None => costliest_state(scenario, &base_model, &frame),
        };
        let mut sim = Simulation::new(scenario)
            .perspective(perspective)
            .engine(options.engine)
            .seed(options.seed)
            .draws(options.draws)
            .break_even_curve(options.draws > 1);
        if let Some(n) = options.children {
            sim = sim.children(n);
        }
        if let Some(s) = state {
            sim = sim.break_even_state(s);
        }
        let run = sim.run()?;
        run.compare(&intervention)?;
        let k = position(scenario, &intervention);
        let sensitivity = sensitivity::one_way(scenario, &intervention, perspective)?;
        let streams = run.base_streams();
        let mean = cumulative_net(&frame, &streams[0], &streams[k + 1]);
        let band = if options.engine == Engine::Cohort && run.n_draws() > 1 {
            Some(band(scenario, &frame, options.seed, run.n_draws() as u64, k)?)
        } else {
            None
        };
        Ok(Report {
            scenario,
            intervention,
            sensitivity,
            cumulative: Cumulative { mean, band },
            start_age: base_model.start_age,
            run,
            options,
        })
    }

    /// The run behind the report.
    pub fn run(&self) -> &RunResult {
        &self.run
    }

    /// The reported intervention against the status quo.
    pub fn comparison(&self) -> Comparison<'_> {
        self.run
            .compare(&self.intervention)
            .expect("the intervention was checked when the report was built")
    }

    /// The one-way sensitivity behind the tornado.
    pub fn sensitivity(&self) -> &Sensitivity {
        &self.sensitivity
    }

    /// The report as one self-contained HTML file.
    pub fn html(&self, lang: Lang) -> String {
        super::html::render(&self.document(lang), lang)
    }

    fn money(&self, lang: Lang) -> impl Fn(f64) -> String {
        let currency = self.scenario.currency().to_owned();
        move |x| lang.money(x, &currency)
    }

    /// The report's content.
    pub(crate) fn document(&self, lang: Lang) -> Vec<Block> {
        let l = lang.labels();
        let c = self.comparison();
        let run = &self.run;
        let mut doc = vec![
            Block::Title(self.scenario.name().to_owned()),
            Block::Subtitle(lang.fill(
                l.subtitle,
                &[
                    ("intervention", c.name().to_owned()),
                    ("perspective", lang.perspective(run.perspective()).to_owned()),
                    ("currency", self.scenario.currency().to_owned()),
                    ("price_year", self.scenario.price_year().to_string()),
                ],
            )),
        ];
        if let Some(line) = self.flagged_line(lang) {
            doc.push(Block::Callout(line));
        }
        self.summary(lang, &mut doc);
        self.headline(lang, &mut doc);
        self.payers(lang, &mut doc);
        self.charts(lang, &mut doc);
        self.break_even(lang, &mut doc);
        self.budget(lang, &mut doc);
        self.assumptions(lang, &mut doc);
        self.reproducibility(lang, &mut doc);
        doc
    }

    fn flagged_line(&self, lang: Lang) -> Option<String> {
        let l = lang.labels();
        let table = Assumptions::of(self.scenario);
        let (mut unverified, mut assumption, mut unsourced) = (0, 0, 0);
        for (flagged, confidence) in table
            .rows
            .iter()
            .map(|r| (r.flagged, r.confidence))
            .chain(table.settings().map(|s| (s.flagged, s.confidence)))
            .filter(|(f, _)| *f)
        {
            match confidence {
                Some(crate::Confidence::Unverified) => unverified += 1,
                Some(crate::Confidence::Assumption) => assumption += 1,
                _ if flagged => unsourced += 1,
                _ => {}
            }
        }
        let parts: Vec<String> = [
            (unverified, l.flag_unverified),
            (assumption, l.flag_assumption),
            (unsourced, l.flag_unsourced),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, t)| lang.fill(t, &[("n", n.to_string())]))
        .collect();
        (!parts.is_empty()).then(|| lang.fill(l.flagged, &[("list", parts.join(", "))]))
    }

    fn summary(&self, lang: Lang, doc: &mut Vec<Block>) {
        let l = lang.labels();
        let c = self.comparison();
        let money = self.money(lang);
        doc.push(Block::Section {
            id: "summary",
            title: l.h_summary.to_owned(),
        });
        let npv = c.npv();
        let mut sentences = Vec::new();
        if npv.p95 > npv.p5 {
            sentences.push(lang.fill(
                l.s_npv_interval,
                &[("npv", money(npv.mean)), ("lo", money(npv.p5)), ("hi", money(npv.p95))],
            ));
            sentences.push(lang.fill(l.s_probability, &[("p", lang.percent(c.prob_npv_positive().0, 0))]));
        } else {
            sentences.push(lang.fill(l.s_npv_base, &[("npv", money(npv.mean))]));
        }
        let (d, u) = c.payback_year();
        let (d, u) = (d.map(|y| lang.years(Some(y))), u.map(|y| lang.years(Some(y))));
        sentences.push(match (d, u) {
            (Some(d), Some(u)) => lang.fill(l.s_payback_both, &[("d", d), ("u", u)]),
            (Some(d), None) => lang.fill(l.s_payback_discounted, &[("d", d)]),
            (None, Some(u)) => lang.fill(l.s_payback_budget_only, &[("u", u)]),
            (None, None) => l.s_payback_never.to_owned(),
        });
        sentences.extend(self.break_even_sentences(lang));
        let p = &c.base().program;
        sentences.push(lang.fill(
            l.s_program,
            &[
                ("children", lang.number(p.children, 0)),
                ("years", p.years.to_string()),
                (
                    "npv",
                    money(c.estimate(|f| Some(f.program.npv)).map_or(f64::NAN, |e| e.mean)),
                ),
            ],
        ));
        doc.push(Block::Paragraph(sentences.join(" ")));
    }

    fn break_even_sentences(&self, lang: Lang) -> Vec<String> {
        let l = lang.labels();
        let b = &self.comparison().base().break_even;
        let mut out = vec![match b.effect_scale {
            Some(0.0) => l.be_without_effect.to_owned(),
            Some(s) if s > 1.0 => lang.fill(l.be_effect_above, &[("share", lang.percent(s, 0))]),
            Some(s) => lang.fill(l.be_effect, &[("share", lang.percent(s, 0))]),
            None => l.be_never.to_owned(),
        }];
        if let (Some(state), Some(children)) = (&b.state, b.children) {
            let name = self
                .scenario
                .states()
                .iter()
                .find(|s| &s.id == state)
                .map_or(state.as_str(), |s| s.name.as_str());
            out.push(lang.fill(
                l.be_children,
                &[
                    ("children", lang.number(children, 1)),
                    ("state", name.to_owned()),
                    ("excess", self.money(lang)(b.excess_cost.unwrap_or(f64::NAN))),
                ],
            ));
        }
        out
    }

    fn headline(&self, lang: Lang, doc: &mut Vec<Block>) {
        let l = lang.labels();
        let c = self.comparison();
        let money = self.money(lang);
        doc.push(Block::Section {
            id: "headline",
            title: l.h_headline.to_owned(),
        });
        let interval = |e: &Estimate, f: &dyn Fn(f64) -> String| {
            if e.p95 > e.p5 {
                lang.interval(&f(e.p5), &f(e.p95))
            } else {
                "–".to_owned()
            }
        };
        let row = |label: &str, e: Option<Estimate>, f: &dyn Fn(f64) -> String| match e {
            Some(e) => vec![label.to_owned(), f(e.mean), interval(&e, f)],
            None => vec![label.to_owned(), l.not_defined.to_owned(), "–".to_owned()],
        };
        let ratio = |x: f64| lang.number(x, 2);
        let pct = |x: f64| lang.percent(x, 0);
        let (discounted, undiscounted) = c.payback_year();
        let program = c.base().program.children;
        let rows = vec![
            row(l.savings, Some(c.savings()), &money),
            row(l.intervention_cost, Some(c.intervention_cost()), &money),
            row(l.npv, Some(c.npv()), &money),
            row(l.bcr, c.bcr(), &ratio),
            row(l.roi, c.roi(), &pct),
            vec![
                l.prob_positive.to_owned(),
                lang.percent(c.prob_npv_positive().0, 0),
                "–".to_owned(),
            ],
            vec![l.payback_discounted.to_owned(), lang.years(discounted), "–".to_owned()],
            vec![l.payback_budget.to_owned(), lang.years(undiscounted), "–".to_owned()],
            row(
                &lang.fill(l.program_npv, &[("children", lang.number(program, 0))]),
                c.estimate(|f| Some(f.program.npv)),
                &money,
            ),
        ];
        doc.push(Block::Table(Table {
            head: vec![l.figure.to_owned(), l.mean.to_owned(), l.interval90.to_owned()],
            rows,
            numeric: vec![false, true, true],
            ids: vec![(2, 1, "headline-npv")],
            class: "headline",
        }));
        doc.push(Block::Paragraph(lang.fill(
            l.headline_note,
            &[("draws", lang.number(self.run.n_draws() as f64, 0))],
        )));
    }

    fn payers(&self, lang: Lang, doc: &mut Vec<Block>) {
        let l = lang.labels();
        let c = self.comparison();
        let money = self.money(lang);
        doc.push(Block::Section {
            id: "payers",
            title: l.h_payers.to_owned(),
        });
        let base = c.base();
        let interval = |e: &Estimate| {
            if e.p95 > e.p5 {
                lang.interval(&money(e.p5), &money(e.p95))
            } else {
                "–".to_owned()
            }
        };
        let mut rows = Vec::new();
        for (p, payer) in self.scenario.payers().iter().enumerate() {
            let savings = c
                .estimate(|f| Some(f.by_payer[p].savings))
                .unwrap_or(Estimate::exact(f64::NAN));
            let f = &base.by_payer[p];
            let payback = if f.cost == 0.0 {
                "–".to_owned()
            } else {
                lang.years(base.payer_payback[p].discounted)
            };
            rows.push(vec![
                payer.name.clone(),
                if payer.public { l.yes } else { l.no }.to_owned(),
                money(savings.mean),
                interval(&savings),
                money(f.cost),
                money(f.net),
                payback,
            ]);
        }
        let payers = self.scenario.payers();
        for (label, perspective) in [
            (l.total_fiscal, Perspective::Fiscal),
            (l.total_societal, Perspective::Societal),
        ] {
            let included: Vec<bool> = payers.iter().map(|p| perspective.includes(p.public)).collect();
            let sum = |f: &crate::economics::ComparisonFigures, g: fn(&crate::economics::Flows) -> f64| -> f64 {
                f.by_payer
                    .iter()
                    .zip(&included)
                    .filter(|(_, i)| **i)
                    .map(|(x, _)| g(x))
                    .sum()
            };
            let savings = c
                .estimate(|f| Some(sum(f, |x| x.savings)))
                .unwrap_or(Estimate::exact(f64::NAN));
            rows.push(vec![
                label.to_owned(),
                String::new(),
                money(savings.mean),
                interval(&savings),
                money(sum(base, |x| x.cost)),
                money(sum(base, |x| x.net)),
                String::new(),
            ]);
        }
        doc.push(Block::Table(Table {
            head: vec![
                l.payer.to_owned(),
                l.public.to_owned(),
                l.savings.to_owned(),
                l.interval90.to_owned(),
                l.cost.to_owned(),
                l.net.to_owned(),
                l.payback.to_owned(),
            ],
            rows,
            numeric: vec![false, false, true, true, true, true, true],
            ids: Vec::new(),
            class: "payers",
        }));
        doc.push(Block::Paragraph(l.payers_note.to_owned()));
    }

    fn charts(&self, lang: Lang, doc: &mut Vec<Block>) {
        let l = lang.labels();
        let c = self.comparison();
        let money = self.money(lang);
        let axis = |x: f64| lang.number(x, 0);
        let currency = self.scenario.currency();
        let per_child = lang.fill(l.per_child, &[("currency", currency.to_owned())]);

        doc.push(Block::Section {
            id: "cumulative",
            title: l.h_cumulative.to_owned(),
        });
        let x_title = lang.fill(l.years_from_start, &[("age", self.start_age.to_string())]);
        let payback = c.payback_year().0;
        let marker = payback.map(|y| lang.fill(l.payback_marker, &[("years", lang.years(Some(y)))]));
        let band = self
            .cumulative
            .band
            .as_ref()
            .map(|(lo, hi)| (lo.as_slice(), hi.as_slice()));
        let svg = charts::cumulative(
            &self.cumulative.mean,
            band,
            payback.zip(marker.as_deref()),
            &ChartLabels {
                title: l.h_cumulative,
                x: &x_title,
                y: &per_child,
                legend: vec![l.expected, l.band90],
            },
            &axis,
        );
        let caption = if band.is_some() {
            l.cumulative_caption
        } else {
            l.cumulative_caption_no_band
        };
        doc.push(Block::Figure {
            name: "cumulative",
            svg,
            caption: caption.to_owned(),
        });

        doc.push(Block::Section {
            id: "annual-cost",
            title: l.h_annual.to_owned(),
        });
        doc.push(self.annual_cost(lang, &per_child));

        doc.push(Block::Section {
            id: "npv-distribution",
            title: l.h_histogram.to_owned(),
        });
        let npvs: Vec<f64> = self
            .run
            .draws()
            .iter()
            .map(|d| d.comparisons[self.index()].npv)
            .collect();
        let share = lang.percent(c.prob_npv_positive().0, 0);
        let (below, above) = (format!("{} < 0", l.npv_short), format!("{} > 0", l.npv_short));
        let svg = charts::histogram(
            &npvs,
            &lang.fill(l.share_above_zero, &[("share", share.clone())]),
            &ChartLabels {
                title: l.h_histogram,
                x: &format!("{} ({})", l.npv, per_child),
                y: l.draws,
                legend: vec![&below, &above],
            },
            &axis,
        );
        doc.push(Block::Figure {
            name: "npv-histogram",
            svg,
            caption: lang.fill(
                l.histogram_caption,
                &[("draws", lang.number(npvs.len() as f64, 0)), ("share", share)],
            ),
        });

        doc.push(Block::Section {
            id: "tornado",
            title: l.h_tornado.to_owned(),
        });
        let s = &self.sensitivity;
        if s.bars.is_empty() {
            doc.push(Block::Paragraph(l.tornado_none.to_owned()));
        } else {
            let bars: Vec<(String, f64, f64)> = s
                .bars
                .iter()
                .take(TORNADO_BARS)
                .map(|b| (b.parameter.clone(), b.npv_low, b.npv_high))
                .collect();
            let svg = charts::tornado(
                s.base_npv,
                &bars,
                &ChartLabels {
                    title: l.h_tornado,
                    x: &format!("{} ({})", l.npv, per_child),
                    y: "",
                    legend: vec![l.tornado_low, l.tornado_high],
                },
                &axis,
            );
            doc.push(Block::Figure {
                name: "tornado",
                svg,
                caption: lang.fill(l.tornado_caption, &[("base", money(s.base_npv))]),
            });
            let rows = s
                .bars
                .iter()
                .take(TORNADO_BARS)
                .map(|b| {
                    vec![
                        b.parameter.clone(),
                        significant(lang, b.low),
                        significant(lang, b.high),
                        money(b.npv_low),
                        money(b.npv_high),
                    ]
                })
                .collect();
            doc.push(Block::Table(Table {
                head: [l.parameter, l.low, l.high, l.npv_low, l.npv_high]
                    .map(str::to_owned)
                    .to_vec(),
                rows,
                numeric: vec![false, true, true, true, true],
                ids: Vec::new(),
                class: "tornado",
            }));
        }
        let rates: Vec<String> = s
            .discount
            .iter()
            .map(|d| format!("{}: {}", lang.percent(d.rate, 1), money(d.npv)))
            .collect();
        doc.push(Block::Paragraph(
            lang.fill(l.discount_rate, &[("rates", rates.join("; "))]),
        ));

        doc.push(Block::Section {
            id: "who-pays",
            title: l.h_who_pays.to_owned(),
        });
        let base = c.base();
        let rows: Vec<(String, f64, f64, f64)> = self
            .scenario
            .payers()
            .iter()
            .enumerate()
            .filter(|(_, p)| self.run.perspective().includes(p.public))
            .map(|(i, p)| {
                let f = &base.by_payer[i];
                (p.name.clone(), f.cost, f.savings, f.net)
            })
            .collect();
        let svg = charts::payers(
            &rows,
            &ChartLabels {
                title: l.h_who_pays,
                x: &per_child,
                y: "",
                legend: vec![l.cost, l.savings, l.net],
            },
            &axis,
        );
        doc.push(Block::Figure {
            name: "who-pays",
            svg,
            caption: l.who_pays_caption.to_owned(),
        });
    }

    fn index(&self) -> usize {
        position(self.scenario, &self.intervention)
    }

    fn annual_cost(&self, lang: Lang, per_child: &str) -> Block {
        let l = lang.labels();
        let payers = self.scenario.payers();
        let included: Vec<usize> = (0..payers.len())
            .filter(|&p| self.run.perspective().includes(payers[p].public))
            .collect();
        let streams = self.run.base_streams();
        let series = |s: &ArmStreams| -> Vec<Vec<f64>> {
            let own = economics::intervention_stream(s);
            let n = s.n_cycles();
            let mut out: Vec<Vec<f64>> = included
                .iter()
                .map(|&p| (0..n).map(|t| s.care[(p, t)]).collect())
                .collect();
            out.push((0..n).map(|t| included.iter().map(|&p| own[(p, t)]).sum()).collect());
            out
        };
        let name = self.comparison().name().to_owned();
        let panels = [
            Panel {
                title: l.status_quo,
                series: series(&streams[0]),
            },
            Panel {
                title: &name,
                series: series(&streams[self.index() + 1]),
            },
        ];
        let mut legend: Vec<&str> = included.iter().map(|&p| payers[p].name.as_str()).collect();
        legend.push(l.intervention_costs);
        let svg = charts::annual_cost(
            &panels,
            self.start_age,
            &ChartLabels {
                title: l.h_annual,
                x: l.age,
                y: per_child,
                legend,
            },
            &|x| lang.number(x, 0),
        );
        Block::Figure {
            name: "annual-cost",
            svg,
            caption: lang.fill(
                l.annual_caption,
                &[("perspective", lang.perspective(self.run.perspective()).to_owned())],
            ),
        }
    }

    fn break_even(&self, lang: Lang, doc: &mut Vec<Block>) {
        let l = lang.labels();
        doc.push(Block::Section {
            id: "break-even",
            title: l.h_break_even.to_owned(),
        });
        let mut sentences = self.break_even_sentences(lang);
        let curve = self.comparison().break_even_curve();
        if !curve.is_empty() {
            let points: Vec<String> = curve
                .iter()
                .map(|(s, p)| format!("{} → {}", lang.percent(*s, 0), lang.percent(*p, 0)))
                .collect();
            sentences.push(lang.fill(l.be_curve, &[("points", points.join(", "))]));
        }
        doc.push(Block::Paragraph(sentences.join(" ")));
    }

    fn budget(&self, lang: Lang, doc: &mut Vec<Block>) {
        let l = lang.labels();
        let program = &self.comparison().base().program;
        let n = (program.years as usize + 9).min(program.budget.len());
        doc.push(Block::Section {
            id: "budget",
            title: l.h_budget.to_owned(),
        });
        let payers = self.scenario.payers();
        let included: Vec<usize> = (0..payers.len())
            .filter(|&p| self.run.perspective().includes(payers[p].public))
            .collect();
        let money = |x: f64| lang.number(x, 0);
        let rows = program.budget[..n]
            .iter()
            .enumerate()
            .map(|(y, row)| {
                let mut cells = vec![(program.start_year + y as i32).to_string()];
                cells.extend(included.iter().map(|&p| money(row[p].net)));
                cells.push(money(included.iter().map(|&p| row[p].net).sum()));
                cells
            })
            .collect();
        let mut head = vec![l.year.to_owned()];
        head.extend(included.iter().map(|&p| payers[p].name.clone()));
        head.push(format!("{} ({})", l.total, self.scenario.currency()));
        let numeric = vec![true; head.len()];
        doc.push(Block::Table(Table {
            head,
            rows,
            numeric,
            ids: Vec::new(),
            class: "budget",
        }));
        doc.push(Block::Paragraph(lang.fill(l.budget_note, &[("n", n.to_string())])));
    }

    fn assumptions(&self, lang: Lang, doc: &mut Vec<Block>) {
        let l = lang.labels();
        let table = Assumptions::of(self.scenario);
        doc.push(Block::Section {
            id: "assumptions",
            title: l.h_assumptions.to_owned(),
        });
        doc.push(Block::Paragraph(lang.fill(
            l.assumptions_note,
            &[
                ("currency", table.currency.clone()),
                ("price_year", table.price_year.to_string()),
            ],
        )));
        let flag = |f: bool| if f { "⚑" } else { "" }.to_owned();
        let confidence = |c: Option<crate::Confidence>| c.map_or("–", |c| lang.confidence(c)).to_owned();
        let rows = table
            .rows
            .iter()
            .map(|r| {
                vec![
                    flag(r.flagged),
                    r.name.clone(),
                    r.value.clone(),
                    r.unit.clone().unwrap_or_default(),
                    r.price_year.map_or(String::new(), |y| y.to_string()),
                    confidence(r.confidence),
                    r.source.clone().unwrap_or_default(),
                ]
            })
            .collect();
        doc.push(Block::Table(Table {
            head: [
                l.flag,
                l.parameter,
                l.value,
                l.unit,
                l.price_year,
                l.confidence,
                l.source,
            ]
            .map(str::to_owned)
            .to_vec(),
            rows,
            numeric: vec![false; 7],
            ids: Vec::new(),
            class: "assumptions",
        }));
        let rows = table
            .settings()
            .map(|s| {
                vec![
                    flag(s.flagged),
                    s.name.clone(),
                    s.value.clone(),
                    confidence(s.confidence),
                    s.source.clone().unwrap_or_default(),
                ]
            })
            .collect();
        doc.push(Block::Table(Table {
            head: [l.flag, l.settings, l.value, l.confidence, l.source]
                .map(str::to_owned)
                .to_vec(),
            rows,
            numeric: vec![false; 5],
            ids: Vec::new(),
            class: "assumptions",
        }));
    }

    fn reproducibility(&self, lang: Lang, doc: &mut Vec<Block>) {
        let l = lang.labels();
        let run = &self.run;
        doc.push(Block::Section {
            id: "reproducibility",
            title: l.h_reproducibility.to_owned(),
        });
        let children = run
            .children()
            .map_or(l.children_cohort.to_owned(), |n| lang.number(n as f64, 0));
        let rows = vec![
            vec![l.version.to_owned(), env!("CARGO_PKG_VERSION").to_owned()],
            vec![l.seed.to_owned(), run.seed().to_string()],
            vec![l.n_draws.to_owned(), lang.number(run.n_draws() as f64, 0)],
            vec![l.children.to_owned(), children],
            vec![l.engine.to_owned(), self.options.engine.as_str().to_owned()],
            vec![l.scenario_hash.to_owned(), self.scenario.hash()],
        ];
        doc.push(Block::Table(Table {
            head: Vec::new(),
            rows,
            numeric: vec![false, false],
            ids: vec![(5, 1, "scenario-hash")],
            class: "footer",
        }));
        doc.push(Block::Paragraph(l.recreate.to_owned()));
        doc.push(Block::Code(format!(
            "lifecost report SCENARIO --intervention {} --perspective {} --engine {} --draws {} --seed {} --lang {}",
            self.intervention,
            run.perspective().as_str(),
            self.options.engine.as_str(),
            run.n_draws(),
            run.seed(),
            lang.code()
        )));
    }
}

/// The intervention's index among the scenario's (and the run's) comparisons.
fn position(scenario: &Scenario, intervention: &str) -> usize {
    scenario
        .interventions()
        .iter()
        .position(|i| i.id == intervention)
        .unwrap_or(0)
}

/// A parameter value with four significant digits, in the language's format.
fn significant(lang: Lang, x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return lang.number(x, 0);
    }
    let digits = (3 - x.abs().log10().floor() as i64).clamp(0, 8) as usize;
    lang.number(x, digits)
}

/// The non-absorbing state with the highest annual cost in the frame's perspective.
fn costliest_state(scenario: &Scenario, model: &Model, frame: &Frame) -> Option<String> {
    let annual = |s: usize| -> f64 {
        (0..model.n_payers())
            .filter(|&p| frame.included[p])
            .map(|p| model.state_costs[(s, p)])
            .sum()
    };
    (0..model.n_states())
        .filter(|&s| !model.absorbing[s] && annual(s) > 0.0)
        .max_by(|&a, &b| annual(a).total_cmp(&annual(b)).then(b.cmp(&a)))
        .map(|s| scenario.states()[s].id.clone())
}

/// Cumulative discounted net benefit (savings − the intervention's costs) per child after each cycle.
fn cumulative_net(frame: &Frame, status_quo: &ArmStreams, arm: &ArmStreams) -> Vec<f64> {
    let n = arm.n_cycles();
    let factors = frame.cost_rate.factors(n, frame.offset);
    let own = economics::intervention_stream(arm);
    let mut total = 0.0;
    (0..n)
        .map(|t| {
            let net: f64 = (0..arm.care.nrows())
                .filter(|&p| frame.included[p])
                .map(|p| status_quo.care[(p, t)] - arm.care[(p, t)] - own[(p, t)])
                .sum();
            total += net * factors[t];
            total
        })
        .collect()
}

/// The 5th and 95th percentiles per year of each draw's cumulative net
/// benefit, from the same draws as the run (same seed, same draw index).
fn band(scenario: &Scenario, frame: &Frame, seed: u64, draws: u64, k: usize) -> Result<(Vec<f64>, Vec<f64>)> {
    let paths: Vec<Result<Vec<f64>>> = (0..draws)
        .into_par_iter()
        .map(|d| {
            let model = Model::compile(scenario, &draw_values(scenario, seed, d))?;
            let streams = cohort::run(&model, 1.0).map_err(engine_error)?;
            Ok(cumulative_net(frame, &streams[0], &streams[k + 1]))
        })
        .collect();
    let paths = paths.into_iter().collect::<Result<Vec<_>>>()?;
    let n = paths.first().map_or(0, Vec::len);
    let (mut lo, mut hi) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let mut year = Vec::with_capacity(paths.len());
    for t in 0..n {
        year.clear();
        year.extend(paths.iter().map(|p| p[t]));
        year.sort_by(f64::total_cmp);
        lo.push(quantile_sorted(&year, 0.05));
        hi.push(quantile_sorted(&year, 0.95));
    }
    Ok((lo, hi))
}
