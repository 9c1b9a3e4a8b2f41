//! The report's charts, drawn as small SVG documents by hand.
//!
//! No plotting library and no font files: text is SVG `<text>` in the
//! reader's sans-serif font, so a chart is a few kilobytes of plain XML that
//! prints sharply, and every label passes through [`escape`]. Each function
//! returns one `<svg>` element without a namespace declaration, as HTML
//! embeds it; [`standalone`] adds the declaration for a file of its own.
//! Amounts are formatted by the caller's `fmt`, so the charts follow the
//! report's language.

use std::fmt::Write;

/// Width of every chart in CSS pixels: a column of A4 at 96 dpi.
pub const WIDTH: f64 = 680.0;

/// Colours that colour-blind readers tell apart (Okabe–Ito), one per payer.
pub const PALETTE: [&str; 8] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999",
];
const INK: &str = "#222222";
const GRID: &str = "#dddddd";
const GOOD: &str = "#009E73";
const BAD: &str = "#D55E00";
const BLUE: &str = "#0072B2";
const BAND: &str = "#a6cbe3";
/// Average advance of a character of the 11 px sans-serif labels, for layout.
const CHAR_WIDTH: f64 = 6.2;

/// Escapes text for XML and HTML: `&`, `<`, `>`, `"` and `'`.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The chart as a file of its own: with the SVG namespace and an XML declaration.
pub fn standalone(svg: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}\n",
        svg.replacen("<svg ", "<svg xmlns=\"http://www.w3.org/2000/svg\" ", 1)
    )
}

/// An SVG document under construction.
struct Svg {
    out: String,
}

impl Svg {
    fn new(height: f64, title: &str) -> Svg {
        let mut out = String::new();
        let _ = write!(
            out,
            "<svg width=\"{WIDTH}\" height=\"{height:.0}\" viewBox=\"0 0 {WIDTH} {height:.0}\" role=\"img\" \
             font-family=\"Helvetica, Arial, sans-serif\" font-size=\"11\" fill=\"{INK}\"><title>{}</title>",
            escape(title)
        );
        Svg { out }
    }

    fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str) {
        let (x, w) = if w < 0.0 { (x + w, -w) } else { (x, w) };
        let (y, h) = if h < 0.0 { (y + h, -h) } else { (y, h) };
        let _ = write!(
            self.out,
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"{fill}\"/>"
        );
    }

    fn line(&mut self, (x1, y1): (f64, f64), (x2, y2): (f64, f64), stroke: &str, width: f64, dash: bool) {
        let dash = if dash { " stroke-dasharray=\"5 3\"" } else { "" };
        let _ = write!(
            self.out,
            "<line x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\" stroke=\"{stroke}\" stroke-width=\"{width}\"{dash}/>"
        );
    }

    fn text(&mut self, x: f64, y: f64, anchor: &str, text: &str) {
        let _ = write!(
            self.out,
            "<text x=\"{x:.1}\" y=\"{y:.1}\" text-anchor=\"{anchor}\">{}</text>",
            escape(text)
        );
    }

    fn text_styled(&mut self, x: f64, y: f64, anchor: &str, style: &str, text: &str) {
        let _ = write!(
            self.out,
            "<text x=\"{x:.1}\" y=\"{y:.1}\" text-anchor=\"{anchor}\" {style}>{}</text>",
            escape(text)
        );
    }

    /// A vertical axis title, rotated.
    fn y_title(&mut self, x: f64, y: f64, text: &str) {
        let _ = write!(
            self.out,
            "<text transform=\"translate({x:.1},{y:.1}) rotate(-90)\" text-anchor=\"middle\">{}</text>",
            escape(text)
        );
    }

    fn polyline(&mut self, points: &[(f64, f64)], stroke: &str, width: f64) {
        let _ = write!(
            self.out,
            "<polyline fill=\"none\" stroke=\"{stroke}\" stroke-width=\"{width}\" points=\""
        );
        for (x, y) in points {
            let _ = write!(self.out, "{x:.1},{y:.1} ");
        }
        self.out.push_str("\"/>");
    }

    fn polygon(&mut self, points: &[(f64, f64)], fill: &str) {
        let _ = write!(self.out, "<polygon fill=\"{fill}\" stroke=\"none\" points=\"");
        for (x, y) in points {
            let _ = write!(self.out, "{x:.1},{y:.1} ");
        }
        self.out.push_str("\"/>");
    }

    /// A row of coloured swatches with their names, starting at `(x, y)`.
    fn legend(&mut self, x: f64, y: f64, entries: &[(&str, &str)]) {
        let mut at = x;
        for (colour, name) in entries {
            self.rect(at, y - 9.0, 10.0, 10.0, colour);
            self.text(at + 14.0, y, "start", name);
            at += 14.0 + CHAR_WIDTH * name.chars().count() as f64 + 16.0;
        }
    }

    fn finish(mut self) -> String {
        self.out.push_str("</svg>");
        self.out
    }
}

