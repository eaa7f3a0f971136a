//! Dedicated threads for CPU-heavy cryptography, so that signatures and key
//! generation never run on (and never stall) the async executor.
//!
//! Two pools with separate queues: *signing* (short jobs: one per core) and
//! *key generation* (RSA-4096 takes seconds: capped so that reads keep a
//! core). A job's result comes back on a oneshot channel.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};

type Job = Box<dyn FnOnce() + Send + 'static>;

/// A fixed set of worker threads fed by one queue.
#[derive(Clone)]
pub struct CryptoPool {
    name: &'static str,
    sender: mpsc::Sender<Job>,
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
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for i in 0..threads.max(1) {
            let receiver = receiver.clone();
            std::thread::Builder::new()
                .name(format!("{name}-{i}"))
                .spawn(move || loop {
                    let job = match receiver.lock() {
                        Ok(guard) => guard.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
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
