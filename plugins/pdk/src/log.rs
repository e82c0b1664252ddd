//! Log lines from a plugin into the decision record of the current call.
//!
//! The host keeps a capped number of bytes per call (the rest is dropped and
//! the record says so). Natively (in `cargo test`) lines go to stderr.

use crate::base::pactum::policy::host::{self, LogLevel};

fn write(level: LogLevel, message: &str) {
    #[cfg(target_family = "wasm")]
    {
        // The import takes the line 32 bytes at a time, as four integers
        // (see `log` in wit/host.wit: no string, so no shim instances).
        let bytes = message.as_bytes();
        let pieces = bytes.len().div_ceil(32).max(1);
        for i in 0..pieces {
            let piece = &bytes[(i * 32).min(bytes.len())..((i + 1) * 32).min(bytes.len())];
            let mut buf = [0u8; 32];
            buf[..piece.len()].copy_from_slice(piece);
            let word = |w: usize| u64::from_le_bytes(buf[w * 8..w * 8 + 8].try_into().expect("8 bytes"));
            host::log(level, piece.len() as u8, i + 1 == pieces, word(0), word(1), word(2), word(3));
        }
    }
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
