//! The report's two languages: labels, sentences and number formatting.
//!
//! Swedish writes `1 130 000 kr`, `1,25`, `62 %`; English writes
//! `SEK 1,130,000`, `1.25`, `62%`. Digit groups and the space before a unit
//! are no-break spaces (U+00A0), so a number never breaks across lines, and
//! negative numbers take the typographic minus `−`, as [`super::text::amount`] does.
//!
//! Every label and sentence of the report is here, so a translation is one
//! table; a sentence is a template whose `{name}` placeholders
//! [`Lang::fill`] replaces.

use crate::param::Confidence;
use crate::scenario::Perspective;

/// No-break space: between digit groups and before a unit.
const NBSP: char = '\u{a0}';

/// The language of a report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lang {
    /// English: `SEK 1,130,000`, `1.25`, `62%`. The default.
    #[default]
    En,
    /// Swedish: `1 130 000 kr`, `1,25`, `62 %`.
    Sv,
}

impl std::str::FromStr for Lang {
    type Err = String;

    fn from_str(s: &str) -> Result<Lang, String> {
        match s {
            "en" => Ok(Lang::En),
            "sv" => Ok(Lang::Sv),
            other => Err(format!("is `{other}`; expected `sv` or `en`")),
        }
    }
}

impl Lang {
    /// The language tag: `en` or `sv`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Sv => "sv",
        }
    }

    /// The labels and sentence templates of this language.
    pub fn labels(self) -> &'static Labels {
        match self {
            Lang::En => &EN,
            Lang::Sv => &SV,
        }
    }

    fn separators(self) -> (char, char) {
        match self {
            Lang::En => (',', '.'),
            Lang::Sv => (NBSP, ','),
        }
    }

    /// `x` with `digits` decimals, digits grouped by three, `−` for minus; `–` when not finite.
    ///
    /// ```
    /// use lifecost::report::lang::Lang;
    /// assert_eq!(Lang::Sv.number(-1_130_000.4, 0), "−1\u{a0}130\u{a0}000");
    /// assert_eq!(Lang::En.number(1.254, 2), "1.25");
    /// ```
    pub fn number(self, x: f64, digits: usize) -> String {
        if !x.is_finite() {
            return "–".to_owned();
        }
        let (group, decimal) = self.separators();
        let text = format!("{:.*}", digits, x.abs());
        let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
        let mut out = String::new();
        for (i, ch) in int.chars().enumerate() {
            if i > 0 && (int.len() - i) % 3 == 0 {
                out.push(group);
            }
            out.push(ch);
        }
        if !frac.is_empty() {
            out.push(decimal);
            out.push_str(frac);
        }
        // `-0.0` and amounts that round to zero get no sign.
        let negative = x < 0.0 && out.chars().any(|c| c.is_ascii_digit() && c != '0');
        if negative { format!("−{out}") } else { out }
    }

    /// A whole amount with its currency: `1 130 000 kr` or `SEK 1,130,000`.
    ///
    /// ```
    /// use lifecost::report::lang::Lang;
    /// assert_eq!(Lang::Sv.money(1_130_000.0, "SEK"), "1\u{a0}130\u{a0}000\u{a0}kr");
    /// assert_eq!(Lang::En.money(-12_074.8, "SEK"), "SEK\u{a0}−12,075");
    /// ```
    pub fn money(self, x: f64, currency: &str) -> String {
        let n = self.number(x, 0);
        match self {
            Lang::Sv if matches!(currency, "SEK" | "NOK" | "DKK") => format!("{n}{NBSP}kr"),
            Lang::Sv => format!("{n}{NBSP}{currency}"),
            Lang::En => format!("{currency}{NBSP}{n}"),
        }
    }

    /// A share as a percentage: `62 %` or `62%`.
    pub fn percent(self, share: f64, digits: usize) -> String {
        let n = self.number(100.0 * share, digits);
        match self {
            Lang::Sv => format!("{n}{NBSP}%"),
            Lang::En => format!("{n}%"),
        }
    }

    /// Years with one decimal (`10.1 years`, `10,1 år`), or that there are none within the horizon.
    pub fn years(self, y: Option<f64>) -> String {
        match y {
            Some(y) => format!("{}{NBSP}{}", self.number(y, 1), self.labels().years_unit),
            None => self.labels().never.to_owned(),
        }
    }

    /// An interval: `a to b` or `a till b`.
    pub fn interval(self, lo: &str, hi: &str) -> String {
        format!("{lo} {} {hi}", self.labels().to)
    }

    /// The perspective's name.
    pub fn perspective(self, p: Perspective) -> &'static str {
        let l = self.labels();
        match p {
            Perspective::Fiscal => l.fiscal,
            Perspective::Societal => l.societal,
        }
    }

    /// A confidence level's name.
    pub fn confidence(self, c: Confidence) -> &'static str {
        let (en, sv) = match c {
            Confidence::High => ("high", "hög"),
            Confidence::Medium => ("medium", "medel"),
            Confidence::Low => ("low", "låg"),
            Confidence::Sourced => ("sourced", "källbelagd"),
            Confidence::Secondary => ("secondary", "sekundär"),
            Confidence::Derived => ("derived", "härledd"),
            Confidence::Unverified => ("unverified", "overifierad"),
            Confidence::Assumption => ("assumption", "antagande"),
        };
        match self {
            Lang::En => en,
            Lang::Sv => sv,
        }
    }

    /// Replaces each `{name}` of `template` by its value.
    ///
    /// ```
    /// use lifecost::report::lang::Lang;
    /// assert_eq!(Lang::En.fill("{a} and {b}", &[("a", "x".into()), ("b", "y".into())]), "x and y");
    /// ```
    pub fn fill(self, template: &str, values: &[(&str, String)]) -> String {
        let mut out = template.to_owned();
        for (name, value) in values {
            out = out.replace(&format!("{{{name}}}"), value);
        }
        out
    }
}

