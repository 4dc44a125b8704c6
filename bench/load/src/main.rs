//! `skypay-load`: the load generator of `bench/run.sh`, against `skypay-local` on loopback.
//!
//! ```sh
//! # Register control numbers SKY010000000000.. (not timed): shop pickups, QUEUED.
//! skypay-load register --url http://127.0.0.1:3000 --from 0 --count 20000
//! # payoutPayout on them, 8 clients, 20% of the calls repeating a number paid before.
//! skypay-load pay --url http://127.0.0.1:3000 --from 0 --count 10000 --clients 8 --duplicates 20
//! # collectionCollect on one registered contract, a new receipt each call (the soak).
//! skypay-load collect --url http://127.0.0.1:3000 --contract SKY019999999999 --count 100000
//! ```
//!
//! Each command prints progress on stderr and one JSON object on stdout: requests, seconds,
//! requests per second, latency percentiles in microseconds, and the response codes seen.
//! Requests are bounded in count and in time (`--max-seconds`), and go only where `--url` says.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "skypay-load", about = "payoutPayout load against skypay-local")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Registers shop-pickup payouts through POST /admin/payouts (QUEUED, payable).
    Register(Common),
    /// Calls POST /payoutPayout: `--count` calls, of which `--duplicates` percent repeat a
    /// control number paid earlier in the run (answered -1026); the others each pay a new one.
    Pay {
        #[command(flatten)]
        common: Common,
        /// Percent of calls that repeat a control number (0-100).
        #[arg(long, default_value_t = 0)]
        duplicates: u64,
        #[arg(long, default_value = "AppName@skypay")]
        user: String,
        #[arg(long, default_value = "30AC21B2-9EAA-4503-B0F0-7BE5C277ED75")]
        key: String,
    },
    /// Calls POST /collectionCollect on one contract, each call a new receipt (`R` + the
    /// serial from `--from`), 1.00 each: every call a transaction that records a receipt.
    Collect {
        #[command(flatten)]
        common: Common,
        /// The contract, registered beforehand with an amount due that the run cannot reach.
        #[arg(long)]
        contract: String,
    },
}

#[derive(Args, Debug)]
struct Common {
    /// The server, e.g. http://127.0.0.1:3000.
    #[arg(long)]
    url: String,
    /// The first control number's serial: numbers are PREFIX + 10 digits, FROM.. upwards.
    #[arg(long, default_value_t = 0)]
    from: u64,
    /// How many requests.
    #[arg(long)]
    count: u64,
    /// Concurrent clients (each one request at a time, on its own connection).
    #[arg(long, default_value_t = 8)]
    clients: u64,
    /// The control number prefix.
    #[arg(long, default_value = "SKY01")]
    prefix: String,
    /// Tokio worker threads of the generator (it shares the machine with the server).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Stop after this long, whatever is left.
    #[arg(long, default_value_t = 120)]
    max_seconds: u64,
}

/// What one request is.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Register,
    Pay { duplicates: u64 },
    Collect,
}

struct Plan {
    kind: Kind,
    url: String,
    from: u64,
    count: u64,
    prefix: String,
    user: String,
    key: String,
    contract: String,
    deadline: Instant,
    clients: u64,
}

impl Plan {
    /// How many of the first `n` calls are duplicates (spread evenly through the run).
    fn duplicates_among(&self, n: u64) -> u64 {
        match self.kind {
            Kind::Pay { duplicates } => n.saturating_mul(duplicates) / 100,
            Kind::Register | Kind::Collect => 0,
        }
    }

    fn control_number(&self, serial: u64) -> String {
        format!("{}{:010}", self.prefix, self.from.saturating_add(serial))
    }

