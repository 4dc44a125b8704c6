//! The seeded whole-system simulation: every real component in one process, actors drawn from
//! a seed, SkyPay's and the ledger's faults, and the money invariants checked after every step.
//!
//! - The ledger: the embedded dynoxide through the production `aws-sdk-dynamodb` code, under
//!   [`ddb`]'s fault layer (answers lost after the write, throttling, 500s, a function killed
//!   between its write and its answer).
//! - The gateway ([`skypay::Gateway`], every call plain or AES as the seed's partner is
//!   configured), the payout push service with its lease ([`PayoutQueue`], as the payout-queue
//!   function runs it on SQS messages), the payout run and the daily run ([`Reconciler`]), the
//!   `/admin` router (the loan system's registrations and cancels).
//! - skypay-sim as SkyPay, on loopback, with its money: what it has taken, paid (to a wallet or
//!   bank, or at a counter) and collected. It records every call that breaks SkyPay's rules.
//! - Actors drawn from the seed: the loan system (registers, re-sends, cancels, re-drives the
//!   dead-letter queue), SQS (delivers, redelivers, duplicates, reorders), SkyPay's back office
//!   (moves payouts on and owes callbacks, delivered late, twice or out of order), the shops'
//!   cashiers (inquiry then pay or collect, retries, wrong orders, wallet numbers at a counter),
//!   the clock, and faults.
//!
//! Everything runs on one task, one step at a time: a seed replays exactly (the ledger's random
//! tokens and the wall-clock stamps of the logs aside, neither of which steers anything). The
//! concurrency the conditional writes stand for is tested apart (`tests/it/concurrency.rs`):
//! here it appears as the interleavings of steps (a cashier's payment between a cancel's read
//! and its write cannot happen, a callback between a push and its answer can).
//!
//! A failure names the seed, the step and the invariant, with the steps that led there (shrunk
//! when asked): `scripts/sim.sh --seed N` replays it.

pub mod ddb;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use chrono::{DateTime, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use skypay::ledger::{PayoutLookup, PayoutStatus};
use skypay::outbound::push::PayoutQueue;
use skypay::outbound::reconcile::Reconciler;
use skypay::protocol::crypto;
use skypay::protocol::time::{Clock, SkyPayTime, manila_day};
use skypay::{Action, Call, Config, Gateway, Ledger};
use skypay_sim::{Fault, Sim, SimCollection, SimConfig, SimPayout, SimStatus};
use tower::ServiceExt;

pub use ddb::{DdbFault, DdbFaults};

use crate::*;

/// The AES key text of the seeds whose partner encrypts (odd seeds).
const AES: &str = "SkyPay-Partner-Secret";

/// One thing that happens in the world.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// The loan system registers a new payout on `channel`, through SQS or `POST /admin/payouts`.
    Register { channel: u32, via_sqs: bool },
    /// ... sends an instruction it sent before again (its request timed out, the SDK retried).
    Resend { payout: usize, via_sqs: bool },
    /// ... cancels a payout (`POST /admin/payouts/{n}/cancel`).
    Cancel { payout: usize },
    /// ... moves the dead-letter queue back to the queue.
    Redrive,
    /// ... registers a new contract (`POST /admin/contracts`).
    RegisterContract,
    /// SQS delivers a message (not always the oldest); `again`: delivered again later even if
    /// acknowledged (at-least-once).
    Deliver { message: usize, again: bool },
    /// A cashier's pickup: payoutInquiry (unless skipped), then payoutPayout; `twice`: the
    /// cashier sends payoutPayout again at once (a double click, a retry).
    Pickup {
        payout: usize,
        skip_inquiry: bool,
        twice: bool,
    },
    /// A cashier's repayment: collectionInquiry (unless skipped), then collectionCollect,
    /// sent again with the same receipt when the answer was not 1000.
    Collect {
        contract: usize,
        centavos: i64,
        skip_inquiry: bool,
    },
    /// SkyPay's back office moves a payout it holds one step on (uploaded; then paid, failed
    /// or cancelled) and owes the gateway the callback.
    Progress { payout: usize, roll: u32 },
    /// SkyPay delivers one owed callback; `again`: it will deliver it again.
    Callback { callback: usize, again: bool },
    /// The clock moves on.
    Advance { seconds: i64 },
    /// The scheduled payout run.
    Run,
}

/// A fault the next step meets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Injected {
    Ledger(DdbFault),
    SkyPay(Fault),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub faults: Vec<Injected>,
    pub op: Op,
}

/// SkyPay's answers to a push that SPEC 14.3 classifies, each drawn as a fault.
const SKYPAY_CODES: [&str; 10] = [
    "-9999", "-1009", "-1008", "-1001", "-1016", "-1027", "-1032", "-1021", "-1022", "-1000",
];

/// An index into one of the world's lists, taken modulo its length when the step runs (so a
/// shrunk list of steps still means something).
fn index(rng: &mut StdRng) -> usize {
    usize::try_from(rng.random::<u32>()).unwrap_or(0)
}

