//! The machine's key-generation ceiling through custody's own generator:
//! keys per second with every core generating at once. `scripts/bench`
//! holds server-generated RSA keys (CreateCertificate) to a share of it.
//!
//! `cargo bench -p openccm-custody --bench keygen [-- ALGORITHM SECONDS]`
//! (default RSA2048, 10 s); prints one line, `ALGORITHM keys/s on N cores: R`.

#![allow(clippy::unwrap_used, clippy::cast_precision_loss)]

use std::time::{Duration, Instant};

use openccm_custody::SoftwareKey;
use openccm_pki::KeyAlgorithm;

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let name = args.next().unwrap_or_else(|| "RSA2048".to_owned());
    let Some(algorithm) = KeyAlgorithm::ALL.into_iter().find(|a| a.as_str() == name) else {
        eprintln!("unknown key algorithm {name}");
        std::process::exit(2);
    };
    let seconds: u64 = args.next().map_or(10, |s| s.parse().unwrap());
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let window = Duration::from_secs(seconds);
    let start = Instant::now();
    // Every thread generates until the window closes; the last key of each
    // finishes after it, so the rate is keys over the time the last ended.
    let made: u64 = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..cores)
            .map(|_| {
                scope.spawn(|| {
                    let mut n = 0u64;
                    while start.elapsed() < window {
                        SoftwareKey::generate(algorithm).unwrap();
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).sum()
    });
    let rate = made as f64 / start.elapsed().as_secs_f64();
    println!("{name} keys/s on {cores} cores: {rate:.1}");
}
