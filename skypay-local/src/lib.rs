//! `skypay-local`: every SkyPay endpoint plus the local-only `/admin` routes on one port, on an
//! embedded DynamoDB (SPEC section 9). The SkyPay routes run exactly the Lambda code
//! ([`skypay::Gateway`]); the admin routes are the router partner-api serves in AWS
//! ([`skypay_admin`]).
//!
//! The embedded ledger is reached in process ([`embedded`]): no port, no side door. Its data
//! file is checked and locked before it is opened ([`ledger_file`]), and the HTTP server is
//! bounded against slow and hostile clients ([`serve`]).

pub mod admin_guard;
pub mod cli;
pub mod embedded;
pub mod ledger_file;
pub mod serve;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use skypay::ledger::schema::{self, Stream};
use skypay::{Action, Call, Config, Gateway, Ledger};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use serve::Limits;

/// Where the ledger lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Store {
    /// The embedded DynamoDB, persisted to this file.
    File(PathBuf),
    /// The embedded DynamoDB, in memory: gone when the process stops.
    Memory,
    /// Any DynamoDB-compatible server.
    Endpoint(String),
}

impl Store {
    pub fn describe(&self) -> String {
        match self {
            Store::File(path) => format!("{} (embedded DynamoDB, in process)", path.display()),
            Store::Memory => {
                "in memory (embedded DynamoDB, in process; gone when this stops)".to_owned()
            }
            Store::Endpoint(url) => format!("{url} (external DynamoDB)"),
        }
    }
}

/// The default data file: `.skypay/ledger.db` under the working directory.
pub fn default_data_file() -> PathBuf {
    PathBuf::from(".skypay").join("ledger.db")
}

/// How the server runs, besides the configuration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    pub limits: Limits,
    /// `--init`: make an empty data file, or an unmarked ledger an earlier skypay-local wrote,
    /// a ledger.
    pub init: bool,
    /// `--simulate-skypay`: SkyPay's side played in process by skypay-sim.
    pub simulate: Option<Simulate>,
}

/// Who may reach `/admin` (SPEC 14.6): kept apart from [`Options`] (which is `Copy`) because it
/// holds a secret.
pub use admin_guard::AdminAccess;

/// How the in-process SkyPay simulator moves a pushed payout on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Simulate {
    /// Before the upload callback, and again before the outcome's.
    pub delay: Duration,
    pub outcome: skypay_sim::Outcome,
}

impl Default for Simulate {
    fn default() -> Simulate {
        Simulate {
            delay: Duration::from_secs(2),
            outcome: skypay_sim::Outcome::Paid,
        }
    }
}

/// The AES key the simulator and the gateway share when none is configured: SkyPay's traffic
/// is encrypted both ways (SPEC 13.1), and the local run shows it so. Plain JSON calls to the
/// gateway still work (the layer is `auto`).
pub const SIMULATOR_ENCRYPTION_KEY: &str = "skypay-local-simulator-key";
/// `SKYPAY_SENDER` when it is unset and SkyPay is simulated.
pub const SIMULATOR_SENDER: &str = "skypay-local";

#[derive(Clone)]
struct AppState {
    gateway: Gateway,
    body_timeout: Duration,
    health: Health,
}

/// What `/healthz` knows of the ledger.
#[derive(Clone)]
struct Health {
    /// The embedded ledger's write outcomes; `None` for an external DynamoDB.
    writes: Option<embedded::WriteHealth>,
    /// When `/healthz` last tried a write to see whether a failing ledger recovered.
    last_probe: Arc<Mutex<Option<Instant>>>,
}

/// While the last write had failed, `/healthz` tries one write at most this often.
const PROBE_EVERY: Duration = Duration::from_secs(5);