    /// Call `i`: its path and body.
    fn request(&self, i: u64) -> (String, String) {
        match self.kind {
            Kind::Register => (
                format!("{}/admin/payouts", self.url),
                format!(
                    r#"{{"controlNumber":"{}","name":"Cruz,Juan","phone":"09171234567","amount":"3400.00","withdrawChannel":1}}"#,
                    self.control_number(i)
                ),
            ),
            Kind::Collect => (
                format!("{}/collectionCollect", self.url),
                format!(
                    r#"{{"userName":"{}","action":"collectionCollect","authentication":"{}","contractNumber":"{}","amount":"1.00","phone":"09171234567","receiptNumber":"R{}","collectedTime":"2019-02-18 15:01:02","payChannel":"10"}}"#,
                    self.user,
                    self.key,
                    self.contract,
                    self.from.saturating_add(i)
                ),
            ),
            Kind::Pay { .. } => {
                let dups_through_i = self.duplicates_among(i.saturating_add(1));
                let is_duplicate = dups_through_i > self.duplicates_among(i);
                // Fresh numbers issued before this call.
                let fresh_before = i.saturating_sub(self.duplicates_among(i));
                let serial = if is_duplicate {
                    // A number issued well before, so that it is most likely paid already: not
                    // one of the last 2 x clients calls, picked by a fixed scramble.
                    let settled = fresh_before.saturating_sub(self.clients.saturating_mul(2));
                    if settled == 0 {
                        0
                    } else {
                        i.wrapping_mul(2_654_435_761) % settled
                    }
                } else {
                    fresh_before
                };
                (
                    format!("{}/payoutPayout", self.url),
                    format!(
                        r#"{{"userName":"{}","action":"payoutPayout","authentication":"{}","controlNumber":"{}","withdrawChannel":"1","payTime":"2019-02-18 14:59:33"}}"#,
                        self.user,
                        self.key,
                        self.control_number(serial)
                    ),
                )
            }
        }
    }

    /// Fresh control numbers the run uses: the serials `0..fresh`.
    fn fresh(&self) -> u64 {
        self.count.saturating_sub(self.duplicates_among(self.count))
    }
}

/// One client's results.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    codes: BTreeMap<String, u64>,
    errors: u64,
    first_error: Option<String>,
}

/// The response code of an envelope, or the HTTP status of an admin answer.
fn code_of(kind: Kind, status: u16, body: &str) -> String {
    match kind {
        Kind::Register => format!("HTTP {status}"),
        Kind::Pay { .. } | Kind::Collect => {
            let marker = "\"responseCode\":\"";
            body.find(marker)
                .and_then(|at| body.get(at + marker.len()..))
                .and_then(|rest| rest.split('"').next())
                .map_or_else(|| format!("HTTP {status} (no envelope)"), str::to_owned)
        }
    }
}

async fn client(plan: Arc<Plan>, http: reqwest::Client, next: Arc<AtomicU64>) -> Tally {
    let mut tally = Tally::default();
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= plan.count || Instant::now() >= plan.deadline {
            break;
        }
        let (url, body) = plan.request(i);
        let started = Instant::now();
        // JSON on every route: skypay-local's /admin takes nothing else (SPEC 14.6), and
        // SkyPay's routes take any content type.
        let request = http
            .post(&url)
            .header("content-type", "application/json")
            .body(body);
        let answer = match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                response.text().await.map(|text| (status, text))
            }
            Err(e) => Err(e),
        };
        let elapsed = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        match answer {
            Ok((status, text)) => {
                tally.latencies_us.push(elapsed);
                *tally
                    .codes
                    .entry(code_of(plan.kind, status, &text))
                    .or_default() += 1;
            }
            Err(e) => {
                tally.errors += 1;
                if tally.first_error.is_none() {
                    tally.first_error = Some(e.to_string());
                }
            }
        }
    }
    tally
}

/// The `p`-th percentile (0-100) of sorted values, nearest rank.
fn percentile(sorted: &[u64], p: u64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let len = sorted.len() as u64;
    let rank = (p.saturating_mul(len).div_ceil(100)).clamp(1, len);
    usize::try_from(rank - 1)
        .ok()
        .and_then(|at| sorted.get(at))
        .copied()
        .unwrap_or(0)
}

