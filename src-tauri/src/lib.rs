//! Sotto, the application: the services the CLI and the desktop shell share, and the
//! command line itself.
//!
//! Only this crate wires the other crates together: configuration ([`sotto_config`]), the
//! history store ([`sotto_store`]) and the model manager ([`sotto_models`]) know nothing of
//! each other.

pub mod app;
pub mod cli;
pub mod engines;
pub mod history;
pub mod listener;
pub mod logging;
pub mod planning;
pub mod plugins;
pub mod requests;
pub mod speech_sets;
pub mod timekeeper;
pub mod tool_settings;
pub mod vocab;
pub mod wer;