/// The whole HTTP surface.
fn router(state: AppState, admin: skypay_admin::AdminState, guard: admin_guard::Guard) -> Router {
    let skypay = |action: Action| {
        post(
            move |State(state): State<AppState>,
                  ConnectInfo(peer): ConnectInfo<SocketAddr>,
                  headers: HeaderMap,
                  body: Body| async move {
                let request_id = skypay::ledger::random_token();
                let read = skypay_admin::read_body(&headers, body, state.body_timeout).await;
                let reply = match read {
                    Ok(bytes) => {
                        let call = Call {
                            body: &bytes,
                            source_ip: Some(peer.ip()),
                            request_id: &request_id,
                        };
                        state.gateway.handle(action, call).await
                    }
                    // SPEC 2: even a body we would not read gets the HTTP 200 and 2001 envelope.
                    Err(refusal) => {
                        state
                            .gateway
                            .refuse_body(action, Some(peer.ip()), &request_id, refusal.into())
                            .await
                    }
                };
                let status =
                    StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                (
                    status,
                    [(header::CONTENT_TYPE, reply.content_type)],
                    reply.body,
                )
                    .into_response()
            },
        )
    };
    // Every SkyPay endpoint at `/{action}`, exactly as its Lambda answers it.
    let routes = Action::ALL
        .into_iter()
        .fold(Router::new(), |router, action| {
            router.route(&format!("/{}", action.name()), skypay(action))
        });
    // The loan system's routes: the one router partner-api serves in AWS.
    routes
        .route("/healthz", get(healthz))
        .with_state(state)
        .merge(
            skypay_admin::router(admin).layer(axum::middleware::from_fn_with_state(
                guard,
                admin_guard::guard,
            )),
        )
}

/// `GET /healthz`: 200 while the ledger takes writes, 503 once a write failed in storage (disk
/// full, I/O error) and none has succeeded since. No write per probe: the answer comes from
/// the last write's outcome; only while it is failing does a probe try one write, at most every
/// few seconds, to see whether the ledger recovered.
async fn healthz(State(s): State<AppState>) -> Response {
    let Some(writes) = &s.health.writes else {
        return (
            StatusCode::OK,
            axum::Json(serde_json::json!({"status": "ok", "ledger": "external"})),
        )
            .into_response();
    };
    if writes.failing().is_some() && s.health.probe_due() {
        let ledger = s.gateway.ledger();
        let now = chrono::Utc::now().to_rfc3339();
        // The outcome lands in `writes` through the transport.
        let _ = schema::probe_write(ledger.client(), ledger.table(), &now).await;
    }
    match writes.failing() {
        None => (
            StatusCode::OK,
            axum::Json(serde_json::json!({"status": "ok", "ledger": "writable"})),
        )
            .into_response(),
        Some((ago, why)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(serde_json::json!({
                "status": "unhealthy",
                "ledger": "not writable",
                "failingForSeconds": ago.as_secs(),
                "error": why,
            })),
        )
            .into_response(),
    }
}

impl Health {
    fn probe_due(&self) -> bool {
        let Ok(mut last) = self.last_probe.lock() else {
            return false;
        };
        let due = last.is_none_or(|at| at.elapsed() >= PROBE_EVERY);
        if due {
            *last = Some(Instant::now());
        }
        due
    }
}

/// A running local server.
pub struct Running {
    pub addr: SocketAddr,
    /// The configuration it serves with (`--simulate-skypay` fills in SkyPay's address).
    pub config: Config,
    /// The in-process SkyPay simulator, with `--simulate-skypay`.
    pub sim: Option<skypay_sim::Sim>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), String>>,
}

impl Running {
    /// Stops accepting, lets requests in flight finish (within the shutdown timeout), then
    /// closes the ledger cleanly.
    pub async fn stop(mut self) -> Result<(), String> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let served = (&mut self.task).await.map_err(|e| e.to_string())?;
        if let Some(sim) = self.sim.take() {
            sim.stop().await;
        }
        served
    }

    /// Runs until `signal` resolves, then stops.
    pub async fn run_until(
        self,
        signal: impl std::future::Future<Output = ()>,
    ) -> Result<(), String> {
        signal.await;
        self.stop().await
    }
}

