//! The readable summary: a grant table per comparison.

use std::fmt::Write;

use crate::result::{Comparison, RunResult};
use crate::stats::Estimate;

/// Groups digits by three with spaces, as Swedish and Norwegian texts do: `1 130 000`.
pub fn amount(x: f64) -> String {
    if !x.is_finite() {
        return "–".to_owned();
    }
    let rounded = x.round();
    let digits = format!("{:.0}", rounded.abs());
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(' ');
        }
        out.push(ch);
    }
    if rounded < 0.0 { format!("−{out}") } else { out }
}

fn with_interval(e: &Estimate, f: impl Fn(f64) -> String) -> String {
    if e.p95 > e.p5 {
        format!("{}  (90 %: {} to {})", f(e.mean), f(e.p5), f(e.p95))
    } else if e.se > 0.0 {
        format!("{}  (± {} MC s.e.)", f(e.mean), f(e.se))
    } else {
        f(e.mean)
    }
}

fn percent(x: f64) -> String {
    minus(format!("{:.0} %", 100.0 * x))
}

/// Writes a leading minus sign as the typographic `−`, as [`amount`] does.
fn minus(text: String) -> String {
    match text.strip_prefix('-') {
        Some(rest) => format!("−{rest}"),
        None => text,
    }
}

fn years(x: Option<f64>) -> String {
    match x {
        Some(y) => format!("{y:.1} years"),
        None => "not within the horizon".to_owned(),
    }
}

pub(crate) fn run_summary(run: &RunResult) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", run.scenario_name);
    let _ = writeln!(
        out,
        "engine {}, {} draw{}, seed {}, scenario {}",
        run.engine.as_str(),
        run.n_draws(),
        if run.n_draws() == 1 {
            " (base case: every parameter at its mean)"
        } else {
            "s"
        },
        run.seed,
        run.scenario_hash
    );
    if let Some(flags) = &run.flags {
        let _ = writeln!(out, "! {flags}");
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Lifetime cost per child ({} {} prices, present value, {} perspective)",
        run.currency,
        run.price_year,
        run.perspective.as_str()
    );
    for (a, id) in run.arm_ids().enumerate() {
        let e = run.arm_estimate(a, |f| f.cost);
        let _ = writeln!(out, "  {:<28} {:>14}", id, with_interval(&e, amount));
    }
    if let Some(distribution) = run.distribution() {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "Lifetime cost over {} simulated children per draw",
            amount(run.children().unwrap_or(0) as f64)
        );
        let _ = writeln!(
            out,
            "  {:<28} {:>12} {:>12} {:>12} {:>12}",
            "arm", "median", "p90", "p99", "top 10 %"
        );
        for (id, d) in run.arm_ids().zip(distribution) {
            let _ = writeln!(
                out,
                "  {:<28} {:>12} {:>12} {:>12} {:>10.0} %",
                id,
                amount(d.p50),
                amount(d.p90),
                amount(d.p99),
                100.0 * d.top10_share
            );
        }
        let _ = writeln!(
            out,
            "  (top 10 %: share of the total cost carried by the costliest tenth of children)"
        );
    }
    if run.stop() != crate::Stop::Fixed {
        let _ = writeln!(
            out,
            "Stopped by {} after {} draw(s).",
            run.stop().as_str(),
            run.n_draws()
        );
    }
    for c in run.comparisons() {
        let _ = writeln!(out);
        out.push_str(&comparison_summary(&c));
    }
    out
}

