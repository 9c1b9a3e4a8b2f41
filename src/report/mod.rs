//! Reports: the readable summary, and files written whole or not at all;
//! with the `report` feature, the grant-ready report ([`document`], rendered by [`html`] and [`markdown`])
//! and CSV files of a run ([`csv`]).

pub mod assumptions;
#[cfg(feature = "report")]
pub mod charts;
#[cfg(feature = "report")]
pub mod csv;
#[cfg(feature = "report")]
pub mod document;
#[cfg(feature = "report")]
pub mod html;
#[cfg(feature = "report")]
pub mod lang;
#[cfg(feature = "report")]
pub mod markdown;
pub mod output;
pub mod text;