/// The ledger a store gives: the client, whether the embedded emulator is behind it (and its
/// write health), and the data file's lock, held for as long as the server runs.
struct Opened {
    ledger: Ledger,
    writes: Option<embedded::WriteHealth>,
    lock: Option<ledger_file::Lock>,
}

/// Opens the ledger: an external DynamoDB as it is (the table created if missing); the
/// embedded one in process, from a data file that is checked, locked and marked (see
/// [`ledger_file`]), or in memory.
async fn open(store: &Store, config: &Config, init: bool) -> Result<Opened, String> {
    let table = config.table_name.as_str();
    let in_process = |db: dynoxide::Database| {
        let (http, writes) = embedded::client(db);
        let client = skypay::aws::dynamo::client_for_endpoint_over(
            http,
            embedded::ENDPOINT,
            skypay::aws::dynamo::Timeouts::PRODUCTION,
        );
        (Ledger::new(client, table), writes)
    };
    let created = |e: skypay::ledger::LedgerError| format!("cannot create the table {table}: {e}");
    let now = chrono::Utc::now().to_rfc3339();
    match store {
        Store::Endpoint(url) => {
            let ledger = Ledger::new(skypay::aws::dynamo::client_for_endpoint(url), table);
            // An external DynamoDB gets the template's table exactly, stream included.
            ledger.ensure_table(Stream::On).await.map_err(created)?;
            Ok(Opened {
                ledger,
                writes: None,
                lock: None,
            })
        }
        Store::Memory => {
            let db = dynoxide::Database::memory()
                .map_err(|e| format!("cannot start the embedded DynamoDB: {e}"))?;
            let (ledger, writes) = in_process(db);
            // The embedded emulator gets no stream (nobody reads it locally; see
            // ledger::schema).
            ledger.ensure_table(Stream::Off).await.map_err(created)?;
            schema::mark(ledger.client(), table, &now)
                .await
                .map_err(created)?;
            Ok(Opened {
                ledger,
                writes: Some(writes),
                lock: None,
            })
        }
        Store::File(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            }
            let lock = ledger_file::Lock::take(path)?;
            let shown = path.display();
            let found = ledger_file::inspect(path)?;
            match found {
                ledger_file::Found::Empty if init => std::fs::remove_file(path)
                    .map_err(|e| format!("cannot replace the empty {shown}: {e}"))?,
                ledger_file::Found::Empty => {
                    return Err(format!(
                        "{shown} is empty (0 bytes): it is not a skypay ledger, and an empty \
                         ledger in its place would take cash already collected again. Restore \
                         a backup (skypay-local restore), or start with --init to make it a new, \
                         empty ledger"
                    ));
                }
                ledger_file::Found::Nothing | ledger_file::Found::EmulatorDatabase => {}
            }
            let path_text = path.to_str().ok_or("the data file path is not UTF-8")?;
            let db = dynoxide::Database::new(path_text)
                .map_err(|e| format!("cannot open {shown}: {e}"))?;
            let (ledger, writes) = in_process(db);
            let existing = found == ledger_file::Found::EmulatorDatabase;
            if existing
                && !schema::is_marked(ledger.client(), table)
                    .await
                    .map_err(|e| format!("cannot read {shown}: {e}"))?
                && !init
            {
                return Err(format!(
                    "{shown} holds no skypay ledger mark in table {table}: it is not a ledger \
                     this server made. If it is one an earlier skypay-local wrote (before the \
                     mark existed), start once with --init to mark it"
                ));
            }
            ledger.ensure_table(Stream::Off).await.map_err(created)?;
            schema::mark(ledger.client(), table, &now)
                .await
                .map_err(created)?;
            Ok(Opened {
                ledger,
                writes: Some(writes),
                lock: Some(lock),
            })
        }
    }
}

