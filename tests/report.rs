//! The grant report: well-formed HTML and SVG, every section in both
//! languages, scenario text escaped, no scripts or network addresses, and
//! the same numbers as the JSON result; Markdown with its charts; CSV files.
#![cfg(feature = "report")]

use std::path::PathBuf;
use std::process::{Command, Output};

use lifecost::report::html::{Options, Report, SECTIONS};
use lifecost::report::lang::Lang;
use lifecost::report::{csv, markdown};
use lifecost::{DEFAULT_SEED, Scenario, Simulation};

/// Few draws keep the tests quick; enough for intervals and a histogram.
const DRAWS: u64 = 200;

fn options(draws: u64) -> Options {
    Options {
        draws,
        ..Options::default()
    }
}

fn parse(xml: &str) -> roxmltree::Document<'_> {
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    roxmltree::Document::parse_with_options(xml, options).unwrap_or_else(|e| panic!("not well-formed: {e}"))
}

/// Every `<svg …>…</svg>` element of a text, each parsed on its own.
fn svgs(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("<svg ") {
        let end = rest[start..].find("</svg>").expect("every svg is closed") + start + "</svg>".len();
        out.push(&rest[start..end]);
        rest = &rest[end..];
    }
    out
}

fn assert_safe(text: &str) {
    assert!(!text.to_lowercase().contains("<script"), "a script tag");
    assert!(
        !text.contains("http://") && !text.contains("https://"),
        "a network address"
    );
}

fn headings(lang: Lang) -> [&'static str; 12] {
    let l = lang.labels();
    [
        l.h_summary,
        l.h_headline,
        l.h_payers,
        l.h_cumulative,
        l.h_annual,
        l.h_histogram,
        l.h_tornado,
        l.h_who_pays,
        l.h_break_even,
        l.h_budget,
        l.h_assumptions,
        l.h_reproducibility,
    ]
}

#[test]
fn html_is_well_formed_with_every_section_and_the_json_numbers() {
    let scenario = Scenario::default_scenario().unwrap();
    let report = Report::new(&scenario, options(DRAWS)).unwrap();
    // The JSON of an independent run with the same seed and draws.
    let json = Simulation::new(&scenario)
        .draws(DRAWS)
        .seed(DEFAULT_SEED)
        .run()
        .unwrap()
        .to_json();
    let npv = json["comparisons"][0]["npv"]["mean"].as_f64().unwrap();
    for lang in [Lang::En, Lang::Sv] {
        let html = report.html(lang);
        assert_safe(&html);
        let doc = parse(&html);
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "html");
        assert_eq!(root.attribute("lang"), Some(lang.code()));

        for (id, heading) in SECTIONS.iter().zip(headings(lang)) {
            let section = doc
                .descendants()
                .find(|n| n.has_tag_name("section") && n.attribute("id") == Some(id))
                .unwrap_or_else(|| panic!("no section {id}"));
            let h2 = section.children().find(|n| n.has_tag_name("h2")).expect("a heading");
            assert_eq!(h2.text(), Some(heading), "section {id}");
        }

        let charts = svgs(&html);
        assert_eq!(charts.len(), 5, "cumulative, annual cost, histogram, tornado, who pays");
        for svg in &charts {
            let chart = parse(svg);
            assert_eq!(chart.root_element().tag_name().name(), "svg");
        }
        assert_eq!(
            doc.descendants().filter(|n| n.has_tag_name("svg")).count(),
            charts.len()
        );

        let cell = doc
            .descendants()
            .find(|n| n.attribute("id") == Some("headline-npv"))
            .expect("the headline NPV");
        assert_eq!(cell.text(), Some(lang.money(npv, "SEK").as_str()));
        let hash = doc
            .descendants()
            .find(|n| n.attribute("id") == Some("scenario-hash"))
            .expect("the scenario hash");
        assert_eq!(hash.text(), json["scenario_hash"].as_str());
    }
}

#[test]
fn swedish_numbers_are_grouped_with_spaces_and_kronor() {
    let scenario = Scenario::default_scenario().unwrap();
    let report = Report::new(&scenario, options(50)).unwrap();
    let html = report.html(Lang::Sv);
    let npv = report.comparison().npv().mean;
    let expected = Lang::Sv.money(npv, "SEK");
    assert!(expected.ends_with("\u{a0}kr"));
    assert!(html.contains(&expected));
    assert!(html.contains("Nettonuvärde"));
    assert!(report.html(Lang::En).contains(&Lang::En.money(npv, "SEK")));
}

#[test]
fn scenario_text_is_escaped() {
    let source = "[scenario]\nbase = \"tsi_sweden\"\nname = \"<script>alert(1)</script>\"\n";
    let scenario = Scenario::from_toml_str(source).unwrap();
    assert_eq!(scenario.name(), "<script>alert(1)</script>");
    let report = Report::new(&scenario, options(20)).unwrap();
    for lang in [Lang::En, Lang::Sv] {
        let html = report.html(lang);
        assert_safe(&html);
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        parse(&html);
        let (text, _) = markdown::render(&report, lang, "report");
        assert_safe(&text);
        assert!(text.contains("&lt;script>alert(1)&lt;/script>"));
    }
}

