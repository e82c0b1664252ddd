//! Log lines from a plugin into the decision record of the current call.
//!
//! The host keeps a capped number of bytes per call (the rest is dropped and
//! the record says so). Natively (in `cargo test`) lines go to stderr.

use crate::base::pactum::policy::host::{self, LogLevel};

fn write(level: LogLevel, message: &str) {
    #[cfg(target_family = "wasm")]
    host::log(level, message);
    #[cfg(not(target_family = "wasm"))]
    {
        let _ = host::log;
        eprintln!("[{level:?}] {message}");
    }
}

/// Logs a debug line.
pub fn debug(message: &str) {
    write(LogLevel::Debug, message);
}

/// Logs an informational line.
pub fn info(message: &str) {
    write(LogLevel::Info, message);
}

/// Logs a warning.
pub fn warn(message: &str) {
    write(LogLevel::Warn, message);
}

/// Logs an error.
pub fn error(message: &str) {
    write(LogLevel::Error, message);
}
