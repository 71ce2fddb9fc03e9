//! The reports people read (issue: report): `report.html` in every date folder and
//! a month overview, each one self-contained file: inline CSS, inline SVG charts
//! drawn in Rust ([`svg`]), every data value escaped ([`html`]), no network.

pub mod day;
pub mod html;
pub mod month;
pub mod svg;