async fn run(plan: Plan) -> Result<serde_json::Value, String> {
    let clients = plan.clients.max(1);
    let http = reqwest::Client::builder()
        .http1_only()
        .pool_max_idle_per_host(usize::try_from(clients).unwrap_or(usize::MAX))
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())?;
    let plan = Arc::new(plan);
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();

    // Progress on stderr, once a second, while the clients run.
    let progress = {
        let next = next.clone();
        let count = plan.count;
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.tick().await;
            loop {
                tick.tick().await;
                let done = next.load(Ordering::Relaxed).min(count);
                eprintln!("  skypay-load: {done}/{count} sent");
            }
        })
    };
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients {
        tasks.spawn(client(plan.clone(), http.clone(), next.clone()));
    }
    let mut total = Tally::default();
    while let Some(joined) = tasks.join_next().await {
        let tally = joined.map_err(|e| e.to_string())?;
        total.latencies_us.extend(tally.latencies_us);
        for (code, n) in tally.codes {
            *total.codes.entry(code).or_default() += n;
        }
        total.errors += tally.errors;
        if total.first_error.is_none() {
            total.first_error = tally.first_error;
        }
    }
    progress.abort();
    let elapsed = started.elapsed();
    let answered = total.latencies_us.len() as u64;
    let micros = u64::try_from(elapsed.as_micros())
        .unwrap_or(u64::MAX)
        .max(1);
    total.latencies_us.sort_unstable();
    let sum: u64 = total.latencies_us.iter().sum();
    Ok(serde_json::json!({
        "command": match plan.kind { Kind::Register => "register", Kind::Pay { .. } => "pay", Kind::Collect => "collect" },
        "clients": clients,
        "duplicatePercent": match plan.kind { Kind::Pay { duplicates } => duplicates, Kind::Register | Kind::Collect => 0 },
        "requests": plan.count,
        "answered": answered,
        "freshNumbers": plan.fresh(),
        "elapsedUs": micros,
        "requestsPerSecond": answered.saturating_mul(1_000_000) / micros,
        "meanUs": sum.checked_div(answered).unwrap_or(0),
        "p50Us": percentile(&total.latencies_us, 50),
        "p90Us": percentile(&total.latencies_us, 90),
        "p99Us": percentile(&total.latencies_us, 99),
        "maxUs": total.latencies_us.last().copied().unwrap_or(0),
        "codes": total.codes,
        "errors": total.errors,
        "firstError": total.first_error,
        "timedOut": answered + total.errors < plan.count,
    }))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    const USER: &str = "AppName@skypay";
    const KEY: &str = "30AC21B2-9EAA-4503-B0F0-7BE5C277ED75";
    let (common, kind, user, key, contract) = match cli.command {
        Command::Register(common) => (
            common,
            Kind::Register,
            String::new(),
            String::new(),
            String::new(),
        ),
        Command::Pay {
            common,
            duplicates,
            user,
            key,
        } => (
            common,
            Kind::Pay {
                duplicates: duplicates.min(100),
            },
            user,
            key,
            String::new(),
        ),
        Command::Collect { common, contract } => (
            common,
            Kind::Collect,
            USER.to_owned(),
            KEY.to_owned(),
            contract,
        ),
    };
    let runtime = match common.threads {
        0 | 1 => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        n => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(n)
            .enable_all()
            .build(),
    };
    let runtime = match runtime {
        Ok(r) => r,
        Err(e) => {
            eprintln!("skypay-load: {e}");
            return ExitCode::FAILURE;
        }
    };
    let plan = Plan {
        kind,
        url: common.url.trim_end_matches('/').to_owned(),
        from: common.from,
        count: common.count,
        prefix: common.prefix,
        user,
        key,
        contract,
        deadline: Instant::now() + Duration::from_secs(common.max_seconds),
        clients: common.clients,
    };
    match runtime.block_on(run(plan)) {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("skypay-load: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(count: u64, duplicates: u64) -> Plan {
        Plan {
            kind: Kind::Pay { duplicates },
            url: "http://127.0.0.1:1".to_owned(),
            from: 0,
            count,
            prefix: "SKY01".to_owned(),
            user: "u".to_owned(),
            key: "k".to_owned(),
            contract: "SKY019999999999".to_owned(),
            deadline: Instant::now(),
            clients: 4,
        }
    }

    fn number(body: &str) -> String {
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        v["controlNumber"].as_str().unwrap().to_owned()
    }

    #[test]
    fn fresh_numbers_are_each_used_once_and_duplicates_repeat_earlier_ones() {
        let p = plan(1000, 20);
        let mut seen = std::collections::HashSet::new();
        let mut duplicates = 0;
        for i in 0..p.count {
            let n = number(&p.request(i).1);
            if !seen.insert(n) {
                duplicates += 1;
            }
        }
        assert_eq!(duplicates, 200);
        assert_eq!(seen.len() as u64, p.fresh());
        assert_eq!(p.fresh(), 800);
        assert!(seen.contains("SKY010000000799") && !seen.contains("SKY010000000800"));
    }

    #[test]
    fn no_duplicates_means_every_call_is_new() {
        let p = plan(50, 0);
        let numbers: std::collections::HashSet<_> =
            (0..50).map(|i| number(&p.request(i).1)).collect();
        assert_eq!(numbers.len(), 50);
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50), 50);
        assert_eq!(percentile(&v, 99), 99);
        assert_eq!(percentile(&v, 100), 100);
        assert_eq!(percentile(&[], 50), 0);
        assert_eq!(percentile(&[7], 99), 7);
    }

    #[test]
    fn codes_are_read_from_the_envelope() {
        let body = r#"{"responseTime":"x","responseCode":"-1026","responseDescription":"y"}"#;
        assert_eq!(code_of(Kind::Pay { duplicates: 0 }, 200, body), "-1026");
        assert_eq!(code_of(Kind::Register, 201, "{}"), "HTTP 201");
    }
}
