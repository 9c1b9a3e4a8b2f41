//! Scenarios built on a base: `[scenario] base = "tsi_sweden"`.
//!
//! A seed scenario usually shares the life-course model of a base scenario
//! and brings its own population, program and effects. The file is merged
//! onto its base: tables merge key by key (the file's keys win), arrays —
//! states, transitions, population, interventions — replace the base's
//! whole. A base may itself have a base, up to [`MAX_DEPTH`] levels.

use std::path::{Path, PathBuf};

use super::DEFAULT_SCENARIO_TOML;
use super::locate::{locate_exact, location_of};
use crate::error::{Error, Result, ScenarioError};

/// How many bases deep a scenario may go.
pub const MAX_DEPTH: usize = 4;

/// Bases shipped with the crate, by name.
pub const SHIPPED: &[(&str, &str)] = &[("tsi_sweden", DEFAULT_SCENARIO_TOML)];

/// One source text of a merged scenario, for locating errors.
pub(crate) struct Layer {
    pub label: String,
    pub source: String,
}

/// The name of the base a TOML text asks for, if any.
pub(crate) fn base_of(table: &toml::Table) -> Option<&str> {
    table.get("scenario")?.as_table()?.get("base")?.as_str()
}

/// Parses `source` and merges it onto its bases; `dir` resolves base files.
/// Returns the merged table and the layers, the file itself first.
pub(crate) fn merged(source: &str, dir: Option<&Path>) -> Result<(toml::Table, Vec<Layer>)> {
    let mut layers = vec![Layer {
        label: "this file".to_owned(),
        source: source.to_owned(),
    }];
    let mut tables = vec![parse(source)?];
    let mut dir: Option<PathBuf> = dir.map(Path::to_owned);
    while let Some(name) = base_of(tables.last().expect("at least the file itself")).map(str::to_owned) {
        if layers.len() > MAX_DEPTH {
            return Err(at_base(
                &layers,
                format!("is `{name}`, more than {MAX_DEPTH} bases deep; expected a shorter chain"),
            ));
        }
        if layers.iter().any(|l| l.label == name) {
            return Err(at_base(
                &layers,
                format!("is `{name}`, which is already in the chain; expected no cycle"),
            ));
        }
        let (text, next_dir) = read_base(&name, dir.as_deref()).map_err(|m| at_base(&layers, m))?;
        tables.push(parse(&text).map_err(|e| match e {
            Error::Scenario(mut s) => {
                s.message = format!("{} (in base `{name}`)", s.message);
                Error::Scenario(s)
            }
            other => other,
        })?);
        layers.push(Layer {
            label: name,
            source: text,
        });
        dir = next_dir;
    }
    let mut merged = tables.pop().expect("at least the file itself");
    while let Some(child) = tables.pop() {
        merge(&mut merged, child);
    }
    if let Some(scenario) = merged.get_mut("scenario").and_then(toml::Value::as_table_mut) {
        scenario.remove("base");
    }
    Ok((merged, layers))
}

fn parse(source: &str) -> Result<toml::Table> {
    source.parse::<toml::Table>().map_err(|e| {
        Error::Scenario(ScenarioError {
            path: String::new(),
            message: e.message().trim_end().to_owned(),
            location: e.span().map(|s| location_of(source, s.start)),
        })
    })
}

fn at_base(layers: &[Layer], message: String) -> Error {
    let last = layers.last().expect("at least the file itself");
    let mut e = ScenarioError::new("scenario.base", message);
    e.location = locate_exact(&last.source, "scenario.base");
    if layers.len() > 1 {
        e.message = format!("{} (in base `{}`)", e.message, last.label);
    }
    Error::Scenario(e)
}

fn read_base(name: &str, dir: Option<&Path>) -> std::result::Result<(String, Option<PathBuf>), String> {
    if let Some((_, text)) = SHIPPED.iter().find(|(n, _)| *n == name) {
        return Ok(((*text).to_owned(), dir.map(Path::to_owned)));
    }
    let shipped: Vec<&str> = SHIPPED.iter().map(|(n, _)| *n).collect();
    let Some(dir) = dir else {
        return Err(format!(
            "is `{name}`, which is not a shipped base; expected one of: {} (a base file needs a scenario read from a file)",
            shipped.join(", ")
        ));
    };
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "is `{name}`, which cannot be read ({e}); expected one of: {} or a TOML file beside this one",
            shipped.join(", ")
        )
    })?;
    Ok((text, path.parent().map(Path::to_owned)))
}

/// Tables merge key by key, the child's keys winning; anything else is replaced.
fn merge(base: &mut toml::Table, child: toml::Table) {
    for (key, value) in child {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(c)) => merge(b, c),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// Adds the line and column of an error's path: in the file if it writes
/// that field, else in the base that does.
pub(crate) fn locate_in_layers(mut error: ScenarioError, layers: &[Layer]) -> ScenarioError {
    if error.location.is_some() || error.path.is_empty() {
        return error;
    }
    for (i, layer) in layers.iter().enumerate() {
        if let Some(at) = locate_exact(&layer.source, &error.path) {
            error.location = Some(at);
            if i > 0 {
                error.message = format!("{} (in base `{}`)", error.message, layer.label);
            }
            return error;
        }
    }
    error.location = super::locate::locate(&layers[0].source, &error.path);
    error
}