/// Every label and sentence template of the report in one language.
#[derive(Debug)]
pub struct Labels {
    pub subtitle: &'static str,
    pub years_unit: &'static str,
    pub never: &'static str,
    pub to: &'static str,
    pub fiscal: &'static str,
    pub societal: &'static str,
    pub flagged: &'static str,
    pub flag_unverified: &'static str,
    pub flag_assumption: &'static str,
    pub flag_unsourced: &'static str,
    // Section headings.
    pub h_summary: &'static str,
    pub h_headline: &'static str,
    pub h_payers: &'static str,
    pub h_cumulative: &'static str,
    pub h_annual: &'static str,
    pub h_histogram: &'static str,
    pub h_tornado: &'static str,
    pub h_who_pays: &'static str,
    pub h_break_even: &'static str,
    pub h_budget: &'static str,
    pub h_assumptions: &'static str,
    pub h_reproducibility: &'static str,
    // Summary sentences.
    pub s_npv_interval: &'static str,
    pub s_npv_base: &'static str,
    pub s_probability: &'static str,
    pub s_payback_both: &'static str,
    pub s_payback_discounted: &'static str,
    pub s_payback_budget_only: &'static str,
    pub s_payback_never: &'static str,
    pub s_program: &'static str,
    // Headline table.
    pub figure: &'static str,
    pub mean: &'static str,
    pub interval90: &'static str,
    pub savings: &'static str,
    pub intervention_cost: &'static str,
    pub npv: &'static str,
    pub npv_short: &'static str,
    pub bcr: &'static str,
    pub roi: &'static str,
    pub prob_positive: &'static str,
    pub payback_discounted: &'static str,
    pub payback_budget: &'static str,
    pub program_npv: &'static str,
    pub not_defined: &'static str,
    pub headline_note: &'static str,
    // Payer table.
    pub payer: &'static str,
    pub public: &'static str,
    pub yes: &'static str,
    pub no: &'static str,
    pub cost: &'static str,
    pub net: &'static str,
    pub payback: &'static str,
    pub total_fiscal: &'static str,
    pub total_societal: &'static str,
    pub payers_note: &'static str,
    // Charts.
    pub years_from_start: &'static str,
    pub per_child: &'static str,
    pub cumulative_caption: &'static str,
    pub cumulative_caption_no_band: &'static str,
    pub band90: &'static str,
    pub expected: &'static str,
    pub payback_marker: &'static str,
    pub age: &'static str,
    pub status_quo: &'static str,
    pub intervention_costs: &'static str,
    pub annual_caption: &'static str,
    pub draws: &'static str,
    pub histogram_caption: &'static str,
    pub share_above_zero: &'static str,
    pub tornado_caption: &'static str,
    pub tornado_low: &'static str,
    pub tornado_high: &'static str,
    pub tornado_none: &'static str,
    pub parameter: &'static str,
    pub low: &'static str,
    pub high: &'static str,
    pub npv_low: &'static str,
    pub npv_high: &'static str,
    pub who_pays_caption: &'static str,
    pub discount_rate: &'static str,
    // Break-even.
    pub be_effect: &'static str,
    pub be_effect_above: &'static str,
    pub be_without_effect: &'static str,
    pub be_never: &'static str,
    pub be_children: &'static str,
    pub be_curve: &'static str,
    // Budget.
    pub year: &'static str,
    pub total: &'static str,
    pub budget_note: &'static str,
    // Assumptions.
    pub value: &'static str,
    pub unit: &'static str,
    pub price_year: &'static str,
    pub source: &'static str,
    pub confidence: &'static str,
    pub flag: &'static str,
    pub assumptions_note: &'static str,
    pub settings: &'static str,
    // Footer.
    pub version: &'static str,
    pub seed: &'static str,
    pub n_draws: &'static str,
    pub children: &'static str,
    pub children_cohort: &'static str,
    pub engine: &'static str,
    pub scenario_hash: &'static str,
    pub recreate: &'static str,
}

