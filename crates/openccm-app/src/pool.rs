//! Dedicated threads for CPU-heavy cryptography, so that signatures and key
//! generation never run on (and never stall) the async executor.
//!
//! Two pools with separate queues: *signing* (short jobs: one per core) and
//! *key generation* (RSA-4096 takes seconds: one thread per core too, but
//! at a lower priority, so that it takes what requests and signatures
//! leave and reads stay quick while keys are made). A job's result comes
//! back on a oneshot channel.
//!
//! A pool also runs *tasks* ([`CryptoPool::run_after`]): futures polled on
//! its threads and, when they wait, resumed there by whatever wakes them. An
//! issuance waits for its intent to be recorded and then signs: as a task the
//! store's writer wakes the signing thread directly, not the executor that
//! would hand the job on (each hand-off between threads costs a wake-up).

use std::cell::Cell;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use crossbeam_channel as channel;

use crate::error::{Error, Result};

type Job = Box<dyn FnOnce() + Send + 'static>;

thread_local! {
    /// The pool this thread works for, if any.
    static ON_POOL: Cell<Option<usize>> = const { Cell::new(None) };
}

/// Numbers the pools, for [`ON_POOL`].
static POOLS: AtomicUsize = AtomicUsize::new(0);

/// Moves the task awaiting it onto pool `.0`: ready at once on one of its
/// workers, else it reschedules the task there.
struct ToPool(usize);

impl Future for ToPool {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if ON_POOL.get() == Some(self.0) {
            Poll::Ready(())
        } else {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

/// A pool's queue, measured when metrics are registered (`crate::metrics`):
/// how many jobs wait, and how long each waited.
#[derive(Clone)]
struct Queue {
    sender: channel::Sender<Job>,
    gauges: Option<crate::metrics::PoolGauges>,
}

impl Queue {
    /// Queues `job`; false when the pool is shut down.
    fn send(&self, job: Job) -> bool {
        let Some(gauges) = &self.gauges else {
            return self.sender.send(job).is_ok();
        };
        let gauges = gauges.clone();
        let queued = std::time::Instant::now();
        gauges.depth.inc();
        let depth = gauges.depth.clone();
        let sent = self.sender.send(Box::new(move || {
            gauges.depth.dec();
            gauges.wait.observe(queued.elapsed().as_secs_f64());
            job();
        }));
        if sent.is_err() {
            depth.dec();
        }
        sent.is_ok()
    }
}

/// A future run by a pool: polled by a worker, rescheduled onto the pool's
/// queue when woken.
struct PoolTask {
    future: Mutex<Option<Pin<Box<dyn Future<Output = ()> + Send>>>>,
    queue: Queue,
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
            // A panic drops the task (and with it the sender of its result,
            // so its caller hears of the failure) instead of leaving it to
            // wait for a wake-up that may never come.
            match std::panic::catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(&mut cx))) {
                Ok(Poll::Pending) => {}
                Ok(Poll::Ready(())) | Err(_) => *slot = None,
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

/// A future whose work goes on whether or not its owner polls it: either
/// [`start`]ed in place, or spawned onto the runtime.
pub enum Driven<F: Future> {
    /// Goes on by itself once polled (a write queued for SQLite's writer).
    Started(Started<F>),
    /// Driven by the runtime (a PostgreSQL transaction advances only when
    /// polled: on a signing thread it would wait behind signatures, holding
    /// its row locks, and a dropped owner would cancel it).
    Spawned(tokio::task::JoinHandle<F::Output>),
}

/// Starts `future` so that it proceeds without its owner: polled once here
/// when `runs_unpolled` (it then goes on by itself), else spawned onto the
/// current runtime.
pub fn drive<F>(future: F, runs_unpolled: bool) -> Driven<F>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) if !runs_unpolled => Driven::Spawned(runtime.spawn(future)),
        _ => Driven::Started(start(future)),
    }
}

impl<F: Future> Future for Driven<F> {
    type Output = Result<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<F::Output>> {
        match self.get_mut() {
            Driven::Started(started) => Pin::new(started).poll(cx).map(Ok),
            Driven::Spawned(handle) => Pin::new(handle).poll(cx).map(|joined| {
                joined.map_err(|e| Error::Internal(format!("a store task failed: {e}")))
            }),
        }
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
    id: usize,
    queue: Queue,
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
        Self::with_niceness(name, threads, 0)
    }

    /// Starts `threads` workers named `name-N`, each `nice` steps of
    /// scheduling niceness below the thread that starts them (at most 19,
    /// the lowest).
    ///
    /// Threads that a worker starts inherit its niceness.
    ///
    /// Fails if the OS refuses to start a thread.
    pub fn with_niceness(name: &'static str, threads: usize, nice: i32) -> std::io::Result<Self> {
        // Many consumers on one channel: a job wakes one idle worker (a
        // shared `Mutex<Receiver>` would wake a second one to wait on it).
        let (sender, receiver) = channel::unbounded::<Job>();
        let id = POOLS.fetch_add(1, Ordering::Relaxed);
        for i in 0..threads.max(1) {
            let receiver = receiver.clone();
            std::thread::Builder::new()
                .name(format!("{name}-{i}"))
                .spawn(move || {
                    // Only a tuning: a sandbox that refuses it leaves the
                    // worker at the process's priority, and says so.
                    if nice != 0 {
                        if let Err(e) = lower_this_thread(nice) {
                            tracing::warn!(pool = name, error = %e, "could not lower a worker's priority");
                        }
                    }
                    ON_POOL.set(Some(id));
                    while let Ok(job) = receiver.recv() {
                        // A panicking job loses its result (its caller sees
                        // an error), not the worker.
                        let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
                    }
                })?;
        }
        Ok(Self {
            name,
            id,
            queue: Queue {
                sender,
                gauges: crate::metrics::pool(name),
            },
        })
    }

