//! Reading a request body with a size limit.
//!
//! An oversized body is refused with an AWS-shaped 413, but only after the rest of it has been
//! read and thrown away (up to a hard cap): answering while the client is still sending makes
//! the client see a reset connection instead of the error. A body that does not finish within
//! the read timeout is answered 408 `RequestTimeoutException` (and the connection then closes),
//! so a client that stops sending mid-body does not hold its connection.

use crate::{ApiError, Edge};
use axum::body::Body;
use bytes::{Bytes, BytesMut};
use cmfa_wire::ErrorCode;
use http_body_util::BodyExt;

/// Past this, the connection is dropped rather than drained.
const DRAIN_CAP: usize = 64 * 1024 * 1024;

pub(crate) async fn read(body: Body, edge: &Edge, content_length: Option<usize>) -> Result<Bytes, ApiError> {
    tokio::time::timeout(edge.read_timeout, read_all(body, edge.max_body_bytes, content_length))
        .await
        .unwrap_or_else(|_| {
            Err(ApiError::new(
                ErrorCode::RequestTimeoutException,
                format!(
                    "The request body did not arrive within {} seconds.",
                    edge.read_timeout.as_secs_f64()
                ),
            ))
        })
}

async fn read_all(body: Body, limit: usize, content_length: Option<usize>) -> Result<Bytes, ApiError> {
    let mut body = body;
    let mut buf = BytesMut::with_capacity(content_length.unwrap_or(256).min(limit));
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame
            .map_err(|_| ApiError::new(ErrorCode::SerializationException, "The request body could not be read."))?;
        if let Ok(data) = frame.into_data() {
            total += data.len();
            if total <= limit {
                buf.extend_from_slice(&data);
            } else if total > DRAIN_CAP {
                break;
            }
        }
    }
    if total > limit {
        return Err(too_large(limit));
    }
    Ok(buf.freeze())
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        ErrorCode::RequestEntityTooLargeException,
        format!("Request body is larger than the {limit} bytes this server accepts."),
    )
}
