//! The service layer: one module per use case. A service takes a typed command and the
//! acting principal, applies the rules of `motcua_core`, writes through `motcua_store`,
//! and returns domain values or an [`AppError`](crate::error::AppError). The two skins sit
//! on top: `crate::api` turns JSON into commands and results into JSON, `crate::web`
//! turns forms into commands and results into pages. Neither skin imports the other.

pub mod accounts;
pub mod admin;
pub mod board;
pub mod booking;
pub mod calendar;
pub mod catalogue;
pub mod citizens;
pub mod deliveries;
pub mod documents;
pub mod dossiers;
pub mod evaluation;
pub mod oversight;
pub mod payments;
pub mod period;
pub mod queue;
pub mod queue_figures;
pub mod queue_live;
pub mod ratings;
pub mod reports;
pub mod rules;
pub mod trail;
pub mod uploads;
pub mod verify;
pub mod webhooks;