/// A linear map from data to pixels.
#[derive(Clone, Copy)]
struct Scale {
    d0: f64,
    d1: f64,
    r0: f64,
    r1: f64,
}

impl Scale {
    fn at(self, v: f64) -> f64 {
        if self.d1 == self.d0 {
            return (self.r0 + self.r1) / 2.0;
        }
        self.r0 + (v - self.d0) / (self.d1 - self.d0) * (self.r1 - self.r0)
    }
}

/// Round tick values covering `[lo, hi]`, about `n` of them; the range grows to the outer ticks.
fn ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let (lo, hi) = if lo.is_finite() && hi.is_finite() {
        (lo, hi)
    } else {
        (0.0, 1.0)
    };
    let (lo, hi) = if hi > lo { (lo, hi) } else { (lo - 1.0, lo + 1.0) };
    let raw = (hi - lo) / n.max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    let first = (lo / step).floor() as i64;
    let last = (hi / step).ceil() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

fn min_max(values: impl IntoIterator<Item = f64>) -> (f64, f64) {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)))
}

/// Horizontal grid lines with labels at the left, for a value axis running up.
fn y_axis(svg: &mut Svg, ticks: &[f64], y: Scale, x0: f64, x1: f64, fmt: &dyn Fn(f64) -> String) {
    for &t in ticks {
        let py = y.at(t);
        svg.line((x0, py), (x1, py), if t == 0.0 { INK } else { GRID }, 1.0, false);
        svg.text(x0 - 6.0, py + 4.0, "end", &fmt(t));
    }
}

/// Vertical grid lines with labels below, for a value axis running right.
fn x_axis(svg: &mut Svg, ticks: &[f64], x: Scale, y0: f64, y1: f64, fmt: &dyn Fn(f64) -> String) {
    for &t in ticks {
        let px = x.at(t);
        svg.line((px, y0), (px, y1), if t == 0.0 { INK } else { GRID }, 1.0, false);
        svg.text(px, y1 + 14.0, "middle", &fmt(t));
    }
}

/// Labels of a chart: its title (for screen readers), axis titles and legend names.
pub struct Labels<'a> {
    pub title: &'a str,
    pub x: &'a str,
    pub y: &'a str,
    pub legend: Vec<&'a str>,
}

/// Cumulative net benefit: the mean line from `(0, 0)` through `(t + 1, mean[t])`,
/// an optional band `(lo, hi)`, and a dashed marker at the payback year with its label.
pub fn cumulative(
    mean: &[f64],
    band: Option<(&[f64], &[f64])>,
    payback: Option<(f64, &str)>,
    labels: &Labels<'_>,
    fmt: &dyn Fn(f64) -> String,
) -> String {
    let height = 320.0;
    let (left, right, top, bottom) = (84.0, WIDTH - 16.0, 34.0, height - 44.0);
    let mut svg = Svg::new(height, labels.title);
    let n = mean.len();
    let all = mean
        .iter()
        .chain(band.map_or(&[][..], |b| b.0))
        .chain(band.map_or(&[][..], |b| b.1))
        .copied()
        .chain([0.0]);
    let (lo, hi) = min_max(all);
    let yt = ticks(lo, hi, 6);
    let y = Scale {
        d0: yt[0],
        d1: yt[yt.len() - 1],
        r0: bottom,
        r1: top,
    };
    let xt = ticks(0.0, n as f64, 8);
    let x = Scale {
        d0: 0.0,
        d1: n as f64,
        r0: left,
        r1: right,
    };
    let xt: Vec<f64> = xt.into_iter().filter(|t| *t <= n as f64).collect();
    y_axis(&mut svg, &yt, y, left, right, fmt);
    x_axis(&mut svg, &xt, x, top, bottom, &|t| format!("{t:.0}"));
    let point = |t: usize, v: f64| (x.at(t as f64), y.at(v));
    if let Some((lo, hi)) = band {
        let mut poly: Vec<(f64, f64)> = std::iter::once(point(0, 0.0))
            .chain(hi.iter().enumerate().map(|(t, &v)| point(t + 1, v)))
            .collect();
        poly.extend(lo.iter().enumerate().rev().map(|(t, &v)| point(t + 1, v)));
        svg.polygon(&poly, BAND);
    }
    let line: Vec<(f64, f64)> = std::iter::once(point(0, 0.0))
        .chain(mean.iter().enumerate().map(|(t, &v)| point(t + 1, v)))
        .collect();
    svg.line((left, y.at(0.0)), (right, y.at(0.0)), INK, 1.0, false);
    svg.polyline(&line, BLUE, 2.0);
    if let Some((year, text)) = payback.filter(|(year, _)| *year <= n as f64) {
        let px = x.at(year);
        svg.line((px, top), (px, bottom), INK, 1.2, true);
        let anchor = if px > (left + right) / 2.0 { "end" } else { "start" };
        let dx = if anchor == "end" { -4.0 } else { 4.0 };
        svg.text_styled(px + dx, top + 12.0, anchor, "font-weight=\"bold\"", text);
    }
    let mut legend = vec![(BLUE, labels.legend.first().copied().unwrap_or(""))];
    if band.is_some() {
        legend.push((BAND, labels.legend.get(1).copied().unwrap_or("")));
    }
    svg.legend(left, 18.0, &legend);
    svg.text((left + right) / 2.0, height - 8.0, "middle", labels.x);
    svg.y_title(14.0, (top + bottom) / 2.0, labels.y);
    svg.finish()
}

