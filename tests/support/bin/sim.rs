//! `sim`: the seeded whole-system simulation (`support::world`), for long hunts and replays.
//!
//!     scripts/sim.sh --seeds 10000 --steps 200      # seeds 0..10000, 200 steps each
//!     scripts/sim.sh --seed 4711 [--steps 200]      # one seed again, its whole trace printed
//!     scripts/sim.sh --seed 4711 --shrink           # ... and its failing steps shrunk
//!
//! Prints one line per 100 seeds and a summary (seeds, steps, operations per second); a
//! failure prints its seed, step, invariant and trace, and exits 1.

use std::time::Instant;

use support::world;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut first: u64 = 0;
    let mut seeds: u64 = 100;
    let mut steps: usize = 200;
    let mut one = false;
    let mut shrink = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| -> u64 {
            args.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| usage(&format!("{name} needs a number")))
        };
        match arg.as_str() {
            "--seed" => {
                first = value("--seed");
                seeds = 1;
                one = true;
            }
            "--from" => first = value("--from"),
            "--seeds" => seeds = value("--seeds"),
            "--steps" => steps = usize::try_from(value("--steps")).unwrap_or(usize::MAX),
            "--shrink" => shrink = true,
            other => usage(&format!("unknown argument {other}")),
        }
    }
    let started = Instant::now();
    let (mut operations, mut disbursed, mut collected, mut faults, mut crashes) = (0, 0, 0, 0, 0);
    let mut max_runs = 0;
    for seed in first..first + seeds {
        match world::run(seed, steps).await {
            Ok(summary) => {
                operations += summary.operations;
                disbursed += summary.disbursed;
                collected += summary.collected;
                faults += summary.faults;
                crashes += summary.crashes;
                max_runs = max_runs.max(summary.runs_to_converge);
                if one {
                    for line in &summary.trace {
                        println!("{line}");
                    }
                    println!(
                        "seed {seed}: every invariant held; {} operations, {} payouts, {} \
                         contracts, {} faults met, {} crashes, settled in {} runs",
                        summary.operations,
                        summary.payouts,
                        summary.contracts,
                        summary.faults,
                        summary.crashes,
                        summary.runs_to_converge
                    );
                }
            }
            Err(failure) => {
                println!("{failure}");
                if shrink {
                    let (shrunk, last) =
                        world::shrink(seed, world::steps_of(seed, steps), &failure).await;
                    println!("shrunk to {} steps:", shrunk.len());
                    println!("{last}");
                }
                std::process::exit(1);
            }
        }
        let done = seed - first + 1;
        if done.is_multiple_of(100) {
            eprintln!(
                "[sim] {done} seeds, {:.0} s",
                started.elapsed().as_secs_f64()
            );
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "sim: {seeds} seeds ({first}..{}) x {steps} steps: every invariant held. {operations} \
         operations in {secs:.1} s ({:.0} operations/s); {disbursed} payouts disbursed, \
         {collected} collections, {faults} faults met, {crashes} crashes; the end settled \
         within {max_runs} payout runs",
        first + seeds,
        operations as f64 / secs.max(1e-9)
    );
}

fn usage(why: &str) -> ! {
    eprintln!("sim: {why}\nusage: sim [--seed N | --from N --seeds N] [--steps N] [--shrink]");
    std::process::exit(2)
}
