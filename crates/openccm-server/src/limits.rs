//! Connection limits: clients that cannot hold the server.
//!
//! - At most `max_connections` connections at once: one more is closed as
//!   soon as it is accepted, before TLS or HTTP (the permit is held by the
//!   connection's stream and given back when it closes).
//! - An idle connection is closed: one with no request in progress for
//!   `idle_timeout` since its last request started or ended (or since it
//!   opened). Bytes that are not a request do not count: a client trickling
//!   headers, or HTTP/2 frames without a request (PING, SETTINGS), is idle.
//!   So is one whose client stops reading a response for that long.
//! - Request headers must arrive within the header timeout (hyper's
//!   `header_read_timeout`, set in `serve.rs`, which counts from the
//!   connection's start or the end of the previous response).
//! - Bodies have their own size and time limits at the HTTP edge
//!   (`openccm_http::middleware::buffer_body`).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum_server::accept::Accept;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

/// Limits on connections.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Connections open at once.
    pub max_connections: usize,
    /// Idle time after which a connection is closed.
    pub idle_timeout: Duration,
}

/// An acceptor that applies [`ConnectionLimits`] before handing the
/// connection to `inner` (plain TCP, or TLS on top of it).
#[derive(Debug, Clone)]
pub struct LimitedAcceptor<A> {
    inner: A,
    slots: Arc<Semaphore>,
    idle_timeout: Duration,
    /// Epoch seconds of the last "connection refused" warning (one a second at most).
    last_warning: Arc<AtomicI64>,
}

impl<A> LimitedAcceptor<A> {
    /// Wraps `inner`.
    pub fn new(inner: A, limits: ConnectionLimits) -> Self {
        Self {
            inner,
            slots: Arc::new(Semaphore::new(limits.max_connections)),
            idle_timeout: limits.idle_timeout,
            last_warning: Arc::default(),
        }
    }

    fn warn_refused(&self) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        if self.last_warning.swap(now, Ordering::Relaxed) != now {
            tracing::warn!("connection refused: the connection limit is reached");
        }
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = io::Result<T>> + Send>>;

impl<I, S, A> Accept<I, S> for LimitedAcceptor<A>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: Send + 'static,
    A: Accept<Watched<I>, Tracked<S>> + Clone + Send + Sync + 'static,
    A::Future: Send,
    A::Stream: Send,
    A::Service: Send,
{
    type Stream = A::Stream;
    type Service = A::Service;
    type Future = BoxFuture<(Self::Stream, Self::Service)>;

    fn accept(&self, stream: I, service: S) -> Self::Future {
        let Ok(permit) = self.slots.clone().try_acquire_owned() else {
            self.warn_refused();
            // Dropping the stream closes the connection.
            return Box::pin(std::future::ready(Err(io::Error::other(
                "connection limit reached",
            ))));
        };
        let requests = Arc::new(Requests::new());
        let stream = Watched {
            inner: stream,
            _permit: permit,
            requests: requests.clone(),
            idle_timeout: self.idle_timeout,
            last_write: Instant::now(),
            deadline: Box::pin(tokio::time::sleep(self.idle_timeout)),
        };
        let service = Tracked {
            inner: service,
            requests,
        };
        let inner = self.inner.clone();
        Box::pin(async move { inner.accept(stream, service).await })
    }
}

/// A connection's requests: how many are in progress, and when the last
/// one started or ended.
#[derive(Debug)]
struct Requests {
    in_progress: AtomicUsize,
    opened: Instant,
    /// Milliseconds after `opened` of the last start or end.
    last_event_ms: AtomicU64,
}

impl Requests {
    fn new() -> Self {
        Self {
            in_progress: AtomicUsize::new(0),
            opened: Instant::now(),
            last_event_ms: AtomicU64::new(0),
        }
    }

    fn mark(&self) {
        let ms = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_event_ms.store(ms, Ordering::Release);
    }