pub(crate) fn comparison_summary(c: &Comparison<'_>) -> String {
    let run = c.run();
    let cur = run.currency();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} ({}) vs status quo, per child, {} perspective",
        c.name(),
        c.intervention(),
        run.perspective().as_str()
    );
    let money = |x: f64| format!("{} {cur}", amount(x));
    let row = |out: &mut String, label: &str, value: String| {
        let _ = writeln!(out, "  {label:<34} {value:>16}");
    };
    row(&mut out, "Savings", with_interval(&c.savings(), money));
    row(
        &mut out,
        "Intervention cost",
        with_interval(&c.intervention_cost(), money),
    );
    row(&mut out, "Net present value (NPV)", with_interval(&c.npv(), money));
    row(
        &mut out,
        "Benefit–cost ratio (BCR)",
        c.bcr().map_or("not defined (no cost)".to_owned(), |e| {
            with_interval(&e, |x| format!("{x:.2}"))
        }),
    );
    row(
        &mut out,
        "Return on investment (ROI)",
        c.roi()
            .map_or("not defined (no cost)".to_owned(), |e| with_interval(&e, percent)),
    );
    let (discounted, undiscounted) = c.payback_year();
    row(&mut out, "Payback, discounted", years(discounted));
    row(&mut out, "Payback, budget view (undiscounted)", years(undiscounted));
    let b = &c.base().break_even;
    let break_even = match b.effect_scale {
        Some(0.0) => "pays back with no effect at all".to_owned(),
        Some(s) => format!("{:.0} % of the assumed effect", 100.0 * s),
        None => "never, even with 8× the assumed effect".to_owned(),
    };
    row(&mut out, "Break-even effect", break_even);
    if let (Some(state), Some(children)) = (&b.state, b.children) {
        let _ = writeln!(
            out,
            "  The program pays back if it keeps {children:.1} children out of `{state}` (each avoided entry saves {} {cur}).",
            amount(b.excess_cost.unwrap_or(f64::NAN))
        );
    }
    if let Some(e) = c.tax_adjustment() {
        let factor = c.run().adjustments.tax_factor.unwrap_or(0.0);
        row(
            &mut out,
            &format!("Deadweight cost of taxation (× {factor})"),
            with_interval(&e, money),
        );
    }
    if let (Some(e), Some(s)) = (c.sroi_npv(), c.run().adjustments.sroi) {
        let label = format!(
            "NPV with SROI attribution {:.0} %, deadweight {:.0} %, drop-off {:.0} %/yr",
            100.0 * s.attribution,
            100.0 * s.deadweight,
            100.0 * s.drop_off
        );
        let _ = writeln!(out, "  {label}: {}", with_interval(&e, money));
    }
    let curve = c.break_even_curve();
    if !curve.is_empty() {
        let points: Vec<String> = curve
            .iter()
            .map(|(s, p)| format!("{:.0} %→{:.0} %", 100.0 * s, 100.0 * p))
            .collect();
        let _ = writeln!(out, "  P(NPV > 0) at a fraction of the effect: {}", points.join(", "));
    }
    if run.n_draws() > 1 {
        let (p, se) = c.prob_npv_positive();
        row(
            &mut out,
            "P(NPV > 0)",
            format!("{:.1} % ± {:.1}", 100.0 * p, 100.0 * se),
        );
    }

    let base = c.base();
    let _ = writeln!(out);
    let _ = writeln!(out, "  Who pays, who gains (per child, {cur})");
    let _ = writeln!(
        out,
        "  {:<34} {:>12} {:>12} {:>12} {:>9}",
        "payer", "cost", "savings", "net", "payback"
    );
    for (p, (id, name, public)) in run.payers.iter().enumerate() {
        if !run.perspective().includes(*public) {
            continue;
        }
        let f = &base.by_payer[p];
        let label = if name == id { id.clone() } else { name.clone() };
        let payback = match base.payer_payback[p].discounted {
            _ if f.cost == 0.0 => "–".to_owned(),
            Some(y) => format!("{y:.1} y"),
            None => "never".to_owned(),
        };
        let _ = writeln!(
            out,
            "  {:<34} {:>12} {:>12} {:>12} {:>9}",
            label,
            amount(f.cost),
            amount(f.savings),
            amount(f.net),
            payback
        );
    }

    if !run.outcomes.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "  Outcomes (per child, discounted)     change   net cost per unit");
        for (o, name) in run.outcomes.iter().enumerate() {
            let icer = base.icer[o].map_or("–".to_owned(), |x| format!("{} {cur}", amount(x)));
            let change = minus(format!("{:.3}", base.incremental_outcomes[o]));
            let _ = writeln!(out, "  {:<34} {:>8} {:>19}", name, change, icer);
        }
    }

    let p = &base.program;
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "  Program: {} year{} × {} children = {} children, from {}",
        p.years,
        if p.years == 1 { "" } else { "s" },
        amount(p.children_per_year),
        amount(p.children),
        p.start_year
    );
    row(&mut out, "Program cost (PV)", money(p.cost));
    row(&mut out, "Program savings (PV)", money(p.savings));
    row(&mut out, "Program NPV", money(p.npv));
    out
}

/// The five sentences a grant application needs: the NPV with its 90 %
/// interval, the chance that it is positive, the payback year, and how much
/// effect — or how many diverted children — the program needs to pay back.
pub fn grant_sentences(c: &Comparison<'_>) -> String {
    let cur = c.run().currency();
    let npv = c.npv();
    let mut out = String::new();
    if npv.p95 > npv.p5 {
        let _ = writeln!(
            out,
            "The net present value is {} {cur} per child (90 % interval {} to {} {cur}).",
            amount(npv.mean),
            amount(npv.p5),
            amount(npv.p95)
        );
        let (p, se) = c.prob_npv_positive();
        let _ = writeln!(
            out,
            "The chance that it pays back over the lifetime is {:.0} % (± {:.0}).",
            100.0 * p,
            100.0 * se
        );
    } else {
        let _ = writeln!(
            out,
            "The net present value is {} {cur} per child (base case, no uncertainty drawn).",
            amount(npv.mean)
        );
    }
    let _ = match c.payback_year() {
        (Some(d), Some(u)) => writeln!(
            out,
            "It pays back after {d:.1} years ({u:.1} years in the undiscounted budget view)."
        ),
        (Some(d), None) => writeln!(out, "It pays back after {d:.1} years."),
        (None, Some(u)) => writeln!(
            out,
            "It does not pay back in present value; in the undiscounted budget view it does after {u:.1} years."
        ),
        (None, None) => writeln!(out, "It does not pay back within the horizon."),
    };
    let b = &c.base().break_even;
    let _ = match b.effect_scale {
        Some(0.0) => writeln!(out, "It pays back even with no effect at all."),
        Some(s) => writeln!(out, "It breaks even with {:.0} % of the assumed effect.", 100.0 * s),
        None => writeln!(out, "It does not break even even with 8 times the assumed effect."),
    };
    if let (Some(state), Some(children)) = (&b.state, b.children) {
        let _ = writeln!(out, "It pays back if it keeps {children:.1} children out of `{state}`.");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::amount;

    #[test]
    fn amounts_group_by_three() {
        assert_eq!(amount(1_130_000.0), "1 130 000");
        assert_eq!(amount(-999.6), "−1 000");
        assert_eq!(amount(12.0), "12");
    }
}
