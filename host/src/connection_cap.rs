//! The connection cap: how many client connections are open at once, so idle or slow
//! sockets cannot use up the process's file descriptors and starve everyone else.
//!
//! A connection over the cap is still accepted and answered (see [`crate::over_capacity`]),
//! up to a small number at a time; beyond those it is closed at once, so a flood never
//! leaves the accept loop spinning on a full descriptor table.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Connections over the cap that are answered with a refusal at the same time.
pub const REFUSALS_AT_ONCE: usize = 64;

/// Descriptors kept free for everything that is not a client connection: the database,
/// Redis, the compiled-code cache, refusals in progress.
pub const RESERVED_DESCRIPTORS: u64 = 256;

/// Counts open connections against the limit.
pub struct ConnectionCap {
    admitted: Arc<Semaphore>,
    refusing: Arc<Semaphore>,
    limit: usize,
}

/// What to do with a connection just accepted.
pub enum Admission {
    /// Under the cap: serve it; the permit is its place.
    Serve(OwnedSemaphorePermit),
    /// Over the cap: answer the refusal; the permit is a refusal place.
    Refuse(OwnedSemaphorePermit),
    /// Over the cap with every refusal place taken: close it now.
    Close,
}

impl ConnectionCap {
    /// A cap of `limit` connections (at least one).
    pub fn new(limit: usize) -> Arc<Self> {
        let limit = limit.max(1);
        Arc::new(Self {
            admitted: Arc::new(Semaphore::new(limit)),
            refusing: Arc::new(Semaphore::new(REFUSALS_AT_ONCE)),
            limit,
        })
    }

    /// Decides about one accepted connection.
    pub fn admit(&self) -> Admission {
        if let Ok(permit) = self.admitted.clone().try_acquire_owned() {
            return Admission::Serve(permit);
        }
        match self.refusing.clone().try_acquire_owned() {
            Ok(permit) => Admission::Refuse(permit),
            Err(_) => Admission::Close,
        }
    }

    /// The limit.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Connections open now (within the cap).
    pub fn open(&self) -> usize {
        self.limit - self.admitted.available_permits()
    }

    /// Whether a new connection would be refused.
    pub fn is_full(&self) -> bool {
        self.admitted.available_permits() == 0
    }
}

/// The cap to enforce: `wanted`, lowered when the open-files limit (if known) leaves less
/// room than that after [`RESERVED_DESCRIPTORS`].
pub fn effective_limit(wanted: usize, open_files_limit: Option<u64>) -> usize {
    let Some(files) = open_files_limit else {
        return wanted.max(1);
    };
    let room = files.saturating_sub(RESERVED_DESCRIPTORS).max(1);
    wanted
        .max(1)
        .min(usize::try_from(room).unwrap_or(usize::MAX))
}

/// A stream that keeps its place under the cap for as long as it is open, also after an
/// upgrade hands it to a WebSocket.
pub struct Admitted<S> {
    stream: S,
    _place: OwnedSemaphorePermit,
}

impl<S> Admitted<S> {
    /// Ties `stream` to `place`.
    pub fn new(stream: S, place: OwnedSemaphorePermit) -> Self {
        Self {
            stream,
            _place: place,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Admitted<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Admitted<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_past_the_cap_are_refused_then_closed() {
        let cap = ConnectionCap::new(1);
        let Admission::Serve(first) = cap.admit() else {
            panic!("the first connection is served")
        };
        assert!(cap.is_full());
        let refusals: Vec<_> = (0..REFUSALS_AT_ONCE)
            .map(|_| match cap.admit() {
                Admission::Refuse(p) => p,
                _ => panic!("over the cap: refused with an answer"),
            })
            .collect();
        assert!(matches!(cap.admit(), Admission::Close));
        drop(refusals);
        drop(first);
        assert_eq!(cap.open(), 0);
        assert!(matches!(cap.admit(), Admission::Serve(_)));
    }

    #[test]
    fn the_cap_leaves_descriptors_for_everything_else() {
        assert_eq!(effective_limit(4096, None), 4096);
        assert_eq!(effective_limit(4096, Some(1_048_576)), 4096);
        assert_eq!(effective_limit(4096, Some(1024)), 768);
        assert_eq!(effective_limit(4096, Some(100)), 1);
    }
}