    fn last_event(&self) -> Instant {
        self.opened + Duration::from_millis(self.last_event_ms.load(Ordering::Acquire))
    }
}

/// A connection's stream: holds its connection permit and closes the
/// connection once it has been idle too long.
#[derive(Debug)]
pub struct Watched<I> {
    inner: I,
    _permit: OwnedSemaphorePermit,
    /// This connection's requests (see [`Tracked`]).
    requests: Arc<Requests>,
    idle_timeout: Duration,
    /// When a write last made progress.
    last_write: Instant,
    deadline: Pin<Box<Sleep>>,
}

impl<I> Watched<I> {
    /// Whether `since + idle_timeout` has passed (registering for a wake-up
    /// if not).
    fn expired(&mut self, since: Instant, cx: &mut Context<'_>) -> bool {
        let deadline = since + self.idle_timeout;
        if self.deadline.deadline() != deadline {
            self.deadline.as_mut().reset(deadline);
        }
        self.deadline.as_mut().poll(cx).is_ready()
    }

    /// Keeps a wake-up armed at most the idle time away, resetting the
    /// timer only once it has fired (not on every read while busy).
    fn keep_armed(&mut self, cx: &mut Context<'_>) {
        if self.deadline.is_elapsed() {
            let next = Instant::now() + self.idle_timeout;
            self.deadline.as_mut().reset(next);
        }
        let _ = self.deadline.as_mut().poll(cx);
    }

    /// Notes a write's progress; a write that has waited for the client for
    /// the idle time fails (the client does not read what it asked for).
    fn after_write(
        &mut self,
        written: Poll<io::Result<usize>>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<usize>> {
        match written {
            Poll::Ready(Ok(n)) => {
                if n > 0 {
                    self.last_write = Instant::now();
                }
                Poll::Ready(Ok(n))
            }
            Poll::Pending if self.write_stalled(cx) => Poll::Ready(Err(idle_error())),
            other @ (Poll::Pending | Poll::Ready(_)) => other,
        }
    }

    /// Whether writes have made no progress for the idle time.
    fn write_stalled(&mut self, cx: &mut Context<'_>) -> bool {
        let since = self.last_write;
        self.expired(since, cx)
    }
}

fn idle_error() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "connection idle for too long")
}

impl<I: AsyncRead + Unpin> AsyncRead for Watched<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Pending => {
                // No request in progress (a response being written counts,
                // see `Tracked`) for too long: idle, whatever bytes arrived
                // or protocol frames were answered. (A request in progress
                // may take its time; its body has its own limit.)
                // While one is in progress the timer is still armed, from
                // now: an HTTP/2 request can end with no I/O on the
                // connection, and the timer's wake-up is what then notices.
                if self.requests.in_progress.load(Ordering::Acquire) > 0 {
                    self.keep_armed(cx);
                    return Poll::Pending;
                }
                let since = self.requests.last_event();
                if self.expired(since, cx) {
                    return Poll::Ready(Err(idle_error()));
                }
                Poll::Pending
            }
            ready @ Poll::Ready(_) => ready,
        }
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Watched<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.after_write(written, cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.after_write(written, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A connection's service: counts its requests in progress, from the call
/// until the response body is written (or dropped), and marks when each
/// starts and ends, so that a connection waiting on the server or sending a
/// long response is never taken for an idle one, and one that sends no
/// requests is.
#[derive(Debug, Clone)]
pub struct Tracked<S> {
    inner: S,
    requests: Arc<Requests>,
}

/// Ends a request when its future ends or is dropped.
struct InProgress(Arc<Requests>);

impl Drop for InProgress {
    fn drop(&mut self) {
        self.0.in_progress.fetch_sub(1, Ordering::AcqRel);
        self.0.mark();
    }
}

/// A response body that keeps its request in progress until it is written.
pub struct TrackedBody<B> {
    inner: Pin<Box<B>>,
    _in_progress: InProgress,
}

impl<B: http_body::Body> http_body::Body for TrackedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        self.get_mut().inner.as_mut().poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

impl<S, R, B> tower::Service<R> for Tracked<S>
where
    S: tower::Service<R, Response = axum::http::Response<B>>,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = axum::http::Response<TrackedBody<B>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        self.requests.in_progress.fetch_add(1, Ordering::AcqRel);
        self.requests.mark();
        let in_progress = InProgress(self.requests.clone());
        let future = self.inner.call(request);
        Box::pin(async move {
            let response = future.await?;
            Ok(response.map(|body| TrackedBody {
                inner: Box::pin(body),
                _in_progress: in_progress,
            }))
        })
    }
}