/// One panel of [`annual_cost`]: a title and, per series, a value per year of age.
pub struct Panel<'a> {
    pub title: &'a str,
    pub series: Vec<Vec<f64>>,
}

/// Stacked bars per year of age, one panel per arm on a common scale;
/// `labels.legend` names the series, coloured by [`PALETTE`] in order.
pub fn annual_cost(panels: &[Panel<'_>], start_age: u32, labels: &Labels<'_>, fmt: &dyn Fn(f64) -> String) -> String {
    let panel_height = 170.0;
    let legend_rows = legend_rows(&labels.legend, WIDTH - 100.0);
    let head = 14.0 + 16.0 * legend_rows.len() as f64;
    let height = head + panels.len() as f64 * (panel_height + 24.0) + 40.0;
    let (left, right) = (84.0, WIDTH - 16.0);
    let mut svg = Svg::new(height, labels.title);
    for (r, row) in legend_rows.iter().enumerate() {
        let entries: Vec<(&str, &str)> = row
            .iter()
            .map(|&i| (PALETTE[i % PALETTE.len()], labels.legend[i]))
            .collect();
        svg.legend(left, 18.0 + 16.0 * r as f64, &entries);
    }
    let n = panels
        .iter()
        .map(|p| p.series.first().map_or(0, Vec::len))
        .max()
        .unwrap_or(0);
    let totals = panels
        .iter()
        .flat_map(|p| (0..n).map(move |t| p.series.iter().map(|s| s.get(t).copied().unwrap_or(0.0).max(0.0)).sum()));
    let (_, hi) = min_max(totals.chain([0.0]));
    let yt = ticks(0.0, hi, 4);
    let x = Scale {
        d0: 0.0,
        d1: n.max(1) as f64,
        r0: left,
        r1: right,
    };
    let bar = (right - left) / n.max(1) as f64;
    for (k, panel) in panels.iter().enumerate() {
        let top = head + 12.0 + k as f64 * (panel_height + 24.0);
        let bottom = top + panel_height - 18.0;
        let y = Scale {
            d0: 0.0,
            d1: yt[yt.len() - 1],
            r0: bottom,
            r1: top + 14.0,
        };
        svg.text_styled(left, top + 8.0, "start", "font-weight=\"bold\"", panel.title);
        y_axis(&mut svg, &yt, y, left, right, fmt);
        for t in 0..n {
            let mut base = 0.0;
            for (s, series) in panel.series.iter().enumerate() {
                let v = series.get(t).copied().unwrap_or(0.0).max(0.0);
                if v > 0.0 {
                    let (y0, y1) = (y.at(base), y.at(base + v));
                    svg.rect(
                        x.at(t as f64) + 0.5,
                        y1,
                        (bar - 1.0).max(0.5),
                        y0 - y1,
                        PALETTE[s % PALETTE.len()],
                    );
                }
                base += v;
            }
        }
        for t in (0..=n).filter(|t| (start_age as usize + t).is_multiple_of(10)) {
            let px = x.at(t as f64) + bar / 2.0;
            svg.text(px, bottom + 13.0, "middle", &(start_age as usize + t).to_string());
        }
    }
    svg.text((left + right) / 2.0, height - 8.0, "middle", labels.x);
    svg.y_title(14.0, height / 2.0, labels.y);
    svg.finish()
}

/// Splits legend entries into rows that fit `width`.
fn legend_rows(names: &[&str], width: f64) -> Vec<Vec<usize>> {
    let mut rows: Vec<Vec<usize>> = vec![Vec::new()];
    let mut used = 0.0;
    for (i, name) in names.iter().enumerate() {
        let w = 30.0 + CHAR_WIDTH * name.chars().count() as f64;
        if used + w > width && !rows[rows.len() - 1].is_empty() {
            rows.push(Vec::new());
            used = 0.0;
        }
        let last = rows.len() - 1;
        rows[last].push(i);
        used += w;
    }
    rows
}

/// A histogram of `values` in about 30 bins, bars below zero in one colour and
/// above in another, a line at zero and `note` (the share above zero) in the corner.
pub fn histogram(values: &[f64], note: &str, labels: &Labels<'_>, fmt: &dyn Fn(f64) -> String) -> String {
    let height = 300.0;
    let (left, right, top, bottom) = (60.0, WIDTH - 36.0, 30.0, height - 44.0);
    let mut svg = Svg::new(height, labels.title);
    let (lo, hi) = min_max(values.iter().copied().chain([0.0]));
    let xt = ticks(lo, hi, 6);
    let (x0, x1) = (xt[0], xt[xt.len() - 1]);
    let bins = 30;
    let width = (x1 - x0) / bins as f64;
    let mut counts = vec![0usize; bins];
    for &v in values.iter().filter(|v| v.is_finite()) {
        let b = (((v - x0) / width).floor().max(0.0) as usize).min(bins - 1);
        counts[b] += 1;
    }
    let max = counts.iter().copied().max().unwrap_or(0) as f64;
    let yt = ticks(0.0, max.max(1.0), 4);
    let y = Scale {
        d0: 0.0,
        d1: yt[yt.len() - 1],
        r0: bottom,
        r1: top,
    };
    let x = Scale {
        d0: x0,
        d1: x1,
        r0: left,
        r1: right,
    };
    y_axis(&mut svg, &yt, y, left, right, &|t| format!("{t:.0}"));
    for (b, &count) in counts.iter().enumerate() {
        let from = x0 + b as f64 * width;
        let colour = if from + width / 2.0 > 0.0 { GOOD } else { BAD };
        let (px0, px1) = (x.at(from), x.at(from + width));
        svg.rect(
            px0 + 0.5,
            y.at(count as f64),
            (px1 - px0 - 1.0).max(0.5),
            bottom - y.at(count as f64),
            colour,
        );
    }
    for &t in &xt {
        svg.text(x.at(t), bottom + 14.0, "middle", &fmt(t));
    }
    svg.line((x.at(0.0), top), (x.at(0.0), bottom), INK, 1.5, false);
    svg.text_styled(right, top + 4.0, "end", "font-weight=\"bold\"", note);
    svg.legend(
        left,
        16.0,
        &[
            (BAD, labels.legend.first().copied().unwrap_or("")),
            (GOOD, labels.legend.get(1).copied().unwrap_or("")),
        ],
    );
    svg.text((left + right) / 2.0, height - 8.0, "middle", labels.x);
    svg.y_title(14.0, (top + bottom) / 2.0, labels.y);
    svg.finish()
}

/// Truncates a label to `max` characters with `…`.
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut s: String = text.chars().take(max - 1).collect();
        s.push('…');
        s
    }
}

