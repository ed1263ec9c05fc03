//! Background jobs run by workers. One file per job.

mod agent_turn;
mod approvals;
mod drive;
mod output;
mod run_turn;

pub use run_turn::run_turn;