/// Draws one step.
pub fn draw(rng: &mut StdRng, faults: bool) -> Step {
    let op = match rng.random_range(0..100) {
        0..18 => Op::Register {
            channel: [1, 9, 5, 6, 8, 6][rng.random_range(0..6)],
            via_sqs: rng.random_bool(0.5),
        },
        18..24 => Op::Resend {
            payout: index(rng),
            via_sqs: rng.random_bool(0.5),
        },
        24..27 => Op::Cancel { payout: index(rng) },
        27..28 => Op::Redrive,
        28..33 => Op::RegisterContract,
        33..46 => Op::Deliver {
            message: index(rng),
            again: rng.random_bool(0.15),
        },
        46..58 => Op::Pickup {
            payout: index(rng),
            skip_inquiry: rng.random_bool(0.15),
            twice: rng.random_bool(0.15),
        },
        58..70 => Op::Collect {
            contract: index(rng),
            centavos: rng.random_range(1..=40) * 5_000,
            skip_inquiry: rng.random_bool(0.15),
        },
        70..82 => Op::Progress {
            payout: index(rng),
            roll: rng.random_range(0..100),
        },
        82..92 => Op::Callback {
            callback: index(rng),
            again: rng.random_bool(0.15),
        },
        92..97 => Op::Advance {
            seconds: [5, 60, 299, 301, 600, 1799, 1801, 3600][rng.random_range(0..8)],
        },
        _ => Op::Run,
    };
    let mut injected = Vec::new();
    if faults && rng.random_bool(0.25) {
        injected.push(if rng.random_bool(0.5) {
            Injected::Ledger(
                [
                    DdbFault::LoseAnswer,
                    DdbFault::LoseAnswer,
                    DdbFault::Throttle,
                    DdbFault::ServerError,
                    DdbFault::Crash,
                    DdbFault::Crash,
                    DdbFault::CrashBeforeWrite,
                ][rng.random_range(0..7)],
            )
        } else {
            Injected::SkyPay(match rng.random_range(0..14) {
                n @ 0..10 => Fault::Code(SKYPAY_CODES[n].to_owned()),
                10 => Fault::Http(503),
                11 => Fault::Garbage,
                _ => Fault::TakeThenHttp(504),
            })
        });
    }
    Step {
        faults: injected,
        op,
    }
}

/// A run's figures.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub seed: u64,
    pub steps: usize,
    /// Calls into the system (SkyPay's calls, the loan system's, SQS deliveries, runs).
    pub operations: u64,
    pub payouts: usize,
    pub contracts: usize,
    pub disbursed: usize,
    pub collected: usize,
    pub faults: usize,
    pub crashes: usize,
    /// Payout runs the end needed before every payout agreed with SkyPay.
    pub runs_to_converge: usize,
    pub elapsed: std::time::Duration,
    /// Every step and what it did.
    pub trace: Vec<String>,
}

/// An invariant broken.
#[derive(Clone, Debug)]
pub struct Failure {
    pub seed: u64,
    /// The step after which it was found (`steps` for the end's checks).
    pub step: usize,
    pub message: String,
    pub trace: Vec<String>,
    /// Set on a shrunk failure: its steps are a subset of the seed's, not its first ones.
    pub shrunk_from: Option<usize>,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "seed {} failed after step {}: {}",
            self.seed, self.step, self.message
        )?;
        match self.shrunk_from {
            None => writeln!(
                f,
                "replay: scripts/sim.sh --seed {} --steps {}",
                self.seed, self.step
            )?,
            Some(steps) => writeln!(
                f,
                "shrunk: {} of the first {steps} steps of seed {} (scripts/sim.sh --seed {} \
                 --steps {steps} --shrink finds them again)",
                self.trace.iter().filter(|l| !l.starts_with("  ")).count(),
                self.seed,
                self.seed
            )?,
        }
        for line in &self.trace {
            writeln!(f, "  {line}")?;
        }
        Ok(())
    }
}

/// The steps of `seed`, as [`run`] draws them.
pub fn steps_of(seed: u64, steps: usize) -> Vec<Step> {
    let mut rng = StdRng::seed_from_u64(seed);
    let faults = !seed.is_multiple_of(4);
    (0..steps).map(|_| draw(&mut rng, faults)).collect()
}

/// Runs `seed` for `steps` steps, then lets the world settle and checks it agrees.
pub async fn run(seed: u64, steps: usize) -> Result<Summary, Failure> {
    run_steps(seed, &steps_of(seed, steps)).await
}

