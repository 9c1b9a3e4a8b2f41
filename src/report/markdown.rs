//! The report as Markdown, for pasting into an application form: the same
//! content as the HTML, tables as pipe tables, each chart as an SVG file of
//! its own beside the Markdown (`STEM-cumulative.svg`, …).
//!
//! Scenario text is escaped for Markdown ([`escape`]): characters that
//! start markup get a backslash, and `<` and `&` become entities, so a name
//! like `<script>` is shown, never run.
//!
//! # Example
//!
//! ```
//! # fn main() -> Result<(), lifecost::Error> {
//! use lifecost::report::html::{Options, Report};
//! use lifecost::report::{lang::Lang, markdown};
//!
//! let scenario = lifecost::Scenario::default_scenario()?;
//! let report = Report::new(&scenario, Options { draws: 20, ..Options::default() })?;
//! let (text, charts) = markdown::render(&report, Lang::En, "report");
//! assert!(text.contains("![") && charts.iter().all(|(name, _)| name.ends_with(".svg")));
//! # Ok(()) }
//! ```

use std::fmt::Write;

use super::charts::standalone;
use super::document::{Block, Report, Table};
use super::lang::Lang;

/// The Markdown text, and each chart as `(file name, SVG file contents)`;
/// the text refers to the charts as `STEM-NAME.svg` in the same directory.
pub fn render(report: &Report<'_>, lang: Lang, stem: &str) -> (String, Vec<(String, String)>) {
    let mut out = String::new();
    let mut files = Vec::new();
    for block in report.document(lang) {
        match block {
            Block::Title(t) => {
                let _ = writeln!(out, "# {}\n", escape(&t));
            }
            Block::Subtitle(t) => {
                let _ = writeln!(out, "*{}*\n", escape(&t));
            }
            Block::Section { title, .. } => {
                let _ = writeln!(out, "## {}\n", escape(&title));
            }
            Block::Paragraph(t) => {
                let _ = writeln!(out, "{}\n", escape(&t));
            }
            Block::Callout(t) => {
                let _ = writeln!(out, "> **{}**\n", escape(&t));
            }
            Block::Code(t) => {
                let _ = writeln!(out, "```\n{}\n```\n", t.replace("```", "'''"));
            }
            Block::Figure { name, svg, caption } => {
                let file = format!("{stem}-{name}.svg");
                let _ = writeln!(out, "![{}]({})\n\n*{}*\n", escape(&caption), file, escape(&caption));
                files.push((file, standalone(&svg)));
            }
            Block::Table(t) => table(&mut out, &t),
        }
    }
    (out, files)
}

fn table(out: &mut String, t: &Table) {
    let columns = t.head.len().max(t.rows.first().map_or(0, Vec::len));
    let head: Vec<String> = if t.head.is_empty() {
        vec![String::new(); columns]
    } else {
        t.head.iter().map(|h| escape(h)).collect()
    };
    let _ = writeln!(out, "| {} |", head.join(" | "));
    let rule: Vec<&str> = (0..columns)
        .map(|c| {
            if t.numeric.get(c).copied().unwrap_or(false) {
                "---:"
            } else {
                "---"
            }
        })
        .collect();
    let _ = writeln!(out, "|{}|", rule.join("|"));
    for row in &t.rows {
        let cells: Vec<String> = row.iter().map(|c| escape(c)).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out.push('\n');
}

/// Escapes text so that Markdown shows it as written.
///
/// `<` and `&` become entities, so no tag or entity can start; characters
/// that start emphasis, links, code or table cells get a backslash. An
/// underscore inside a word (`hr_placement`) is left alone, as CommonMark
/// never reads it as emphasis there, so names stay readable when pasted raw.
pub fn escape(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        let in_word = |j: Option<usize>| j.and_then(|j| chars.get(j)).is_some_and(|c| c.is_alphanumeric());
        match c {
            '<' => out.push_str("&lt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            '_' if in_word(i.checked_sub(1)) && in_word(Some(i + 1)) => out.push('_'),
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '|' | '!' | '{' | '}' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn markup_is_escaped() {
        assert_eq!(escape("<script>a|b</script>"), "&lt;script>a\\|b&lt;/script>");
        assert_eq!(
            escape("*x* [y] hr_placement _z_"),
            "\\*x\\* \\[y\\] hr_placement \\_z\\_"
        );
    }
}
