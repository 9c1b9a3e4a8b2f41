//! The report's blocks as one self-contained HTML file: no script, no
//! external resource, no network address; the charts are inline SVG
//! ([`super::charts`]) and the inline style sheet lays the report out for
//! A4. The file is also well-formed XML, so any XML parser can check it.
//! Every text that comes from the scenario passes through
//! [`super::charts::escape`].

use std::fmt::Write;

use super::charts::escape;
use super::document::{Block, Table};
pub use super::document::{DEFAULT_DRAWS, Options, Report, SECTIONS};
use super::lang::Lang;

const STYLE: &str = "
@page { size: A4; margin: 16mm 14mm 16mm 14mm; }
body { font-family: Helvetica, Arial, sans-serif; font-size: 10.5pt; line-height: 1.4; color: #222; max-width: 182mm; margin: 0 auto; padding: 8mm 0; }
h1 { font-size: 17pt; margin: 0 0 4pt 0; }
h2 { font-size: 12.5pt; margin: 16pt 0 6pt 0; padding-bottom: 2pt; border-bottom: 1px solid #bbb; break-after: avoid; page-break-after: avoid; }
.subtitle { color: #444; margin-top: 0; }
.callout { border-left: 4px solid #D55E00; background: #fff4ec; padding: 5pt 8pt; }
table { border-collapse: collapse; width: 100%; font-size: 9.5pt; margin: 4pt 0; }
th, td { text-align: left; vertical-align: top; padding: 2pt 5pt; border-bottom: 1px solid #e2e2e2; }
th { border-bottom: 1px solid #888; }
td.num, th.num { text-align: right; }
td.num { white-space: nowrap; }
table.budget, table.payers { font-size: 8.5pt; }
tr { break-inside: avoid; page-break-inside: avoid; }
table.headline td { font-size: 10.5pt; }
table.assumptions { font-size: 7.5pt; }
table.assumptions td:first-child { color: #D55E00; }
table.footer { width: auto; }
figure { margin: 6pt 0 10pt 0; break-inside: avoid; page-break-inside: avoid; }
figure svg { max-width: 100%; height: auto; }
figcaption { font-size: 9pt; color: #555; }
pre { font-size: 8.5pt; background: #f4f4f4; padding: 4pt 6pt; white-space: pre-wrap; }
section#assumptions { break-before: page; page-break-before: always; }
";

/// Renders blocks as HTML that is also well-formed XML.
pub(crate) fn render(doc: &[Block], lang: Lang) -> String {
    let title = doc
        .iter()
        .find_map(|b| match b {
            Block::Title(t) => Some(t.as_str()),
            _ => None,
        })
        .unwrap_or("lifecost");
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        lang.code(),
        escape(title)
    );
    let mut open = false;
    for block in doc {
        match block {
            Block::Title(t) => {
                let _ = writeln!(out, "<header>\n<h1>{}</h1>", escape(t));
            }
            Block::Subtitle(t) => {
                let _ = writeln!(out, "<p class=\"subtitle\">{}</p>\n</header>", escape(t));
            }
            Block::Section { id, title } => {
                if open {
                    out.push_str("</section>\n");
                }
                open = true;
                let _ = writeln!(out, "<section id=\"{id}\">\n<h2>{}</h2>", escape(title));
            }
            Block::Paragraph(t) => {
                let _ = writeln!(out, "<p>{}</p>", escape(t));
            }
            Block::Callout(t) => {
                let _ = writeln!(out, "<p class=\"callout\">{}</p>", escape(t));
            }
            Block::Code(t) => {
                let _ = writeln!(out, "<pre>{}</pre>", escape(t));
            }
            Block::Figure { name, svg, caption } => {
                let _ = writeln!(
                    out,
                    "<figure id=\"figure-{name}\">\n{svg}\n<figcaption>{}</figcaption>\n</figure>",
                    escape(caption)
                );
            }
            Block::Table(t) => table_html(&mut out, t),
        }
    }
    if open {
        out.push_str("</section>\n");
    }
    out.push_str("</body>\n</html>\n");
    out
}

fn table_html(out: &mut String, t: &Table) {
    let _ = writeln!(out, "<table class=\"{}\">", t.class);
    let class = |c: usize| {
        if t.numeric.get(c).copied().unwrap_or(false) {
            " class=\"num\""
        } else {
            ""
        }
    };
    if !t.head.is_empty() {
        out.push_str("<thead><tr>");
        for (c, h) in t.head.iter().enumerate() {
            let _ = write!(out, "<th{}>{}</th>", class(c), escape(h));
        }
        out.push_str("</tr></thead>\n");
    }
    out.push_str("<tbody>\n");
    for (r, row) in t.rows.iter().enumerate() {
        out.push_str("<tr>");
        for (c, cell) in row.iter().enumerate() {
            let id = t
                .ids
                .iter()
                .find(|(ir, ic, _)| *ir == r && *ic == c)
                .map_or(String::new(), |(_, _, id)| format!(" id=\"{id}\""));
            let _ = write!(out, "<td{}{id}>{}</td>", class(c), escape(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
}
