//! How a number is written in a scenario file: a value, a `"$name"`
//! reference, or a table with a distribution and its provenance.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A number as written in a scenario: `0.7`, `"$hr_placement"` or
/// `{ lognormal = { median = 0.7, ci95 = [0.5, 0.98] }, source = "…" }`.
#[derive(Clone, Debug, PartialEq)]
pub enum Quantity {
    /// A plain number.
    Number(f64),
    /// A reference to a named parameter, written `"$name"` (stored without the `$`).
    Reference(String),
    /// A table: a fixed `value` or a distribution, with its provenance.
    Table(Box<ParameterSpec>),
}

impl From<f64> for Quantity {
    fn from(x: f64) -> Self {
        Quantity::Number(x)
    }
}

impl Serialize for Quantity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Quantity::Number(x) => serializer.serialize_f64(*x),
            Quantity::Reference(name) => serializer.serialize_str(&format!("${name}")),
            Quantity::Table(spec) => spec.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct QuantityVisitor;

        impl<'de> Visitor<'de> for QuantityVisitor {
            type Value = Quantity;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number, a \"$name\" reference or a table such as { gamma = { mean = 1.0, sd = 0.1 } }")
            }

            fn visit_f64<E: de::Error>(self, x: f64) -> Result<Quantity, E> {
                Ok(Quantity::Number(x))
            }

            fn visit_i64<E: de::Error>(self, x: i64) -> Result<Quantity, E> {
                Ok(Quantity::Number(x as f64))
            }

            fn visit_u64<E: de::Error>(self, x: u64) -> Result<Quantity, E> {
                Ok(Quantity::Number(x as f64))
            }

            fn visit_str<E: de::Error>(self, s: &str) -> Result<Quantity, E> {
                match s.strip_prefix('$') {
                    Some(name) if !name.is_empty() => Ok(Quantity::Reference(name.to_owned())),
                    _ => Err(E::invalid_value(
                        de::Unexpected::Str(s),
                        &"a number or a \"$name\" reference to a parameter",
                    )),
                }
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Quantity, A::Error> {
                let spec = ParameterSpec::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(Quantity::Table(Box::new(spec)))
            }
        }

        deserializer.deserialize_any(QuantityVisitor)
    }
}

/// A named parameter (`[parameters.<name>]`) or an inline table: exactly one
/// of `value` or a distribution, plus where the figure comes from.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParameterSpec {
    /// A fixed value, or `"$name"` to alias another parameter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Scalar>,
    /// `{ mean, sd }` (method of moments) or `{ alpha, beta }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beta: Option<DistArgs>,
    /// `{ mean, sd }` (method of moments) or `{ shape, scale }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gamma: Option<DistArgs>,
    /// `{ mean, sd }` on the natural scale, or `{ median, ci95 = [lo, hi] }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lognormal: Option<DistArgs>,
    /// `{ mean, sd }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normal: Option<DistArgs>,
    /// `{ min, max }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uniform: Option<DistArgs>,
    /// `{ min, mode, max }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triangular: Option<DistArgs>,
    /// `{ min, mode, max }` (beta-PERT, λ = 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pert: Option<DistArgs>,
    /// Truncation bounds `[lo, hi]` of a distribution: draws fall within them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncate: Option<[f64; 2]>,
    /// Low value for one-way sensitivity; defaults to the 5th percentile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low: Option<f64>,
    /// High value for one-way sensitivity; defaults to the 95th percentile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_year: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<Confidence>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The value of `value = …`: a number or a `"$name"` alias.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar {
    Number(f64),
    Reference(String),
}

impl Serialize for Scalar {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Scalar::Number(x) => serializer.serialize_f64(*x),
            Scalar::Reference(name) => serializer.serialize_str(&format!("${name}")),
        }
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Quantity::deserialize(deserializer)? {
            Quantity::Number(x) => Ok(Scalar::Number(x)),
            Quantity::Reference(name) => Ok(Scalar::Reference(name)),
            Quantity::Table(_) => Err(de::Error::invalid_type(
                de::Unexpected::Map,
                &"a number or a \"$name\" reference",
            )),
        }
    }
}

/// The arguments of a distribution; which ones are allowed depends on the kind.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistArgs {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sd: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpha: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beta: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shape: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub median: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci95: Option<[f64; 2]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

/// How far a figure can be trusted.
///
/// `sourced`, `secondary`, `derived` and `unverified` follow the tags of the
/// Nordic data report; `high`, `medium` and `low` are a plain scale;
/// `assumption` marks a prior chosen by the analyst. `unverified` and
/// `assumption` are flagged wherever the figure is used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    High,
    Medium,
    Low,
    Sourced,
    Secondary,
    Derived,
    Unverified,
    Assumption,
}

impl Confidence {
    /// Whether outputs that use the figure must flag it.
    pub fn is_flagged(self) -> bool {
        matches!(self, Confidence::Unverified | Confidence::Assumption)
    }
}
