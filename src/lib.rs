//! rootline: raw incident reports in; root cause with evidence, timeline, metrics and warnings out.
//!
//! Layers, each with one job: [`text`] segments reports; [`embed`] runs the sentence encoder;
//! [`classify`] names the root cause; [`timeline`] extracts timed events; [`pipeline`] joins them
//! into an [`analysis::Analysis`]. The CLI ([`cli`]) and the HTTP service ([`http`], fed by the
//! model thread in [`worker`]) sit on top and never touch tensors themselves.

pub mod analysis;
pub mod classify;
pub mod cli;
pub mod embed;
pub mod error;
pub mod fetch;
pub mod http;
pub mod metrics;
pub mod pipeline;
pub mod records;
pub mod settings;
pub mod text;
pub mod timeline;
pub mod worker;

pub use error::{Error, Result};