static EN: Labels = Labels {
    subtitle: "{intervention} compared with the status quo: per child, {perspective}, {currency} at {price_year} prices, present values",
    years_unit: "years",
    never: "not within the horizon",
    to: "to",
    fiscal: "fiscal perspective (public payers)",
    societal: "societal perspective (all payers)",
    flagged: "Flagged figures: {list}. Results that rest on them should be read with care; the assumption table marks each one with ⚑.",
    flag_unverified: "{n} unverified",
    flag_assumption: "{n} assumptions",
    flag_unsourced: "{n} without source or confidence",
    h_summary: "Summary",
    h_headline: "Headline figures",
    h_payers: "Savings by payer and perspective",
    h_cumulative: "Cumulative net benefit over time",
    h_annual: "Expected annual cost per child by age",
    h_histogram: "Distribution of the NPV across draws",
    h_tornado: "One-way sensitivity",
    h_who_pays: "Who pays, who gains",
    h_break_even: "Break-even",
    h_budget: "Budget impact per calendar year",
    h_assumptions: "Assumptions and sources",
    h_reproducibility: "Reproducibility",
    s_npv_interval: "The net present value is {npv} per child (90 % interval {lo} to {hi}).",
    s_npv_base: "The net present value is {npv} per child (base case, no uncertainty drawn).",
    s_probability: "The chance that the program pays back over the children's lifetime is {p}.",
    s_payback_both: "It pays back after {d} ({u} in the undiscounted budget view).",
    s_payback_discounted: "It pays back after {d} in present value; in the undiscounted budget view not within the horizon.",
    s_payback_budget_only: "It does not pay back in present value; in the undiscounted budget view it does after {u}.",
    s_payback_never: "It does not pay back within the horizon.",
    s_program: "For the whole program, {children} children over {years} year(s), the net present value is {npv}.",
    figure: "Figure",
    mean: "Mean",
    interval90: "90 % interval",
    savings: "Savings",
    intervention_cost: "Intervention cost",
    npv: "Net present value (NPV)",
    npv_short: "NPV",
    bcr: "Benefit–cost ratio (BCR)",
    roi: "Return on investment (ROI)",
    prob_positive: "P(NPV > 0)",
    payback_discounted: "Payback year, discounted",
    payback_budget: "Payback year, budget view (undiscounted)",
    program_npv: "Program NPV, all {children} children",
    not_defined: "not defined (no cost)",
    headline_note: "Per child of the population, participants or not. Means and 90 % intervals over {draws} draws of every uncertain parameter; payback years from the expected streams.",
    payer: "Payer",
    public: "Public",
    yes: "yes",
    no: "no",
    cost: "Cost",
    net: "Net",
    payback: "Payback",
    total_fiscal: "Total, fiscal perspective (public payers)",
    total_societal: "Total, societal perspective (all payers)",
    payers_note: "Savings with their 90 % interval across draws; cost and net are means. Each payer's payback year is on its own flows, discounted.",
    years_from_start: "Years from the start (age {age} = year 0)",
    per_child: "{currency} per child",
    cumulative_caption: "Cumulative discounted net benefit (savings − cost) per child, mean and 90 % band across draws; the dashed line marks the discounted payback year.",
    cumulative_caption_no_band: "Cumulative discounted net benefit (savings − cost) per child of the expected streams; the dashed line marks the discounted payback year.",
    band90: "90 % band",
    expected: "Mean",
    payback_marker: "Payback {years}",
    age: "Age",
    status_quo: "Status quo",
    intervention_costs: "The intervention's own costs",
    annual_caption: "Undiscounted expected cost per child in each year of age, stacked by payer, {perspective}; the intervention's own costs on top.",
    draws: "Draws",
    histogram_caption: "NPV per child in each of {draws} draws; {share} of the draws lie above zero.",
    share_above_zero: "NPV > 0 in {share} of draws",
    tornado_caption: "NPV per child with one parameter at a time at its low and high value (5th and 95th percentile unless written in the scenario), every other at its base case; widest swing first. Base case {base}.",
    tornado_low: "Parameter at its low value",
    tornado_high: "Parameter at its high value",
    tornado_none: "The scenario has no uncertain named parameter to vary.",
    parameter: "Parameter",
    low: "Low",
    high: "High",
    npv_low: "NPV at low",
    npv_high: "NPV at high",
    who_pays_caption: "Per payer: the intervention's cost it carries, the savings it receives and the net, per child, present value.",
    discount_rate: "NPV at a constant discount rate of {rates}.",
    be_effect: "The program breaks even with {share} of the assumed effect.",
    be_effect_above: "The program needs {share} of the assumed effect to break even: a stronger effect than assumed.",
    be_without_effect: "The program pays back even with no effect at all.",
    be_never: "The program does not break even, even with 8 times the assumed effect.",
    be_children: "It pays back if it keeps {children} children out of {state} (each avoided entry saves {excess} over the child's lifetime).",
    be_curve: "P(NPV > 0) at a fraction of the assumed effect: {points}.",
    year: "Year",
    total: "Total",
    budget_note: "Net budget impact (savings − cost, undiscounted) of the whole program per calendar year and payer, for the first {n} years.",
    value: "Value",
    unit: "Unit",
    price_year: "Price year",
    source: "Source",
    confidence: "Confidence",
    flag: "Flag",
    assumptions_note: "Every figure of the scenario, at {currency} {price_year} prices; a distribution's mean is its base-case value. ⚑ marks figures that are unverified, assumptions, or without source or confidence.",
    settings: "Settings",
    version: "lifecost version",
    seed: "Seed",
    n_draws: "Draws",
    children: "Children simulated per draw",
    children_cohort: "– (cohort engine: exact expected occupancy)",
    engine: "Engine",
    scenario_hash: "Scenario hash",
    recreate: "The same scenario, seed and draws give the same figures on any machine:",
};