/// Opens the ledger (see [`open`]) and serves every route on `listen`, within `options`; `/admin`
/// is this machine's only (SPEC 14.6).
pub async fn start(
    listen: SocketAddr,
    store: Store,
    config: Config,
    options: Options,
) -> Result<Running, String> {
    start_with(listen, store, config, options, AdminAccess::Loopback).await
}

/// [`start`], with `/admin` reachable as `access` says.
pub async fn start_with(
    listen: SocketAddr,
    store: Store,
    config: Config,
    options: Options,
    access: AdminAccess,
) -> Result<Running, String> {
    if access == AdminAccess::Loopback && !listen.ip().is_loopback() {
        return Err(format!(
            "--listen {listen} is reachable from the network, and so would /admin be (it \
             registers and pushes payouts): listen on 127.0.0.1, or pass --allow-remote (then \
             /admin needs a bearer token)"
        ));
    }
    if config.auth_keys_are_builtin_default
        && config
            .skypay_api
            .as_ref()
            .is_some_and(|api| !skypay::config::url_is_loopback(&api.url))
    {
        return Err(
            "SKYPAY_AUTH_KEYS is unset, and the built-in sample key is only for a SkyPay on \
             this machine, but SKYPAY_API_URL points elsewhere: set SKYPAY_AUTH_KEYS"
                .to_owned(),
        );
    }
    let Opened {
        ledger,
        writes,
        lock,
    } = open(&store, &config, options.init).await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let (config, sim) = match options.simulate {
        Some(simulate) => {
            let (config, sim) = simulate_skypay(config, addr, simulate).await?;
            (config, Some(sim))
        }
        None => (config, None),
    };
    let mut admin = skypay_admin::AdminState::new(
        config.clone(),
        ledger.clone(),
        None,
        options.limits.body_timeout,
    )?
    .json_only();
    if config.skypay_api.is_some() {
        let reconciler = skypay::outbound::reconcile::Reconciler::new(
            config.clone(),
            ledger.clone(),
            Arc::new(skypay::protocol::time::SystemClock),
        )
        .map_err(|e| e.to_string())?;
        admin = admin.with_reconciler(reconciler);
    }
    let gateway = Gateway::new(config.clone(), ledger);
    let state = AppState {
        gateway,
        body_timeout: options.limits.body_timeout,
        health: Health {
            writes,
            last_probe: Arc::new(Mutex::new(None)),
        },
    };

    let (stop, stopped) = oneshot::channel::<()>();
    let guard = admin_guard::Guard {
        port: addr.port(),
        access,
    };
    let app = router(state, admin, guard);
    let limits = options.limits;
    let task = tokio::spawn(async move {
        serve::serve(listener, app, limits, async {
            let _ = stopped.await;
        })
        .await;
        // The router (and with it the last handle on the embedded database) is gone: SQLite
        // closes, checkpointing its log; then the data file is unlocked.
        drop(lock);
        Ok(())
    });
    Ok(Running {
        addr,
        config,
        sim,
        stop: Some(stop),
        task,
    })
}

/// Starts skypay-sim on a free loopback port, calling this server back at `addr`, and points
/// the configuration at it.
async fn simulate_skypay(
    mut config: Config,
    addr: SocketAddr,
    simulate: Simulate,
) -> Result<(Config, skypay_sim::Sim), String> {
    if config.encryption.key().is_none() {
        config.encryption =
            skypay::protocol::crypto::Encryption::Auto(skypay::protocol::crypto::Keys::one(
                skypay::protocol::crypto::derive_key(SIMULATOR_ENCRYPTION_KEY.as_bytes()),
            ));
    }
    if config.sender.is_none() {
        config.sender = Some(SIMULATOR_SENDER.to_owned());
    }
    let host = if addr.ip().is_unspecified() {
        std::net::Ipv4Addr::LOCALHOST.into()
    } else {
        addr.ip()
    };
    let gateway = format!("http://{}", SocketAddr::new(host, addr.port()));
    let sim = skypay_sim::Sim::start(
        SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), 0),
        skypay_sim::SimConfig {
            caller_name: "skypay-local".to_owned(),
            gateway: Some(gateway),
            delay: simulate.delay,
            outcome: simulate.outcome,
            ..skypay_sim::SimConfig::new(config.clone())
        },
    )
    .await?;
    config.skypay_api = Some(skypay::config::SkyPayApi {
        url: sim.url.clone(),
        timeout: std::time::Duration::from_secs(skypay::config::DEFAULT_API_TIMEOUT_SECONDS),
    });
    Ok((config, sim))
}

