//! The pure domain of motcua: types, codes, Vietnamese text rules, the demo provinces.
//! No I/O, no async, no SQL: everything here is a function of its inputs.

pub mod access;
pub mod audit;
pub mod booking;
pub mod calendar;
pub mod catalogue;
pub mod codes;
pub mod deadline;
pub mod demo;
pub mod demo_2025;
pub mod documents;
pub mod dossier;
pub mod evaluation;
pub mod filetype;
pub mod forms;
pub mod lifecycle;
pub mod lunar;
pub mod map;
pub mod money;
pub mod queue;
pub mod queue_figures;
pub mod rules;
pub mod search;
pub mod stats;
pub mod text;
pub mod vietqr;