#[test]
fn markdown_has_every_section_and_its_charts_as_svg_files() {
    let scenario = Scenario::default_scenario().unwrap();
    let report = Report::new(&scenario, options(50)).unwrap();
    let (text, charts) = markdown::render(&report, Lang::Sv, "ansokan");
    for heading in headings(Lang::Sv) {
        assert!(text.contains(&format!("## {heading}\n")), "{heading}");
    }
    assert_eq!(charts.len(), 5);
    for (name, svg) in &charts {
        assert!(name.starts_with("ansokan-") && name.ends_with(".svg"));
        assert!(text.contains(&format!("]({name})")), "{name} is referred to");
        let doc = parse(svg);
        assert_eq!(
            doc.root_element().tag_name().namespace(),
            Some("http://www.w3.org/2000/svg")
        );
    }
    let npv = Lang::Sv.money(report.comparison().npv().mean, "SEK");
    assert!(text.contains(&format!("| {} | {npv} |", markdown::escape("Nettonuvärde (NNV)"))));
}

#[test]
fn csv_files_are_rectangular_and_match_the_run() {
    let scenario = Scenario::default_scenario().unwrap();
    let run = Simulation::new(&scenario).draws(30).run().unwrap();
    let files = csv::files(&scenario, &run);
    let names: Vec<&str> = files.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["streams.csv", "draws.csv", "summary.csv", "budget.csv"]);
    for (name, text) in &files {
        let text = text.strip_prefix('\u{feff}').expect("a byte-order mark");
        let mut lines = text.lines();
        let columns = lines.next().unwrap().split(',').count();
        for line in lines {
            assert_eq!(line.split(',').count(), columns, "{name}: {line}");
        }
    }
    let summary = &files[2].1;
    let npv_line = summary.lines().find(|l| l.starts_with("tsi,npv,")).unwrap();
    let mean: f64 = npv_line.split(',').nth(2).unwrap().parse().unwrap();
    assert_eq!(mean, run.compare("tsi").unwrap().npv().mean);
    assert_eq!(files[1].1.lines().count(), 1 + 30);
}

fn lifecost(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lifecost"))
        .args(args)
        .output()
        .expect("run the lifecost binary")
}

/// A fresh directory under the temp directory; removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("lifecost-report-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).to_string_lossy().into_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn the_command_writes_reports_and_csv_files_atomically() {
    let dir = TempDir::new("cli");
    let html = dir.path("report.html");
    let o = lifecost(&["report", "--draws", "20", "--lang", "sv", "-o", &html]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    parse(&std::fs::read_to_string(&html).unwrap());
    // An existing file is replaced only with --force.
    let o = lifecost(&["report", "--draws", "20", "-o", &html]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--force"));
    let o = lifecost(&["report", "--draws", "20", "-o", &html, "--force"]);
    assert_eq!(o.status.code(), Some(0));

    let md = dir.path("report.md");
    let o = lifecost(&["report", "--draws", "20", "--format", "md", "-o", &md]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(std::path::Path::new(&dir.path("report-cumulative.svg")).exists());
    let o = lifecost(&["report", "--format", "md"]);
    assert_eq!(o.status.code(), Some(2), "Markdown needs -o");

    let csv_dir = dir.path("csv");
    let o = lifecost(&["run", "--draws", "10", "--quiet", "--csv", &csv_dir]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    for name in ["streams.csv", "draws.csv", "summary.csv", "budget.csv"] {
        assert!(std::path::Path::new(&csv_dir).join(name).exists(), "{name}");
    }
    let o = lifecost(&["run", "--draws", "10", "--quiet", "--csv", &csv_dir]);
    assert_eq!(o.status.code(), Some(2), "existing CSV files need --force");
}

/// Markup in every free-text field a scenario writes: names, descriptions,
/// payer names, units, sources and notes.
#[test]
fn markup_in_every_free_text_field_is_escaped() {
    let source = r#"
[scenario]
base = "tsi_sweden"
name = "<i>Name</i>"
description = "<u>Description</u>"

[payers]
kommun_social = { name = "<b onmouseover=x>Kommun</b>", public = true }

[parameters]
bbic_investigation = { value = 39_400, unit = "<sup>SEK</sup>", price_year = 2023, source = "<script>evil()</script>", confidence = "sourced", note = "<img src=x onerror=y>" }

[[interventions]]
id = "tsi"
name = "<iframe src=z></iframe>"
description = "<object>d</object>"
enrol = { states = ["school_difficulties"], uptake = 0.8 }
program = { years = 1, children_per_year = 40, fixed_costs = { kommun_social = 400_000 } }

[[interventions.effects]]
from = "school_difficulties"
to = ["foster_care", "residential_care"]
hazard_ratio = 0.8
"#;
    let scenario = Scenario::from_toml_str(source).unwrap();
    let report = Report::new(&scenario, options(20)).unwrap();
    let raw = ["<i>", "<u>", "<b ", "<sup>", "<script", "<img", "<iframe", "<object"];
    for lang in [Lang::En, Lang::Sv] {
        let html = report.html(lang);
        parse(&html);
        let (md, _) = markdown::render(&report, lang, "report");
        for text in [&html, &md] {
            assert_safe(text);
            for tag in raw {
                assert!(!text.contains(tag), "raw `{tag}` in the {lang:?} report");
            }
        }
        for escaped in ["&lt;i&gt;Name", "&lt;b onmouseover=x&gt;Kommun", "&lt;iframe src=z&gt;"] {
            assert!(html.contains(escaped), "`{escaped}` missing from the {lang:?} HTML");
        }
    }
}