/// What `skypay-local` prints when it starts: where it is, who it expects, and a ready-to-paste
/// call for every endpoint. The key is shown only when it is the built-in development key.
pub fn banner(
    addr: SocketAddr,
    store: &Store,
    config: &Config,
    simulated: Option<skypay_sim::Outcome>,
) -> String {
    use std::fmt::Write;
    // Inside the curls' single-quoted bodies: the development key as it is, or the user's own
    // from the shell (the quote closed around "$SKYPAY_KEY", so the shell expands it).
    let key = if config.auth_keys_are_builtin_default {
        skypay::config::local_defaults::AUTH_KEY.to_owned()
    } else {
        r#"'"$SKYPAY_KEY"'"#.to_owned()
    };
    let base = format!("http://{addr}");
    let prefix = config.prefix.as_str();
    // Numbers of their own each start, so that the curls answer as shown on a kept ledger too
    // (the README's walkthrough uses fixed ones).
    let fresh = || {
        let token = skypay::ledger::random_token();
        let digits = u32::from_str_radix(token.get(..8).unwrap_or("0"), 16).unwrap_or(0);
        format!("{:08}", digits % 100_000_000)
    };
    let cn = format!("{prefix}{}", fresh());
    let contract = format!("{prefix}{}", fresh());
    let wallet = format!("{prefix}{}", fresh());
    let receipt = format!("R-{}", fresh());
    let reference = format!("D-{}", fresh());
    let mut out = String::new();
    let _ = writeln!(out, "skypay-local listening on {base}");
    let _ = writeln!(out, "  user name   {}", config.username);
    let _ = writeln!(out, "  prefix      {prefix}");
    if config.auth_keys_are_builtin_default {
        let _ = writeln!(out, "  key         {key}  (the built-in development key)");
    } else {
        let _ = writeln!(out, "  key         from SKYPAY_AUTH_KEYS (not shown)");
    }
    let _ = writeln!(
        out,
        "  ledger      {}, table {}",
        store.describe(),
        config.table_name
    );
    match (&config.skypay_api, simulated) {
        (Some(api), Some(outcome)) => {
            let _ = writeln!(
                out,
                "  SkyPay API  {} (skypay-sim in process: pushes are encrypted, then {})",
                api.url,
                outcome.describe()
            );
        }
        (Some(api), None) => {
            let _ = writeln!(out, "  SkyPay API  {}", api.url);
        }
        (None, _) => {
            let _ = writeln!(
                out,
                "  SkyPay API  not set: pushed payouts are marked QUEUED without a push \
                 (--simulate-skypay plays SkyPay)"
            );
        }
    }
    let user = &config.username;
    let _ = writeln!(out, "\nTry it:");
    let _ = writeln!(
        out,
        "  curl -s -H 'Content-Type: application/json' {base}/admin/payouts -d '{{\"controlNumber\":\"{cn}\",\"name\":\"Cruz,Juan\",\"phone\":\"09171234567\",\"amount\":\"3400.00\",\"withdrawChannel\":1}}'"
    );
    let _ = writeln!(
        out,
        "  curl -s {base}/payoutInquiry -d '{{\"userName\":\"{user}\",\"action\":\"payoutInquiry\",\"authentication\":\"{key}\",\"controlNumber\":\"{cn}\"}}'"
    );
    let _ = writeln!(
        out,
        "  curl -s {base}/payoutPayout -d '{{\"userName\":\"{user}\",\"action\":\"payoutPayout\",\"authentication\":\"{key}\",\"controlNumber\":\"{cn}\",\"withdrawChannel\":\"1\",\"payTime\":\"2019-02-18 14:59:33\"}}'"
    );
    let _ = writeln!(
        out,
        "  curl -s {base}/payoutQueuePayout -d '{{\"userName\":\"{user}\",\"action\":\"payoutQueuePayout\",\"authentication\":\"{key}\",\"controlNumber\":\"{cn}\",\"payType\":\"1\",\"dealTime\":\"2019-02-18 10:00:00\"}}'"
    );
    let _ = writeln!(
        out,
        "  curl -s -H 'Content-Type: application/json' {base}/admin/contracts -d '{{\"contractNumber\":\"{contract}\",\"amountDue\":\"5000.00\"}}'"
    );
    let _ = writeln!(
        out,
        "  curl -s {base}/collectionInquiry -d '{{\"userName\":\"{user}\",\"action\":\"collectionInquiry\",\"authentication\":\"{key}\",\"contractNumber\":\"{contract}\",\"amount\":\"1000.00\",\"phone\":\"09171234567\"}}'"
    );
    let _ = writeln!(
        out,
        "  curl -s {base}/collectionCollect -d '{{\"userName\":\"{user}\",\"action\":\"collectionCollect\",\"authentication\":\"{key}\",\"contractNumber\":\"{contract}\",\"amount\":\"1000.00\",\"phone\":\"09171234567\",\"receiptNumber\":\"{receipt}\",\"collectedTime\":\"2019-02-18 15:01:02\",\"payChannel\":\"10\"}}'"
    );
    let _ = writeln!(
        out,
        "  curl -s {base}/financeNotification -d '{{\"userName\":\"{user}\",\"action\":\"financeNotification\",\"authentication\":\"{key}\",\"transctionDate\":\"2023-06-18 17:52:10\",\"statementType\":\"1\",\"signType\":\"recharge\",\"amount\":12000000,\"currency\":\"PHP\",\"referenceNumber\":\"{reference}\"}}'"
    );
    let _ = writeln!(out, "  curl -s {base}/admin/payouts/{cn}");
    let _ = writeln!(out, "  curl -s {base}/admin/contracts/{contract}");
    let _ = writeln!(out, "  curl -s '{base}/admin/finance?date=2023-06-18'");
    if config.skypay_api.is_some() {
        let _ = writeln!(
            out,
            "  curl -s -H 'Content-Type: application/json' {base}/admin/payouts -d '{{\"controlNumber\":\"{wallet}\",\"name\":\"Cruz,Juan\",\"phone\":\"09171234567\",\"amount\":\"2500.00\",\"withdrawChannel\":6,\"accountNo\":\"09171234567\"}}'"
        );
        let _ = writeln!(
            out,
            "  curl -s -H 'Content-Type: application/json' -X POST {base}/admin/reconcile"
        );
        let _ = writeln!(
            out,
            "  curl -s -H 'Content-Type: application/json' -X POST '{base}/admin/reconcile/daily?date=YYYY-MM-DD'"
        );
        let _ = writeln!(
            out,
            "  curl -s '{base}/admin/reconciliation?date=YYYY-MM-DD'"
        );
    }
    let _ = writeln!(out, "  curl -s {base}/healthz");
    let kept = match store {
        Store::Memory => "the ledger goes with it",
        Store::File(_) | Store::Endpoint(_) => "the ledger is kept",
    };
    let _ = writeln!(out, "\nCtrl-C stops it; {kept}.");
    out
}