/// The tornado: per bar `(label, npv_low, npv_high)`, drawn from the base case
/// to the NPV at the low value in one colour and at the high value in another.
pub fn tornado(base: f64, bars: &[(String, f64, f64)], labels: &Labels<'_>, fmt: &dyn Fn(f64) -> String) -> String {
    let row = 20.0;
    let top = 40.0;
    let height = top + row * bars.len() as f64 + 40.0;
    let names: Vec<String> = bars.iter().map(|b| clip(&b.0, 30)).collect();
    let widest = names.iter().map(|n| n.chars().count()).max().unwrap_or(0) as f64;
    let left = (widest * CHAR_WIDTH + 16.0).clamp(80.0, 210.0);
    let right = WIDTH - 20.0;
    let bottom = top + row * bars.len() as f64;
    let mut svg = Svg::new(height, labels.title);
    let (lo, hi) = min_max(bars.iter().flat_map(|b| [b.1, b.2]).chain([base, 0.0]));
    let xt = ticks(lo, hi, 6);
    let x = Scale {
        d0: xt[0],
        d1: xt[xt.len() - 1],
        r0: left,
        r1: right,
    };
    x_axis(&mut svg, &xt, x, top - 4.0, bottom, fmt);
    for (i, ((_, low, high), name)) in bars.iter().zip(&names).enumerate() {
        let y = top + row * i as f64;
        svg.text(left - 6.0, y + row / 2.0 + 4.0, "end", name);
        svg.rect(x.at(base), y + 3.0, x.at(*low) - x.at(base), row - 6.0, BAD);
        svg.rect(x.at(base), y + 3.0, x.at(*high) - x.at(base), row - 6.0, BLUE);
    }
    svg.line((x.at(base), top - 4.0), (x.at(base), bottom), INK, 1.5, false);
    svg.legend(
        left,
        18.0,
        &[
            (BAD, labels.legend.first().copied().unwrap_or("")),
            (BLUE, labels.legend.get(1).copied().unwrap_or("")),
        ],
    );
    svg.text((left + right) / 2.0, height - 6.0, "middle", labels.x);
    svg.finish()
}

