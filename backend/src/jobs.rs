//! Background jobs run by workers. One file per job.

mod output;
mod drive;
mod run_turn;

pub use run_turn::run_turn;
