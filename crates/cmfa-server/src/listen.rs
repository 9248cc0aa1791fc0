//! The accept loop, with the limits a server facing real networks needs.
//!
//! `axum::serve` runs hyper without a timer, so a client that sends half a request line and then
//! nothing holds its connection forever, and it accepts without bound. Here:
//!
//! - HTTP/1 headers must arrive within [`Edge::read_timeout`] of the connection going idle
//!   (hyper's header-read timer also runs between keep-alive requests, so an idle connection is
//!   closed after the same time, as AWS's front ends close idle connections);
//! - a request body must be complete within the same time (`body::read`, which answers 408);
//! - at most [`Edge::max_connections`] connections are served at once; past that, new ones wait
//!   in the kernel's backlog until one closes, so the connections already being served never
//!   compete with a flood;
//! - an accept error other than a dropped handshake (file descriptors exhausted, say) pauses the
//!   loop briefly instead of spinning.
//!
//! None of this blocks a thread: a stalled connection is a parked task with a timer.

use crate::AppState;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

/// Connection-level limits of the HTTP edge.
#[derive(Clone, Debug)]
pub struct Edge {
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// How long a request's headers, and then its body, may take to arrive; also how long an
    /// idle keep-alive connection stays open.
    pub read_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
}

/// Bodies above this are refused; the largest member the model allows is 131,072 characters.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
/// As long as the idle timeout of AWS's load balancers.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(60);
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;

impl Default for Edge {
    fn default() -> Self {
        Edge {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            read_timeout: DEFAULT_READ_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// Serves `app(state)` on `listener` until `shutdown` completes, then stops accepting, lets each
/// connection finish its in-flight request, and returns when all have closed.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let edge = state.edge.clone();
    let router = crate::app(state);
    let slots = Arc::new(Semaphore::new(edge.max_connections.max(1)));
    // Each connection holds a receiver; `true` is sent when shutdown starts, and the loop then
    // waits for every receiver to drop before returning.
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(edge.read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(edge.read_timeout)
        .keep_alive_timeout(edge.read_timeout.min(Duration::from_secs(20)));
    let builder = Arc::new(builder);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (tcp, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = tcp.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        let builder = builder.clone();
        let mut stopping = stop_rx.clone();
        tokio::spawn(async move {
            let conn = builder.serve_connection(TokioIo::new(tcp), service);
            let mut conn = std::pin::pin!(conn);
            let stop = async move {
                let _ = stopping.wait_for(|stop| *stop).await;
            };
            tokio::select! {
                _ = conn.as_mut() => {}
                () = stop => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
            drop(slot);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    drop(stop_rx);
    stop_tx.closed().await;
    Ok(())
}

async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    // A handshake the client gave up on is not the server's problem; anything else (EMFILE,
    // ENFILE, ENOBUFS) clears only as connections close, so the loop pauses rather than spins.
    if !matches!(e.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset) {
        tracing::error!(error = %e, "accept failed; pausing");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