/// Who pays, who gains: per row `(payer, cost, savings, net)`, the cost drawn
/// to the left of zero, the savings to the right, and the net as a black bar.
pub fn payers(rows: &[(String, f64, f64, f64)], labels: &Labels<'_>, fmt: &dyn Fn(f64) -> String) -> String {
    let row = 40.0;
    let top = 40.0;
    let height = top + row * rows.len() as f64 + 40.0;
    let names: Vec<String> = rows.iter().map(|r| clip(&r.0, 30)).collect();
    let widest = names.iter().map(|n| n.chars().count()).max().unwrap_or(0) as f64;
    let left = (widest * CHAR_WIDTH + 16.0).clamp(80.0, 210.0);
    let right = WIDTH - 20.0;
    let bottom = top + row * rows.len() as f64;
    let mut svg = Svg::new(height, labels.title);
    let (lo, hi) = min_max(rows.iter().flat_map(|r| [-r.1, r.2, r.3]).chain([0.0]));
    let xt = ticks(lo, hi, 6);
    let x = Scale {
        d0: xt[0],
        d1: xt[xt.len() - 1],
        r0: left,
        r1: right,
    };
    x_axis(&mut svg, &xt, x, top - 4.0, bottom, fmt);
    for (i, ((_, cost, savings, net), name)) in rows.iter().zip(&names).enumerate() {
        let y = top + row * i as f64;
        svg.text(left - 6.0, y + row / 2.0 + 4.0, "end", name);
        svg.rect(x.at(0.0), y + 4.0, x.at(-cost) - x.at(0.0), 10.0, BAD);
        svg.rect(x.at(0.0), y + 15.0, x.at(*savings) - x.at(0.0), 10.0, GOOD);
        svg.rect(x.at(0.0), y + 26.0, x.at(*net) - x.at(0.0), 8.0, INK);
    }
    svg.line((x.at(0.0), top - 4.0), (x.at(0.0), bottom), INK, 1.5, false);
    let legend: Vec<(&str, &str)> = [BAD, GOOD, INK]
        .into_iter()
        .zip(labels.legend.iter().copied())
        .collect();
    svg.legend(left, 18.0, &legend);
    svg.text((left + right) / 2.0, height - 6.0, "middle", labels.x);
    svg.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_cover_the_range_with_round_steps() {
        assert_eq!(ticks(0.0, 95.0, 5), vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        let t = ticks(-37_000.0, 66_000.0, 6);
        assert!(t[0] <= -37_000.0 && *t.last().unwrap() >= 66_000.0 && t.contains(&0.0));
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape("<a & 'b'>"), "&lt;a &amp; &#39;b&#39;&gt;");
        let svg = histogram(
            &[1.0, -1.0],
            "<script>",
            &Labels {
                title: "t",
                x: "x",
                y: "y",
                legend: vec![],
            },
            &|v| v.to_string(),
        );
        assert!(!svg.contains("<script>") && svg.contains("&lt;script&gt;"));
    }
}
