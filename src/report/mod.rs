//! Reports: the readable summary, and files written whole or not at all.

pub mod assumptions;
pub mod output;
pub mod text;