static SV: Labels = Labels {
    subtitle: "{intervention} jämfört med nuläget: per barn, {perspective}, {currency} i {price_year} års priser, nuvärden",
    years_unit: "år",
    never: "inte inom tidshorisonten",
    to: "till",
    fiscal: "offentligfinansiellt perspektiv (offentliga kostnadsbärare)",
    societal: "samhällsekonomiskt perspektiv (alla kostnadsbärare)",
    flagged: "Flaggade uppgifter: {list}. Resultat som vilar på dem bör läsas med försiktighet; antagandetabellen markerar var och en med ⚑.",
    flag_unverified: "{n} overifierade",
    flag_assumption: "{n} antaganden",
    flag_unsourced: "{n} utan källa eller tillförlitlighet",
    h_summary: "Sammanfattning",
    h_headline: "Huvudresultat",
    h_payers: "Besparingar per kostnadsbärare och perspektiv",
    h_cumulative: "Ackumulerad nettonytta över tid",
    h_annual: "Förväntad årlig kostnad per barn efter ålder",
    h_histogram: "Nettonuvärdets fördelning över dragningar",
    h_tornado: "Envägs känslighetsanalys",
    h_who_pays: "Vem betalar, vem vinner",
    h_break_even: "Nollpunkt",
    h_budget: "Budgetpåverkan per kalenderår",
    h_assumptions: "Antaganden och källor",
    h_reproducibility: "Reproducerbarhet",
    s_npv_interval: "Nettonuvärdet är {npv} per barn (90 % intervall {lo} till {hi}).",
    s_npv_base: "Nettonuvärdet är {npv} per barn (grundscenario, ingen osäkerhet dragen).",
    s_probability: "Sannolikheten att satsningen betalar sig över barnens livstid är {p}.",
    s_payback_both: "Den betalar sig efter {d} ({u} i den odiskonterade budgetvyn).",
    s_payback_discounted: "Den betalar sig efter {d} i nuvärde; i den odiskonterade budgetvyn inte inom tidshorisonten.",
    s_payback_budget_only: "Den betalar sig inte i nuvärde; i den odiskonterade budgetvyn efter {u}.",
    s_payback_never: "Den betalar sig inte inom tidshorisonten.",
    s_program: "För hela satsningen, {children} barn under {years} år, är nettonuvärdet {npv}.",
    figure: "Mått",
    mean: "Medelvärde",
    interval90: "90 % intervall",
    savings: "Besparingar",
    intervention_cost: "Insatsens kostnad",
    npv: "Nettonuvärde (NNV)",
    npv_short: "NNV",
    bcr: "Nytta–kostnadskvot",
    roi: "Avkastning på investering (ROI)",
    prob_positive: "P(NNV > 0)",
    payback_discounted: "Återbetalningstid, diskonterad",
    payback_budget: "Återbetalningstid, budgetvy (odiskonterad)",
    program_npv: "Satsningens nettonuvärde, alla {children} barn",
    not_defined: "ej definierad (ingen kostnad)",
    headline_note: "Per barn i målgruppen, deltagare eller inte. Medelvärden och 90 % intervall över {draws} dragningar av varje osäker parameter; återbetalningstider från de förväntade flödena.",
    payer: "Kostnadsbärare",
    public: "Offentlig",
    yes: "ja",
    no: "nej",
    cost: "Kostnad",
    net: "Netto",
    payback: "Återbetalning",
    total_fiscal: "Summa, offentligfinansiellt perspektiv (offentliga kostnadsbärare)",
    total_societal: "Summa, samhällsekonomiskt perspektiv (alla kostnadsbärare)",
    payers_note: "Besparingar med 90 % intervall över dragningarna; kostnad och netto är medelvärden. Varje kostnadsbärares återbetalningstid gäller dess egna flöden, diskonterat.",
    years_from_start: "År från start (ålder {age} = år 0)",
    per_child: "{currency} per barn",
    cumulative_caption: "Ackumulerad diskonterad nettonytta (besparingar − kostnad) per barn, medelvärde och 90 % band över dragningarna; den streckade linjen markerar den diskonterade återbetalningstiden.",
    cumulative_caption_no_band: "Ackumulerad diskonterad nettonytta (besparingar − kostnad) per barn för de förväntade flödena; den streckade linjen markerar den diskonterade återbetalningstiden.",
    band90: "90 % band",
    expected: "Medelvärde",
    payback_marker: "Återbetald {years}",
    age: "Ålder",
    status_quo: "Nuläget",
    intervention_costs: "Insatsens egna kostnader",
    annual_caption: "Odiskonterad förväntad kostnad per barn vid varje ålder, staplad per kostnadsbärare, {perspective}; insatsens egna kostnader överst.",
    draws: "Dragningar",
    histogram_caption: "Nettonuvärde per barn i var och en av {draws} dragningar; {share} av dragningarna ligger över noll.",
    share_above_zero: "NNV > 0 i {share} av dragningarna",
    tornado_caption: "Nettonuvärde per barn med en parameter i taget på sitt låga och höga värde (5:e och 95:e percentilen om inte scenariot anger dem), övriga i grundscenariot; störst utslag först. Grundscenario {base}.",
    tornado_low: "Parametern på sitt låga värde",
    tornado_high: "Parametern på sitt höga värde",
    tornado_none: "Scenariot har ingen osäker namngiven parameter att variera.",
    parameter: "Parameter",
    low: "Lågt",
    high: "Högt",
    npv_low: "NNV vid lågt",
    npv_high: "NNV vid högt",
    who_pays_caption: "Per kostnadsbärare: insatsens kostnad som den bär, besparingarna den får och nettot, per barn, nuvärde.",
    discount_rate: "Nettonuvärde vid en fast diskonteringsränta på {rates}.",
    be_effect: "Satsningen går jämnt ut med {share} av den antagna effekten.",
    be_effect_above: "Satsningen behöver {share} av den antagna effekten för att gå jämnt ut: en starkare effekt än den antagna.",
    be_without_effect: "Satsningen betalar sig även helt utan effekt.",
    be_never: "Satsningen går inte jämnt ut ens med 8 gånger den antagna effekten.",
    be_children: "Den betalar sig om den håller {children} barn borta från {state} (varje undviken insättning sparar {excess} över barnets livstid).",
    be_curve: "P(NNV > 0) vid en andel av den antagna effekten: {points}.",
    year: "År",
    total: "Summa",
    budget_note: "Nettopåverkan på budgeten (besparingar − kostnad, odiskonterat) för hela satsningen per kalenderår och kostnadsbärare, de första {n} åren.",
    value: "Värde",
    unit: "Enhet",
    price_year: "Prisår",
    source: "Källa",
    confidence: "Tillförlitlighet",
    flag: "Flagga",
    assumptions_note: "Varje uppgift i scenariot, i {currency} i {price_year} års priser; en fördelnings medelvärde är dess värde i grundscenariot. ⚑ markerar uppgifter som är overifierade, antaganden eller saknar källa eller tillförlitlighet.",
    settings: "Inställningar",
    version: "lifecost-version",
    seed: "Slumpfrö",
    n_draws: "Dragningar",
    children: "Simulerade barn per dragning",
    children_cohort: "– (kohortmotor: exakt förväntad fördelning)",
    engine: "Beräkningsmotor",
    scenario_hash: "Scenariots hash",
    recreate: "Samma scenario, slumpfrö och antal dragningar ger samma siffror på varje dator:",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_each_language() {
        assert_eq!(Lang::Sv.money(1_130_000.0, "SEK"), "1\u{a0}130\u{a0}000\u{a0}kr");
        assert_eq!(Lang::En.money(1_130_000.0, "SEK"), "SEK\u{a0}1,130,000");
        assert_eq!(Lang::Sv.number(1.25, 2), "1,25");
        assert_eq!(Lang::En.number(-0.2, 0), "0");
        assert_eq!(Lang::Sv.percent(0.626, 0), "63\u{a0}%");
        assert_eq!(Lang::En.percent(0.625, 1), "62.5%");
        assert_eq!(Lang::En.number(f64::NAN, 0), "–");
    }
}
