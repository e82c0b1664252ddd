//! SQLite reads on the calling thread, for the registration and lead path.
//!
//! sqlx's SQLite driver gives each connection a thread of its own and hands
//! every statement to that thread and its rows back: at least two thread
//! switches per statement, which under load cost the server more CPU than
//! the statements themselves (a point read from SQLite's page cache takes a
//! few microseconds). The few reads every registration and lead makes run
//! here instead, on the request's own thread, through a small pool of
//! read-only connections to the same file. In WAL mode a reader never waits
//! for the writer, so a read holds its thread only as long as SQLite takes
//! to answer from its cache; a page the operating system has to fetch from
//! disk holds it for that read.
//!
//! Queries are the same SQL text sqlx runs on PostgreSQL (`$n` parameters),
//! and rows map through the same [`Get`] functions, so the two paths cannot
//! drift apart: the SQLite test suite runs this path, the PostgreSQL suite
//! the other.

use super::{Get, Index, StoreError, Value};
use rusqlite::{Connection, OpenFlags, ToSql};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

/// Connections kept open between reads: one per core is enough, since a
/// read never yields its thread; more only if reads overlap on many
/// threads (then extra connections are opened and dropped).
const IDLE: usize = 8;

/// Read-only connections to one SQLite file, opened as needed.
pub(crate) struct DirectReads {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl DirectReads {
    /// Reads of the database file at `path` (which the writing pool has
    /// already created, migrated and put in WAL mode).
    pub(crate) fn new(path: &Path) -> DirectReads {
        DirectReads { path: path.to_path_buf(), idle: Mutex::new(Vec::new()) }
    }

    fn open(&self) -> Result<Connection, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(&self.path, flags)?;
        // As sqlx's connections: wait out a writer's rare exclusive moment
        // (WAL recovery, a truncating checkpoint) instead of failing.
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.set_prepared_statement_cache_capacity(64);
        // Plans fixed at prepare time. Without it, SQLite re-prepares a
        // statement on every run whose bound value could change its plan
        // (a `LIKE` pattern, as in the territory query): a fresh parse
        // each time, 9 % of the server's CPU under a lead load.
        conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
        Ok(conn)
    }

    /// Runs `sql` with `params` bound to `$1`, `$2`, ... and maps every
    /// result row with `map`.
    ///
    /// `sql` names its parameters in order of first use (`$1` before `$2`),
    /// so SQLite's positional index of `$n` is `n` (checked in debug builds).
    pub(crate) fn query<T>(
        &self,
        sql: &str,
        params: &[&dyn ToSql],
        mut map: impl FnMut(&rusqlite::Row<'_>) -> T,
    ) -> Result<Vec<T>, StoreError> {
        let taken = self.idle.lock().expect("direct reads").pop();
        let conn = match taken {
            Some(conn) => conn,
            None => self.open()?,
        };
        let result = (|| {
            let mut stmt = conn.prepare_cached(sql)?;
            debug_assert_eq!(stmt.parameter_count(), params.len(), "{sql}");
            for (i, param) in params.iter().enumerate() {
                debug_assert_eq!(stmt.parameter_name(i + 1), Some(format!("${}", i + 1).as_str()), "{sql}");
                stmt.raw_bind_parameter(i + 1, param)?;
            }
            let mut rows = stmt.raw_query();
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(map(row));
            }
            Ok::<_, rusqlite::Error>(out)
        })();
        let mut idle = self.idle.lock().expect("direct reads");
        if idle.len() < IDLE {
            idle.push(conn);
        }
        Ok(result?)
    }
}

impl Get for rusqlite::Row<'_> {
    fn get<T: Value>(&self, index: impl Index) -> T {
        match rusqlite::Row::get(self, index) {
            Ok(value) => value,
            Err(e) => panic!("a column the queries and the migrations disagree on: {e}"),
        }
    }
}