/// Runs the given steps (a seed's, or a shrunk list of them).
pub async fn run_steps(seed: u64, steps: &[Step]) -> Result<Summary, Failure> {
    let started = Instant::now();
    let mut world = World::start(seed).await;
    for (i, step) in steps.iter().enumerate() {
        let line = world.step(step).await;
        world.trace.push(format!("{:>4} {line}", i + 1));
        if let Err(message) = world.check(false).await {
            return Err(world.failure(i + 1, message));
        }
    }
    let runs = match world.settle().await {
        Ok(runs) => runs,
        Err(message) => return Err(world.failure(steps.len(), message)),
    };
    let mut summary = world.summary(seed, steps.len());
    summary.runs_to_converge = runs;
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// A failing seed's steps, shrunk: chunks of steps left out while the same invariant still
/// breaks (delta debugging on the list; each try is a whole new world).
pub async fn shrink(seed: u64, steps: Vec<Step>, failure: &Failure) -> (Vec<Step>, Failure) {
    let invariant = |f: &Failure| f.message.split(':').next().unwrap_or("").to_owned();
    let wanted = invariant(failure);
    let mut best = (
        steps[..failure.step.min(steps.len())].to_vec(),
        failure.clone(),
    );
    let mut chunk = best.0.len() / 2;
    while chunk >= 1 {
        let mut start = 0;
        while start < best.0.len() {
            let mut candidate = best.0.clone();
            let end = (start + chunk).min(candidate.len());
            candidate.drain(start..end);
            match run_steps(seed, &candidate).await {
                Err(f) if invariant(&f) == wanted => {
                    let step = f.step.min(candidate.len());
                    candidate.truncate(step);
                    best = (candidate, f);
                }
                _ => start += chunk,
            }
        }
        chunk /= 2;
    }
    best.1.shrunk_from = Some(failure.step);
    best
}

#[derive(Clone, Debug)]
struct KnownPayout {
    number: String,
    channel: u32,
    amount: Decimal,
    instruction: String,
}

impl KnownPayout {
    fn pushed(&self) -> bool {
        !matches!(self.channel, 1 | 9)
    }
}

#[derive(Clone, Debug)]
struct Message {
    id: String,
    body: String,
    receives: u32,
}

/// The services one function instance holds in memory; dropped and built again after a crash.
struct Services {
    gateway: Gateway,
    queue: PayoutQueue,
    reconciler: Reconciler,
    admin: axum::Router,
}

struct World {
    seed: u64,
    clock: Arc<ManualClock>,
    start: DateTime<Utc>,
    db: dynoxide::Database,
    faults: DdbFaults,
    /// The ledger as the checks read it: the same table, no faults.
    reader: Ledger,
    sim: Sim,
    config: Config,
    services: Services,
    payouts: Vec<KnownPayout>,
    contracts: Vec<String>,
    /// payoutPayout answers 1000, by control number: each is cash handed out at a counter.
    counter_paid: BTreeMap<String, u32>,
    /// Counter payouts whose payoutPayout failed after the ledger may have written it (a
    /// crash): PAID in the ledger with no cash out is expected there, and the daily run must
    /// report it.
    counter_in_doubt: BTreeSet<String>,
    /// Receipts answered 1000: (contract, amount).
    receipts: BTreeMap<String, (String, Decimal)>,
    /// Receipts whose every collectionCollect failed after the ledger may have written them.
    receipts_in_doubt: BTreeSet<String>,
    /// The ledger status of each known payout, as of the last check (read again when a write
    /// names it).
    statuses: BTreeMap<String, Option<PayoutStatus>>,
    /// Contracts a step collected on (checked again even if no write named them).
    touched: BTreeSet<String>,
    sqs: VecDeque<Message>,
    dlq: Vec<Message>,
    /// Callbacks SkyPay owes the gateway, oldest first.
    outbox: Vec<Value>,
    trace: Vec<String>,
    serial: u64,
    operations: u64,
    faults_met: usize,
    crashes: usize,
}

/// 09:00 in Manila today: a fixed time of day, so that a seed meets the same day boundaries
/// whenever it runs.
fn start_time() -> DateTime<Utc> {
    let manila = skypay::protocol::time::manila();
    let today = Utc::now().with_timezone(&manila).date_naive();
    today
        .and_hms_opt(9, 0, 0)
        .and_then(|t| t.and_local_timezone(manila).single())
        .map_or_else(Utc::now, |t| t.with_timezone(&Utc))
}

impl World {
    async fn start(seed: u64) -> World {
        let aes = !seed.is_multiple_of(2);
        let extra: &[(&str, &str)] = if aes {
            &[("SKYPAY_ENCRYPTION_KEY", AES)]
        } else {
            &[]
        };
        let start = start_time();
        let clock = ManualClock::at(start);
        let mut sim_config = SimConfig::new(config_with(extra));
        sim_config.clock = clock.clone();
        let sim = Sim::start("127.0.0.1:0".parse().unwrap(), sim_config)
            .await
            .expect("skypay-sim started");
        let mut config = config_with(extra);
        config.table_name = ddb::TABLE.to_owned();
        config.skypay_api = Some(skypay::config::SkyPayApi {
            url: sim.url.clone(),
            timeout: std::time::Duration::from_secs(10),
        });
        config.sender = Some("Lender App".to_owned());
        let db = dynoxide::Database::memory().expect("in-memory dynoxide");
        let faults = DdbFaults::default();
        let reader = ddb::ledger(&db, &DdbFaults::default());
        reader
            .ensure_table(skypay::ledger::schema::Stream::Off)
            .await
            .expect("table created");
        let services = World::services(&config, &db, &faults, clock.clone());
        World {
            seed,
            clock,
            start,
            db,
            faults,
            reader,
            sim,
            config,
            services,
            payouts: Vec::new(),
            contracts: Vec::new(),
            counter_paid: BTreeMap::new(),
            counter_in_doubt: BTreeSet::new(),
            receipts: BTreeMap::new(),
            receipts_in_doubt: BTreeSet::new(),
            statuses: BTreeMap::new(),
            touched: BTreeSet::new(),
            sqs: VecDeque::new(),
            dlq: Vec::new(),
            outbox: Vec::new(),
            trace: Vec::new(),
            serial: 0,
            operations: 0,
            faults_met: 0,
            crashes: 0,
        }
    }

    fn services(
        config: &Config,
        db: &dynoxide::Database,
        faults: &DdbFaults,
        clock: Arc<ManualClock>,
    ) -> Services {
        let ledger = ddb::ledger(db, faults);
        let clock: Arc<dyn Clock> = clock;
        let queue = PayoutQueue::with_clock(config.clone(), ledger.clone(), clock.clone())
            .expect("payout queue");
        let reconciler =
            Reconciler::new(config.clone(), ledger.clone(), clock.clone()).expect("reconciler");
        let admin = skypay_admin::AdminState::new(
            config.clone(),
            ledger.clone(),
            None,
            skypay_admin::BODY_TIMEOUT,
        )
        .expect("admin state")
        .with_queue(queue.clone());
        Services {
            gateway: Gateway::with_clock(config.clone(), ledger, clock),
            queue,
            reconciler,
            admin: skypay_admin::router(admin),
        }
    }

    fn failure(&self, step: usize, message: String) -> Failure {
        Failure {
            seed: self.seed,
            step,
            message,
            trace: self.trace.clone(),
            shrunk_from: None,
        }
    }

    fn summary(&self, seed: u64, steps: usize) -> Summary {
        Summary {
            seed,
            steps,
            operations: self.operations,
            payouts: self.payouts.len(),
            contracts: self.contracts.len(),
            disbursed: self
                .counter_paid
                .values()
                .map(|n| *n as usize)
                .sum::<usize>()
                + self.sim.with_state(|s| {
                    s.payouts
                        .values()
                        .filter(|p| {
                            p.status == SimStatus::Completed && !matches!(p.withdraw_channel, 1 | 9)
                        })
                        .count()
                }),
            collected: self.receipts.len(),
            faults: self.faults_met,
            crashes: self.crashes,
            runs_to_converge: 0,
            elapsed: std::time::Duration::ZERO,
            trace: self.trace.clone(),
        }
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    fn next_number(&mut self) -> String {
        self.serial += 1;
        number(self.seed % 1000 * 1_000_000 + self.serial)
    }

    /// One step: its faults armed, its operation, the faults no request met dropped, and a
    /// crash (if one happened) turned into fresh services. Returns the trace line.
    async fn step(&mut self, step: &Step) -> String {
        for fault in &step.faults {
            match fault {
                Injected::Ledger(f) => self.faults.push(*f),
                Injected::SkyPay(f) => self.sim.script([f.clone()]),
            }
        }
        let did = self.apply(&step.op).await;
        let (unmet, crashed) = self.faults.clear();
        let unmet = unmet + self.sim.unscript();
        self.faults_met += step.faults.len().saturating_sub(unmet);
        let mut line = if step.faults.is_empty() {
            format!("{:?} -> {did}", step.op)
        } else {
            format!("{:?} with {:?} -> {did}", step.op, step.faults)
        };
        if crashed {
            self.crashes += 1;
            self.services =
                World::services(&self.config, &self.db, &self.faults, self.clock.clone());
            line.push_str(" [crashed: services rebuilt]");
        }
        line
    }

    async fn apply(&mut self, op: &Op) -> String {
        match *op {
            Op::Register { channel, via_sqs } => self.register(channel, via_sqs).await,
            Op::Resend { payout, via_sqs } => {
                let Some(p) = self.pick(payout) else {
                    return "no payout yet".into();
                };
                self.send(&p.instruction, via_sqs).await
            }
            Op::Cancel { payout } => {
                let Some(p) = self.pick(payout) else {
                    return "no payout yet".into();
                };
                let (status, body) = self
                    .admin(&format!("/admin/payouts/{}/cancel", p.number), "{}")
                    .await;
                format!("{} cancel: {status} {}", p.number, brief(&body))
            }
            Op::Redrive => {
                let n = self.dlq.len();
                for mut m in self.dlq.drain(..) {
                    m.receives = 0;
                    self.sqs.push_back(m);
                }
                format!("{n} messages back from the DLQ")
            }
            Op::RegisterContract => {
                let number = self.next_number();
                let body = json!({"contractNumber": number, "amountDue": "5000.00"});
                let (status, answer) = self.admin("/admin/contracts", &body.to_string()).await;
                if status < 300 {
                    self.contracts.push(number.clone());
                }
                format!("contract {number}: {status} {}", brief(&answer))
            }
            Op::Deliver { message, again } => self.deliver(message, again).await,
            Op::Pickup {
                payout,
                skip_inquiry,
                twice,
            } => self.pickup(payout, skip_inquiry, twice).await,
            Op::Collect {
                contract,
                centavos,
                skip_inquiry,
            } => self.collect(contract, centavos, skip_inquiry).await,
            Op::Progress { payout, roll } => self.progress(payout, roll),
            Op::Callback { callback, again } => {
                if self.outbox.is_empty() {
                    return "no callback owed".into();
                }
                let i = callback % self.outbox.len();
                let body = self.outbox[i].clone();
                let (code, _) = self.call(Action::PayoutQueuePayout, &body).await;
                if code == "1000" && !again {
                    self.outbox.remove(i);
                }
                format!(
                    "callback {} payType {}: {code}",
                    body["controlNumber"].as_str().unwrap_or(""),
                    body["payType"].as_str().unwrap_or("")
                )
            }
            Op::Advance { seconds } => {
                self.clock.advance(chrono::Duration::seconds(seconds));
                format!("clock at {}", SkyPayTime::from_utc(self.now()).text)
            }
            Op::Run => {
                self.operations += 1;
                match self.services.reconciler.run_payouts("sim-run").await {
                    Ok(run) => format!(
                        "run: open {} due {} queries {} applied {:?} repushed {} in doubt {}",
                        run.open, run.due, run.queries, run.applied, run.repushed, run.in_doubt
                    ),
                    Err(failure) => format!("run failed: {}", failure.error),
                }
            }
        }
    }

    fn pick(&self, index: usize) -> Option<KnownPayout> {
        (!self.payouts.is_empty()).then(|| self.payouts[index % self.payouts.len()].clone())
    }

    async fn register(&mut self, channel: u32, via_sqs: bool) -> String {
        let number = self.next_number();
        let amount = Decimal::new(i64::try_from(self.serial % 40 + 1).unwrap_or(1) * 25_000, 2);
        let mut instruction = json!({
            "controlNumber": number,
            "name": "Cruz,Juan",
            "phone": "09171234567",
            "amount": skypay::protocol::rules::money(amount),
            "withdrawChannel": channel,
        });
        match channel {
            5 => {
                instruction["accountNo"] = json!("001234567890");
                instruction["bankNo"] = json!("BDO");
            }
            6 | 8 => instruction["accountNo"] = json!("09171234567"),
            _ => {}
        }
        let instruction = instruction.to_string();
        self.payouts.push(KnownPayout {
            number: number.clone(),
            channel,
            amount,
            instruction: instruction.clone(),
        });
        let sent = self.send(&instruction, via_sqs).await;
        format!("{number} channel {channel}: {sent}")
    }

    /// The loan system sends an instruction: onto the queue, or to `POST /admin/payouts`.
    async fn send(&mut self, instruction: &str, via_sqs: bool) -> String {
        if via_sqs {
            self.serial += 1;
            self.sqs.push_back(Message {
                id: format!("m-{}", self.serial),
                body: instruction.to_owned(),
                receives: 0,
            });
            return "queued on SQS".into();
        }
        let (status, body) = self.admin("/admin/payouts", instruction).await;
        format!("admin {status} {}", brief(&body))
    }

    async fn deliver(&mut self, index: usize, again: bool) -> String {
        if self.sqs.is_empty() {
            return "no message".into();
        }
        let Some(mut message) = self.sqs.remove(index % self.sqs.len()) else {
            return "no message".into();
        };
        self.operations += 1;
        message.receives += 1;
        let retry = self
            .services
            .queue
            .clone()
            .process_message(message.id.clone(), message.body.clone())
            .await;
        let id = message.id.clone();
        if retry || again {
            if message.receives >= 5 {
                self.dlq.push(message);
                return format!("{id}: retry {retry}, to the DLQ");
            }
            self.sqs.push_back(message);
        }
        format!("{id}: retry {retry}")
    }

    async fn pickup(&mut self, index: usize, skip_inquiry: bool, twice: bool) -> String {
        let Some(p) = self.pick(index) else {
            return "no payout yet".into();
        };
        let mut line = p.number.clone();
        if !skip_inquiry {
            let body = payout_inquiry(&p.number, json!({}));
            let (code, _) = self.call(Action::PayoutInquiry, &body).await;
            line.push_str(&format!(" inquiry {code}"));
            if code != "1000" {
                return line;
            }
        }
        // A cashier of the payout's own network, or of M Lhuillier for a wallet payout asked
        // at a counter.
        let channel = if p.pushed() { 1 } else { p.channel };
        let pay_time = SkyPayTime::from_utc(self.now()).text;
        let body = payout_payout(
            &p.number,
            json!({"withdrawChannel": channel.to_string(), "payTime": pay_time}),
        );
        for _ in 0..if twice { 2 } else { 1 } {
            let (code, _) = self.call(Action::PayoutPayout, &body).await;
            line.push_str(&format!(" payout {code}"));
            match code.as_str() {
                "1000" => {
                    *self.counter_paid.entry(p.number.clone()).or_insert(0) += 1;
                    let now = self.now();
                    if !p.pushed() {
                        self.sim.with_state(|s| {
                            s.payouts.entry(p.number.clone()).or_insert(SimPayout {
                                control_number: p.number.clone(),
                                amount: p.amount,
                                withdraw_channel: p.channel,
                                phone: "09171234567".into(),
                                status: SimStatus::Completed,
                                transaction_date: now,
                                pay_time: Some(now),
                                cancel_time: None,
                                reference_no: String::new(),
                            });
                        });
                    }
                }
                "-1009" => {
                    self.counter_in_doubt.insert(p.number.clone());
                }
                _ => {}
            }
        }
        line
    }

    async fn collect(&mut self, index: usize, centavos: i64, skip_inquiry: bool) -> String {
        if self.contracts.is_empty() {
            return "no contract yet".into();
        }
        let contract = self.contracts[index % self.contracts.len()].clone();
        self.touched.insert(contract.clone());
        let amount = Decimal::new(centavos, 2);
        let text = skypay::protocol::rules::money(amount);
        let mut line = format!("{contract} {text}");
        if !skip_inquiry {
            let body = collection_inquiry(&contract, &text, json!({}));
            let (code, _) = self.call(Action::CollectionInquiry, &body).await;
            line.push_str(&format!(" inquiry {code}"));
            if code != "1000" {
                return line;
            }
        }
        self.serial += 1;
        let receipt = format!("R{:08}", self.serial);
        let collected_at = self.now();
        let body = collection_collect(
            &contract,
            &receipt,
            &text,
            json!({"collectedTime": SkyPayTime::from_utc(collected_at).text}),
        );
        for attempt in 0..3 {
            let (code, _) = self.call(Action::CollectionCollect, &body).await;
            line.push_str(&format!(" collect {code}"));
            // -1015 on a retry: the earlier attempt was recorded.
            let recorded = code == "1000" || (attempt > 0 && code == "-1015");
            if recorded {
                if code == "1000" {
                    self.receipts
                        .insert(receipt.clone(), (contract.clone(), amount));
                }
                self.receipts_in_doubt.remove(&receipt);
                self.sim.with_state(|s| {
                    s.collections.push(SimCollection {
                        contract_number: contract.clone(),
                        amount,
                        reference_no: receipt.clone(),
                        phone: "09270348095".into(),
                        collected_time: collected_at,
                    })
                });
                return line;
            }
            if code != "-1009" {
                return line;
            }
            self.receipts_in_doubt.insert(receipt.clone());
        }
        line
    }

    /// SkyPay's back office moves one payout it holds on, and owes the callback.
    fn progress(&mut self, index: usize, roll: u32) -> String {
        let held: Vec<SimPayout> = self.sim.with_state(|s| {
            s.payouts
                .values()
                .filter(|p| !matches!(p.withdraw_channel, 1 | 9))
                .cloned()
                .collect()
        });
        if held.is_empty() {
            return "SkyPay holds no payout".into();
        }
        let p = &held[index % held.len()];
        let now = self.now();
        let (status, pay_type) = match p.status {
            SimStatus::Pending => (SimStatus::Uploaded, 1),
            SimStatus::Uploaded => match roll {
                0..70 => (SimStatus::Completed, 2),
                70..85 => (SimStatus::Failed, 4),
                _ => (SimStatus::Cancelled, 3),
            },
            other => return format!("{} stays {}", p.control_number, other.description()),
        };
        let reference = format!("SIM{:010}", self.serial);
        self.sim.with_state(|s| {
            if status == SimStatus::Uploaded
                && let Some(held) = s.payouts.get_mut(&p.control_number)
            {
                held.reference_no = reference.clone();
            }
        });
        self.sim.set_status(&p.control_number, status, now);
        let mut body = payout_queue_payout(
            &p.control_number,
            pay_type,
            &SkyPayTime::from_utc(now).text,
            json!({}),
        );
        match pay_type {
            1 => body["referenceNumber"] = json!(reference),
            4 => body["failDescription"] = json!("Account is invalid"),
            _ => {}
        }
        self.outbox.push(body);
        format!("{} now {}", p.control_number, status.description())
    }

    /// A SkyPay call into the gateway, encrypted when the partner encrypts: the answer's
    /// responseCode and fields.
    async fn call(&mut self, action: Action, body: &Value) -> (String, Value) {
        self.operations += 1;
        let key = self.config.encryption.key().cloned();
        let plain = body.to_string();
        let sent = match &key {
            Some(key) => crypto::encrypt(key, plain.as_bytes()),
            None => plain,
        };
        let reply = self
            .services
            .gateway
            .handle(
                action,
                Call {
                    body: sent.as_bytes(),
                    source_ip: Some("203.0.113.10".parse().unwrap()),
                    request_id: "sim",
                },
            )
            .await;
        let text = match &key {
            Some(key) => crypto::decrypt(key, reply.body.trim())
                .and_then(|b| String::from_utf8(b).ok())
                .unwrap_or_else(|| reply.body.clone()),
            None => reply.body.clone(),
        };
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let code = value["responseCode"].as_str().unwrap_or("none").to_owned();
        (code, value)
    }

    /// The loan system's call of an `/admin` route (POST with a JSON body).
    async fn admin(&mut self, path: &str, body: &str) -> (u16, Value) {
        self.operations += 1;
        let request = axum::http::Request::post(path)
            .header("content-type", "application/json")
            .body(Body::from(body.to_owned()))
            .expect("a request");
        let Ok(response) = self.services.admin.clone().oneshot(request).await;
        let status = response.status().as_u16();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap_or_default();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// The invariants that hold after every step. The ledger is read again for the payouts and
    /// contracts the step's writes named (`everything`: all of them).
    async fn check(&mut self, everything: bool) -> Result<(), String> {
        let written = self.faults.take_written();
        let touched = std::mem::take(&mut self.touched);
        let named = |number: &str| {
            everything || touched.contains(number) || written.iter().any(|w| w.contains(number))
        };
        for p in &self.payouts {
            if named(&p.number) || !self.statuses.contains_key(&p.number) {
                let status = self.status(&p.number).await?;
                self.statuses.insert(p.number.clone(), status);
            }
        }
        let contracts: Vec<String> = self
            .contracts
            .iter()
            .filter(|c| named(c))
            .cloned()
            .collect();
        let (held, breaks) = self
            .sim
            .with_state(|s| (s.payouts.clone(), s.rule_breaks.clone()));
        // 6. No call broke SkyPay's own rules.
        if let Some(first) = breaks.first() {
            return Err(format!("invariant 6 (SkyPay's rules): {first}"));
        }
        for p in &self.payouts {
            let counter = self.counter_paid.get(&p.number).copied().unwrap_or(0);
            let wallet = p.pushed()
                && held
                    .get(&p.number)
                    .is_some_and(|h| h.status == SimStatus::Completed);
            let disbursed = counter + u32::from(wallet);
            // 1. Disbursed at most once, counter and wallet/bank alike.
            if disbursed > 1 {
                return Err(format!(
                    "invariant 1 (disbursed once): {} disbursed {disbursed} times \
                     (counter {counter}, wallet/bank {wallet})",
                    p.number
                ));
            }
            let status = self.statuses.get(&p.number).copied().flatten();
            // 2. REJECTED or CANCELLED: never disbursed; PAID: disbursed once.
            match status {
                Some(PayoutStatus::Rejected | PayoutStatus::Cancelled) if disbursed > 0 => {
                    return Err(format!(
                        "invariant 2 (closed means unpaid): {} is {} in the ledger and was \
                         disbursed (counter {counter}, wallet/bank {wallet})",
                        p.number,
                        status.map_or("-", |s| s.as_str())
                    ));
                }
                Some(PayoutStatus::Paid)
                    if disbursed == 0 && !self.counter_in_doubt.contains(&p.number) =>
                {
                    return Err(format!(
                        "invariant 2 (paid means disbursed): {} is PAID in the ledger and no \
                         cash went out",
                        p.number
                    ));
                }
                _ => {}
            }
        }
        // 3. Every collection answered 1000 is in the ledger once; the totals add up.
        for contract in &contracts {
            let Some(found) = self
                .reader
                .contract(contract)
                .await
                .map_err(|e| format!("reading {contract}: {e}"))?
            else {
                return Err(format!(
                    "invariant 3: contract {contract} is not in the ledger"
                ));
            };
            let mut in_ledger: BTreeMap<&str, u32> = BTreeMap::new();
            for r in &found.receipts {
                *in_ledger.entry(r.receipt_number.as_str()).or_insert(0) += 1;
            }
            for (receipt, (of, _)) in &self.receipts {
                if of == contract && in_ledger.get(receipt.as_str()).copied() != Some(1) {
                    return Err(format!(
                        "invariant 3 (collected once): receipt {receipt} answered 1000 is in \
                         the ledger {} times",
                        in_ledger.get(receipt.as_str()).copied().unwrap_or(0)
                    ));
                }
            }
            let sum: Decimal = found.receipts.iter().map(|r| r.amount).sum();
            if usize::try_from(found.receipt_count).ok() == Some(found.receipts.len())
                && sum != found.collected_total
            {
                return Err(format!(
                    "invariant 3 (totals): {contract} collectedTotal {} but its receipts add \
                     up to {sum}",
                    found.collected_total
                ));
            }
        }
        Ok(())
    }

    async fn status(&self, number: &str) -> Result<Option<PayoutStatus>, String> {
        Ok(self.payout(number).await?.map(|p| p.status))
    }

    async fn payout(&self, number: &str) -> Result<Option<skypay::ledger::Payout>, String> {
        match self.reader.payout(number).await {
            Ok(Some(PayoutLookup::Payout(p))) => Ok(Some(*p)),
            Ok(Some(PayoutLookup::Orphan(_))) => Err(format!("{number} is an orphan")),
            Ok(None) => Ok(None),
            Err(e) => Err(format!("reading {number}: {e}")),
        }
    }

    /// The faults stop; SkyPay delivers what it owes; SQS drains; the clock runs on through
    /// payout runs until every payout agrees with SkyPay (invariant 4); then the daily run of
    /// every day the world saw. Returns the runs it took.
    async fn settle(&mut self) -> Result<usize, String> {
        self.trace
            .push("  -- the faults stop; the world settles".into());
        for body in std::mem::take(&mut self.outbox) {
            let (code, _) = self.call(Action::PayoutQueuePayout, &body).await;
            if code != "1000" {
                return Err(format!(
                    "invariant 4 (settles): a callback without faults answered {code}: {body}"
                ));
            }
        }
        for _ in 0..2 {
            for mut m in self.dlq.drain(..) {
                m.receives = 0;
                self.sqs.push_back(m);
            }
            let mut rounds = 0;
            while !self.sqs.is_empty() && rounds < 1000 {
                self.deliver(0, false).await;
                rounds += 1;
            }
        }
        let mut runs = 0;
        let mut disagreement = String::new();
        while runs < 6 {
            self.clock.advance(chrono::Duration::seconds(31 * 60));
            runs += 1;
            let run = self.services.reconciler.run_payouts("sim-settle").await;
            self.trace.push(format!(
                "  settle run {runs}: {:?}",
                run.as_ref().map(|r| r.queries)
            ));
            match self.disagreement().await? {
                None => {
                    disagreement.clear();
                    break;
                }
                Some(d) => disagreement = d,
            }
        }
        if !disagreement.is_empty() {
            return Err(format!(
                "invariant 4 (settles): after {runs} payout runs without faults, {disagreement}"
            ));
        }
        self.check(true).await?;
        // The daily run of every Manila day the world saw, run the next morning.
        let first = manila_day(self.start);
        let last = manila_day(self.now());
        let mut day = first;
        while day <= last {
            let next = day.succ_opt().unwrap_or(day);
            let morning = next
                .and_hms_opt(6, 0, 0)
                .and_then(|t| {
                    t.and_local_timezone(skypay::protocol::time::manila())
                        .single()
                })
                .map(|t| t.with_timezone(&Utc));
            if let Some(morning) = morning
                && morning > self.now()
            {
                self.clock.set(morning);
            }
            let daily = self
                .services
                .reconciler
                .run_daily(day, "sim-daily")
                .await
                .map_err(|f| format!("invariant 4 (daily run): {day} failed: {}", f.error))?;
            for d in &daily.differences {
                let explained = self.counter_in_doubt.contains(&d.number)
                    || d.reference
                        .as_ref()
                        .is_some_and(|r| self.receipts_in_doubt.contains(r));
                if !explained {
                    return Err(format!(
                        "invariant 4 (daily run): {day}: {} {} (reference {:?}, SkyPay {:?}, \
                         ledger {:?})",
                        d.kind, d.number, d.reference, d.skypay_amount, d.ledger_amount
                    ));
                }
            }
            self.trace.push(format!(
                "  daily {day}: {} differences, all explained by a crash",
                daily.differences.len()
            ));
            if next == day {
                break;
            }
            day = next;
        }
        Ok(runs)
    }

    /// The first pushed payout whose ledger status differs from SkyPay's, or is in doubt or
    /// held.
    async fn disagreement(&self) -> Result<Option<String>, String> {
        let held = self.sim.with_state(|s| s.payouts.clone());
        for p in self.payouts.iter().filter(|p| p.pushed()) {
            let Some(view) = self.payout(&p.number).await? else {
                continue;
            };
            let at_skypay = held.get(&p.number).map(|h| h.status);
            let agrees = matches!(
                (at_skypay, view.status),
                (Some(SimStatus::Pending), PayoutStatus::Queued)
                    | (Some(SimStatus::Uploaded), PayoutStatus::Uploaded)
                    | (Some(SimStatus::Completed), PayoutStatus::Paid)
                    | (Some(SimStatus::Failed), PayoutStatus::Failed)
                    | (Some(SimStatus::Cancelled), PayoutStatus::Cancelled)
                    | (None, PayoutStatus::Rejected | PayoutStatus::Cancelled)
            );
            if !agrees || view.push_in_doubt || view.push_held.is_some() {
                return Ok(Some(format!(
                    "{} is {} in the ledger (in doubt {}, held {:?}) and {} at SkyPay",
                    p.number,
                    view.status.as_str(),
                    view.push_in_doubt,
                    view.push_held,
                    at_skypay.map_or("unknown", |s| s.description())
                )));
            }
        }
        Ok(None)
    }
}

/// An answer, short, for the trace.
fn brief(body: &Value) -> String {
    match (body.get("status"), body.get("error")) {
        (Some(s), _) => s.as_str().unwrap_or("").to_owned(),
        (_, Some(e)) => e.as_str().unwrap_or("").chars().take(60).collect(),
        _ => String::new(),
    }
}
