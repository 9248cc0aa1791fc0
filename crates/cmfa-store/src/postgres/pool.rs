//! A small connection pool, and per-connection prepared statements.
//!
//! Why not a pool crate: the store needs only "borrow a live connection, give it back", with a
//! cap. A semaphore bounds how many connections exist; idle ones wait in a stack; a connection
//! whose socket has closed is dropped instead of reused. Each connection keeps the statements it
//! has prepared, keyed by their SQL text, so a hot query is parsed once per connection and then
//! costs one round trip.

use crate::error::from_pg;
use crate::{DbCall, DbTimer};
use cmfa_core::store::{StoreError, StoreResult};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, SemaphorePermit};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Config, GenericClient, NoTls, Row, Statement};

/// How long a call waits for a free connection before reporting the store unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long opening a connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Query parameters, as tokio-postgres takes them.
pub(super) type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// One open connection and the statements prepared on it.
pub(super) struct Conn {
    pub(super) client: Client,
    pub(super) stmts: HashMap<&'static str, Statement>,
}

pub(super) struct Pool {
    config: Config,
    idle: Mutex<Vec<Conn>>,
    permits: Semaphore,
    pub(super) timer: Option<DbTimer>,
}

/// A borrowed connection; it goes back to the pool when dropped, unless its socket closed.
/// The time from asking for it to giving it back is reported as one `call`.
pub(super) struct Pooled<'a> {
    conn: Option<Conn>,
    pool: &'a Pool,
    _permit: SemaphorePermit<'a>,
    call: DbCall,
    started: Instant,
}

impl Pool {
    pub(super) fn new(mut config: Config, max: usize) -> Pool {
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("cognito-mfa");
        }
        Pool {
            config,
            idle: Mutex::new(Vec::new()),
            permits: Semaphore::new(max.max(1)),
            timer: None,
        }
    }

    /// A live connection for `call`: an idle one if there is one, else a new one.
    pub(super) async fn get_for(&self, call: DbCall) -> StoreResult<Pooled<'_>> {
        let started = Instant::now();
        let permit = tokio::time::timeout(ACQUIRE_TIMEOUT, self.permits.acquire())
            .await
            .map_err(|_| StoreError::Unavailable("no free PostgreSQL connection within 30 s".into()))?
            .map_err(|_| StoreError::Unavailable("connection pool closed".into()))?;
        let reused = {
            let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
            let mut found = None;
            while let Some(c) = idle.pop() {
                if !c.client.is_closed() {
                    found = Some(c);
                    break;
                }
            }
            found
        };
        let conn = match reused {
            Some(c) => c,
            None => self.connect().await?,
        };
        Ok(Pooled {
            conn: Some(conn),
            pool: self,
            _permit: permit,
            call,
            started,
        })
    }

    async fn connect(&self) -> StoreResult<Conn> {
        // NoTls: the server is expected to reach PostgreSQL over a trusted network or a local
        // socket. The error text names no password (tokio-postgres never prints one).
        let (client, connection) = self
            .config
            .connect(NoTls)
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot connect to PostgreSQL: {e}")))?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!(error = %e, "PostgreSQL connection closed");
            }
        });
        Ok(Conn {
            client,
            stmts: HashMap::new(),
        })
    }
}

impl std::ops::Deref for Pooled<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        self.conn.as_ref().expect("present until drop")
    }
}

impl std::ops::DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Conn {
        self.conn.as_mut().expect("present until drop")
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        // A transaction dropped unfinished has already queued its ROLLBACK on this connection,
        // ahead of anything the next borrower sends, so the connection is clean to reuse.
        if let Some(c) = self.conn.take()
            && !c.client.is_closed()
        {
            self.pool.idle.lock().unwrap_or_else(|e| e.into_inner()).push(c);
        }
        crate::report(self.pool.timer.as_ref(), self.call, self.started);
    }
}

/// Runs cached statements on a client or an open transaction.
pub(super) struct Db<'a, C: GenericClient + Sync> {
    pub(super) c: &'a C,
    stmts: &'a mut HashMap<&'static str, Statement>,
}

impl<'a, C: GenericClient + Sync> Db<'a, C> {
    pub(super) fn new(c: &'a C, stmts: &'a mut HashMap<&'static str, Statement>) -> Self {
        Db { c, stmts }
    }

    async fn stmt(&mut self, sql: &'static str) -> StoreResult<Statement> {
        if let Some(s) = self.stmts.get(sql) {
            return Ok(s.clone());
        }
        let s = self.c.prepare(sql).await.map_err(from_pg)?;
        self.stmts.insert(sql, s.clone());
        Ok(s)
    }

    /// Rows changed.
    pub(super) async fn exec(&mut self, sql: &'static str, params: Params<'_>) -> StoreResult<u64> {
        let s = self.stmt(sql).await?;
        self.c.execute(&s, params).await.map_err(from_pg)
    }

    pub(super) async fn rows(&mut self, sql: &'static str, params: Params<'_>) -> StoreResult<Vec<Row>> {
        let s = self.stmt(sql).await?;
        self.c.query(&s, params).await.map_err(from_pg)
    }

    pub(super) async fn opt(&mut self, sql: &'static str, params: Params<'_>) -> StoreResult<Option<Row>> {
        let s = self.stmt(sql).await?;
        self.c.query_opt(&s, params).await.map_err(from_pg)
    }

    pub(super) async fn one(&mut self, sql: &'static str, params: Params<'_>) -> StoreResult<Row> {
        let s = self.stmt(sql).await?;
        self.c.query_one(&s, params).await.map_err(from_pg)
    }
}
