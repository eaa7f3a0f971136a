//! Dedicated threads for CPU-heavy cryptography, so that signatures and key
//! generation never run on (and never stall) the async executor.
//!
//! Two pools with separate queues: *signing* (short jobs: one per core) and
//! *key generation* (RSA-4096 takes seconds: capped so that reads keep a
//! core). A job's result comes back on a oneshot channel.
//!
//! A pool also runs *tasks* ([`CryptoPool::run_async`]): futures polled on
//! its threads and, when they wait, resumed there by whatever wakes them. An
//! issuance waits for its intent to be recorded and then signs: as a task the
//! store's writer wakes the signing thread directly, not the executor that
//! would hand the job on (each hand-off between threads costs a wake-up).

use std::cell::Cell;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use crossbeam_channel as channel;

use crate::error::{Error, Result};

type Job = Box<dyn FnOnce() + Send + 'static>;

thread_local! {
    /// Whether this thread is a pool worker.
    static ON_POOL: Cell<bool> = const { Cell::new(false) };
}

/// Moves the task awaiting it onto its pool: ready at once on a pool worker,
/// else it reschedules the task there.
struct ToPool;

impl Future for ToPool {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if ON_POOL.get() {
            Poll::Ready(())
        } else {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

/// A future run by a pool: polled by a worker, rescheduled onto the pool's
/// queue when woken.
struct PoolTask {
    future: Mutex<Option<Pin<Box<dyn Future<Output = ()> + Send>>>>,
    queue: channel::Sender<Job>,
    /// The runtime the task was started from, entered while polling: store
    /// futures (PostgreSQL's) may need its timers and spawner.
    runtime: Option<tokio::runtime::Handle>,
}

impl PoolTask {
    fn schedule(self: Arc<Self>) {
        let queue = self.queue.clone();
        // A closed pool drops the task, and with it the sender of its result.
        let _ = queue.send(Box::new(move || self.poll()));
    }

    fn poll(self: Arc<Self>) {
        let _runtime = self.runtime.as_ref().map(tokio::runtime::Handle::enter);
        let waker = Waker::from(self.clone());
        let mut cx = Context::from_waker(&waker);
        // A wake-up during this poll queues another poll, which waits here.
        let Ok(mut slot) = self.future.lock() else {
            return;
        };
        if let Some(future) = slot.as_mut() {
            if future.as_mut().poll(&mut cx).is_ready() {
                *slot = None;
            }
        }
    }
}

impl Wake for PoolTask {
    fn wake(self: Arc<Self>) {
        self.schedule();
    }
}

/// A future polled once as soon as it is made, so that the work it hands to
/// another thread (a write queued for the store's writer) begins at once.
/// Awaiting it later, from any thread, resumes it.
pub enum Started<F: Future> {
    /// Still waiting.
    Waiting(Pin<Box<F>>),
    /// Finished during the first poll (taken by the next one).
    Finished(Option<F::Output>),
}

// The output is never pinned: it is moved out whole.
impl<F: Future> Unpin for Started<F> {}

/// Polls `future` once, with a waker that does nothing: whoever awaits the
/// result registers the real one.
pub fn start<F: Future>(future: F) -> Started<F> {
    let mut future = Box::pin(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => Started::Finished(Some(output)),
        Poll::Pending => Started::Waiting(future),
    }
}

impl<F: Future> Future for Started<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        match self.get_mut() {
            Started::Waiting(future) => future.as_mut().poll(cx),
            // Polled again after it finished: it never finishes twice.
            Started::Finished(output) => output.take().map_or(Poll::Pending, Poll::Ready),
        }
    }
}

/// A fixed set of worker threads fed by one queue.
#[derive(Clone)]
pub struct CryptoPool {
    name: &'static str,
    sender: channel::Sender<Job>,
}

impl std::fmt::Debug for CryptoPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CryptoPool")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl CryptoPool {
    /// Starts `threads` workers named `name-N`.
    ///
    /// Fails if the OS refuses to start a thread.
    pub fn new(name: &'static str, threads: usize) -> std::io::Result<Self> {
        // Many consumers on one channel: a job wakes one idle worker (a
        // shared `Mutex<Receiver>` would wake a second one to wait on it).
        let (sender, receiver) = channel::unbounded::<Job>();
        for i in 0..threads.max(1) {
            let receiver = receiver.clone();
            std::thread::Builder::new()
                .name(format!("{name}-{i}"))
                .spawn(move || {
                    ON_POOL.set(true);
                    while let Ok(job) = receiver.recv() {
                        // A panicking job loses its result (its caller sees
                        // an error), not the worker.
                        let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
                    }
                })?;
        }
        Ok(Self { name, sender })
    }

    /// Runs `job` on a worker and waits for its result without blocking the executor.
    ///
    /// Fails with `Internal` if the pool is gone or the job panicked.
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.sender
            .send(Box::new(move || {
                let _ = tx.send(job());
            }))
            .map_err(|_| Error::Internal(format!("the {} pool is shut down", self.name)))?;
        rx.await
            .map_err(|_| Error::Internal(format!("a {} job failed", self.name)))
    }
}

