//! The chaos monkey of the chaos test: it owns the worker processes, SIGKILLs one at a seeded
//! random moment, starts it again with the same settings (keypair, journal, store) after a seeded
//! random pause, and so on until told to stop; then it stops every worker with SIGTERM and reports
//! how each exited.
//!
//! It runs on a thread of its own, which also starts the restarted processes and stops them all at
//! the end: a child's parent-death signal follows the thread that spawned it, so that thread must
//! outlive the children.
use std::{
    collections::BTreeMap,
    sync::{
        atomic::{AtomicBool, AtomicU32, Ordering},
        Arc,
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

use serde::Serialize;

use crate::{proxy::XorShift, ProcessExit, WorkerProcess};

#[derive(Clone, Copy, Debug)]
pub struct MonkeyOptions {
    pub seed: u64,
    /// Time between a restart and the next kill: uniform in this range.
    pub gap: (Duration, Duration),
    /// Time a killed process stays down: uniform in this range.
    pub down: (Duration, Duration),
    /// Per process, for the final SIGTERM.
    pub grace: Duration,
}

impl MonkeyOptions {
    pub fn new(seed: u64) -> Self {
        MonkeyOptions {
            seed,
            gap: (Duration::from_millis(300), Duration::from_millis(2500)),
            down: (Duration::from_millis(100), Duration::from_millis(1200)),
            grace: Duration::from_secs(15),
        }
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct MonkeyReport {
    pub seed: u64,
    pub kills: u32,
    pub restarts: u32,
    /// Kills per process name.
    pub kills_of: BTreeMap<String, u32>,
    /// Processes that exited without being killed (each was started again).
    pub unexpected_exits: Vec<String>,
    /// Restarts that failed.
    pub errors: Vec<String>,
    /// How the last life of each worker ended on the final SIGTERM.
    pub exits: Vec<ProcessExit>,
}

pub struct Monkey {
    stop: Arc<AtomicBool>,
    kills: Arc<AtomicU32>,
    handle: Option<JoinHandle<MonkeyReport>>,
}

impl Monkey {
    /// Takes over `workers`; `workers[0]` is the provider, killed half the time, otherwise one of
    /// the others (the verifiers) uniformly. One process is down at a time.
    pub fn start(mut workers: Vec<WorkerProcess>, opts: MonkeyOptions) -> Monkey {
        let stop = Arc::new(AtomicBool::new(false));
        let kills = Arc::new(AtomicU32::new(0));
        let (stop2, kills2) = (stop.clone(), kills.clone());
        let handle = std::thread::Builder::new()
            .name("chaos-monkey".into())
            .spawn(move || {
                let mut rng = XorShift::new(opts.seed);
                let mut report = MonkeyReport { seed: opts.seed, ..Default::default() };
                let sleep_until = |t: Instant, stop: &AtomicBool| {
                    while Instant::now() < t && !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                };
                let mut next_kill = Instant::now() + rng.duration(opts.gap.0, opts.gap.1);
                while !stop2.load(Ordering::Relaxed) {
                    for w in workers.iter_mut() {
                        if let Some(code) = w.exited() {
                            tracing::warn!(worker = %w.name, ?code, "exited without being killed; starting it again");
                            report.unexpected_exits.push(format!("{} exited by itself with {code:?}", w.name));
                            if let Err(e) = w.restart() {
                                report.errors.push(format!("restart {}: {e}", w.name));
                            }
                        }
                    }
                    if Instant::now() < next_kill {
                        std::thread::sleep(Duration::from_millis(20));
                        continue;
                    }
                    let victim = if workers.len() == 1 || rng.below(2) == 0 {
                        0
                    } else {
                        1 + rng.below(workers.len() as u64 - 1) as usize
                    };
                    let down = rng.duration(opts.down.0, opts.down.1);
                    let w = &mut workers[victim];
                    w.kill();
                    report.kills += 1;
                    kills2.fetch_add(1, Ordering::Relaxed);
                    *report.kills_of.entry(w.name.clone()).or_default() += 1;
                    tracing::info!(worker = %w.name, ?down, "chaos: SIGKILL");
                    // Restarted even when told to stop meanwhile: the final SIGTERM is for a live process.
                    let back = Instant::now() + down;
                    sleep_until(back, &stop2);
                    match w.restart() {
                        Ok(()) => report.restarts += 1,
                        Err(e) => report.errors.push(format!("restart {}: {e}", w.name)),
                    }
                    next_kill = Instant::now() + rng.duration(opts.gap.0, opts.gap.1);
                }
                // A process SIGTERMed before it installed its handlers dies of the signal: let
                // the last restarts finish starting first.
                for w in &workers {
                    if !w.wait_started(Duration::from_secs(30)) {
                        report.errors.push(format!("{} did not log `connected` within 30 s of its start", w.name));
                    }
                }
                // (The handlers are installed by a task spawned just after that line.)
                std::thread::sleep(Duration::from_millis(500));
                for w in workers {
                    report.exits.push(w.stop(opts.grace));
                }
                report
            })
            .expect("spawn the chaos monkey thread");
        Monkey { stop, kills, handle: Some(handle) }
    }

    /// Kills so far.
    pub fn kills(&self) -> u32 {
        self.kills.load(Ordering::Relaxed)
    }

    /// Stops killing, stops every worker with SIGTERM (blocking) and returns the report.
    pub fn finish(mut self) -> MonkeyReport {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.take().map(|h| h.join().unwrap_or_default()).unwrap_or_default()
    }
}

impl Drop for Monkey {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
