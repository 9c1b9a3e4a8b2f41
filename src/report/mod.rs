//! Reports: the readable summary and the JSON result.

pub mod text;