impl CryptoPool {
    /// Waits for `wait` and then runs `then` with its output on the pool's
    /// workers: `then` is polled there, and resumed there when woken, so its
    /// CPU work between awaits runs on the pool like a job's.
    ///
    /// `wait` is first polled right here: whoever finishes it (the store's
    /// writer) wakes a worker directly, and no worker wakes before then.
    ///
    /// Fails with `Internal` if the pool is gone or the task panicked.
    pub async fn run_after<W, F, T>(
        &self,
        wait: W,
        then: impl FnOnce(W::Output) -> F + Send + 'static,
    ) -> Result<T>
    where
        W: Future + Send + 'static,
        W::Output: Send,
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let task = Arc::new(PoolTask {
            future: Mutex::new(Some(Box::pin(async move {
                let ready = wait.await;
                ToPool.await;
                let _ = tx.send(then(ready).await);
            }))),
            queue: self.sender.clone(),
            runtime: tokio::runtime::Handle::try_current().ok(),
        });
        task.poll();
        rx.await
            .map_err(|_| Error::Internal(format!("a {} task failed", self.name)))
    }
}

/// The two pools.
#[derive(Debug, Clone)]
pub struct CryptoPools {
    /// Signatures and verifications.
    pub signing: CryptoPool,
    /// Key generation.
    pub keygen: CryptoPool,
}

impl CryptoPools {
    /// Pools sized for this machine: one signing thread per core, key
    /// generation on half the cores (at least one).
    ///
    /// Fails if threads cannot be started.
    pub fn for_this_machine() -> std::io::Result<Self> {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        Ok(Self {
            signing: CryptoPool::new("sign", cores)?,
            keygen: CryptoPool::new("keygen", (cores / 2).max(1))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn jobs_run_off_the_executor_and_return() {
        let pool = CryptoPool::new("test", 2).unwrap();
        let name = pool
            .run(|| std::thread::current().name().map(str::to_owned))
            .await
            .unwrap();
        assert!(name.unwrap().starts_with("test-"));
        let results = futures_join(&pool).await;
        assert_eq!(results, (0..8).map(|i| i * i).collect::<Vec<_>>());
    }

    fn thread_name() -> String {
        std::thread::current().name().unwrap_or_default().to_owned()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tasks_continue_on_the_pool_when_what_they_wait_for_is_done() {
        let pool = CryptoPool::new("task", 2).unwrap();
        // Finished by a plain thread, as the store's writer finishes a write.
        let (done, wait) = tokio::sync::oneshot::channel::<u32>();
        let finisher = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(20));
            done.send(7).unwrap();
        });
        let (value, name) = pool
            .run_after(wait, |v| async move { (v.unwrap(), thread_name()) })
            .await
            .unwrap();
        finisher.join().unwrap();
        assert_eq!(value, 7);
        assert!(name.starts_with("task-"), "ran on {name}");
        // Ready at once: the continuation still runs on the pool, not here.
        let name = pool
            .run_after(std::future::ready(()), |()| async { thread_name() })
            .await
            .unwrap();
        assert!(name.starts_with("task-"), "ran on {name}");
    }

    #[tokio::test]
    async fn a_panicking_job_or_task_fails_alone() {
        let pool = CryptoPool::new("panic", 1).unwrap();
        assert!(pool.run(|| panic!("job")).await.is_err());
        let failed: Result<()> = pool
            .run_after(std::future::ready(()), |()| async { panic!("task") })
            .await;
        assert!(failed.is_err());
        // The single worker survived both.
        assert_eq!(pool.run(|| 1 + 1).await.unwrap(), 2);
    }

    #[tokio::test]
    async fn started_futures_run_up_to_their_first_wait_at_once() {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let polled = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = polled.clone();
        let started = start(async move {
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
            rx.await.unwrap();
            5
        });
        assert!(polled.load(std::sync::atomic::Ordering::SeqCst));
        tx.send(()).unwrap();
        assert_eq!(started.await, 5);
        assert_eq!(start(async { 6 }).await, 6);
    }

    async fn futures_join(pool: &CryptoPool) -> Vec<i32> {
        let mut out = Vec::new();
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let pool = pool.clone();
                tokio::spawn(async move { pool.run(move || i * i).await })
            })
            .collect();
        for h in handles {
            out.push(h.await.unwrap().unwrap());
        }
        out
    }
}
