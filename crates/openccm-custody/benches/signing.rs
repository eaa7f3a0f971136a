//! The signing and verification paths issuance uses, next to the raw rate
//! of the same operations in OpenSSL's lowest-level API, in one run.
//!
//! `cargo bench -p openccm-custody --bench signing`

#![allow(clippy::unwrap_used, clippy::cast_precision_loss)]

use std::time::{Duration, Instant};

use openccm_custody::SoftwareKey;
use openccm_pki::{KeyAlgorithm, Signer as _};

fn rate(mut op: impl FnMut()) -> f64 {
    for _ in 0..50 {
        op();
    }
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < Duration::from_millis(1500) {
        for _ in 0..20 {
            op();
        }
        n += 20;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// The combined rate of `op` on `threads` threads at once.
fn rate_on(threads: usize, op: impl Fn() + Sync) -> f64 {
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads).map(|_| scope.spawn(|| rate(&op))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    })
}

fn main() {
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let message = vec![0x5au8; 600];
    for algorithm in [
        KeyAlgorithm::Ec256,
        KeyAlgorithm::Rsa2048,
        KeyAlgorithm::Sm2,
    ] {
        let key = SoftwareKey::generate(algorithm).unwrap();
        let hash = algorithm.default_hash();
        let oid = openccm_pki::algorithm::signature_oid(algorithm, hash).unwrap();
        let signature = key.sign(hash, &message).unwrap();
        let spki = key.public_key_der().to_vec();
        for n in [1, threads] {
            let sign = rate_on(n, || {
                key.sign(hash, &message).unwrap();
            });
            let verify = rate_on(n, || {
                openccm_pki::verify::verify(&spki, oid, &message, &signature).unwrap();
            });
            println!(
                "{algorithm} on {n} threads: openccm sign {sign:8.0}/s, verify {verify:8.0}/s"
            );
        }
    }
}