    /// Runs `job` on a worker and waits for its result without blocking the executor.
    ///
    /// Fails with `Internal` if the pool is gone or the job panicked.
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        if !self.queue.send(Box::new(move || {
            let _ = tx.send(job());
        })) {
            return Err(Error::Internal(format!(
                "the {} pool is shut down",
                self.name
            )));
        }
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
        let pool = self.id;
        let task = Arc::new(PoolTask {
            future: Mutex::new(Some(Box::pin(async move {
                let ready = wait.await;
                ToPool(pool).await;
                let _ = tx.send(then(ready).await);
            }))),
            queue: self.queue.clone(),
            runtime: tokio::runtime::Handle::try_current().ok(),
        });
        task.poll();
        rx.await
            .map_err(|_| Error::Internal(format!("a {} task failed", self.name)))
    }
}

/// The niceness of the key generation threads (which also run exports'
/// key derivations and envelopes, and key destruction). At 10 the
/// scheduler weighs a thread at about a tenth of one at 0 (110 against
/// 1024), so that key generation (an RSA-4096 key takes seconds) runs on
/// every core the requests leave idle, and yields most of a core to them
/// when they want it: reads and signatures are not held behind keys being
/// made (the "ShowCertificate while RSA-4096 key generations keep the
/// machine busy" figure of scripts/bench). It used to be held to half the
/// cores instead. Niceness weighs threads of one session against each
/// other: against another program's it counts only inside one autogroup.
pub const KEYGEN_NICENESS: i32 = 10;

/// Lowers the calling thread's priority by `steps` of niceness (at most to
/// 19). Linux keeps a niceness per thread, and a thread's id names it to
/// setpriority; lowering one's own priority needs no privilege. Never
/// raises it (that would need privilege).
fn lower_this_thread(steps: i32) -> std::io::Result<()> {
    let me = Some(rustix::thread::gettid());
    let now = rustix::process::getpriority_process(me)?;
    rustix::process::setpriority_process(me, (now + steps.max(0)).min(19))?;
    Ok(())
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
    /// Pools sized for this machine: one signing thread and one key
    /// generation thread per core, the latter at niceness
    /// [`KEYGEN_NICENESS`].
    ///
    /// Fails if threads cannot be started.
    pub fn for_this_machine() -> std::io::Result<Self> {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        Ok(Self {
            signing: CryptoPool::new("sign", cores)?,
            keygen: CryptoPool::with_niceness("keygen", cores, KEYGEN_NICENESS)?,
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

    #[tokio::test]
    async fn key_generation_threads_run_below_the_others() {
        let me = rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap();
        let niceness =
            || rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap();
        let pools = CryptoPools::for_this_machine().unwrap();
        let keygen = pools.keygen.run(niceness).await.unwrap();
        let signing = pools.signing.run(niceness).await.unwrap();
        assert_eq!(keygen, (me + KEYGEN_NICENESS).min(19));
        assert_eq!(signing, me);
        // Every key generation thread, not only the first to answer.
        let threads = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        let barrier = Arc::new(std::sync::Barrier::new(threads));
        let all: Vec<_> = (0..threads)
            .map(|_| {
                let (barrier, pool) = (barrier.clone(), pools.keygen.clone());
                tokio::spawn(async move {
                    pool.run(move || {
                        barrier.wait();
                        niceness()
                    })
                    .await
                })
            })
            .collect();
        for seen in all {
            assert_eq!(seen.await.unwrap().unwrap(), keygen);
        }
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
    async fn a_task_that_panics_while_a_wake_up_is_pending_still_fails() {
        let pool = CryptoPool::new("pending", 1).unwrap();
        // The task leaves its waker with a channel that never fires, then
        // panics: the task must still be dropped (and its caller told).
        let (_never_sent, mut never) = tokio::sync::oneshot::channel::<()>();
        let outcome = pool.run_after(std::future::ready(()), move |()| async move {
            std::future::poll_fn(|cx| {
                let _ = Pin::new(&mut never).poll(cx);
                Poll::Ready(())
            })
            .await;
            panic!("after registering a wake-up");
        });
        let outcome: Result<()> = tokio::time::timeout(std::time::Duration::from_secs(10), outcome)
            .await
            .expect("the caller of a panicked task must not wait forever");
        assert!(outcome.is_err());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_task_moves_to_its_own_pool_even_from_another_pool() {
        let a = CryptoPool::new("pool-a", 1).unwrap();
        let b = CryptoPool::new("pool-b", 1).unwrap();
        let name = b
            .run_after(std::future::ready(()), move |()| async move {
                assert!(thread_name().starts_with("pool-b-"));
                a.run_after(std::future::ready(()), |()| async { thread_name() })
                    .await
                    .unwrap()
            })
            .await
            .unwrap();
        assert!(name.starts_with("pool-a-"), "ran on {name}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn driven_futures_finish_without_their_owner() {
        // A future that advances only when polled, like a PostgreSQL
        // transaction: driven on the runtime, it finishes though its owner
        // drops it.
        let (done, finished) = tokio::sync::oneshot::channel();
        let steps = async move {
            for _ in 0..10 {
                tokio::task::yield_now().await;
            }
            let _ = done.send(());
        };
        drop(drive(steps, false));
        tokio::time::timeout(std::time::Duration::from_secs(10), finished)
            .await
            .unwrap()
            .unwrap();
        // One that goes on by itself is started in place, and answers.
        assert_eq!(drive(async { 3 }, true).await.unwrap(), 3);
        assert_eq!(drive(async { 4 }, false).await.unwrap(), 4);
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
