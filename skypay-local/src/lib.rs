//! `skypay-local`: every SkyPay endpoint plus the local-only `/admin` routes on one port, on an
//! embedded DynamoDB (SPEC section 9). The SkyPay routes run exactly the Lambda code
//! ([`skypay::Gateway`]); the admin routes run [`skypay::admin`].

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use skypay::actions::payout_queue::PayoutQueue;
use skypay::ledger::schema::Stream;
use skypay::{Action, Call, Config, Gateway, Ledger, admin};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// API Gateway's own payload limit: up to it, an oversized SkyPay body gets the 2001
/// envelope the Lambda would answer rather than a bare 413.
const BODY_LIMIT: usize = 10 * 1024 * 1024;

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
            Store::File(path) => format!("{} (embedded DynamoDB)", path.display()),
            Store::Memory => "in memory (embedded DynamoDB; gone when this stops)".to_owned(),
            Store::Endpoint(url) => format!("{url} (external DynamoDB)"),
        }
    }
}

/// The default data file: `.skypay/ledger.db` under the working directory.
pub fn default_data_file() -> PathBuf {
    PathBuf::from(".skypay").join("ledger.db")
}

#[derive(Clone)]
struct AppState {
    gateway: Gateway,
    queue: PayoutQueue,
}

/// The whole HTTP surface.
fn router(gateway: Gateway, queue: PayoutQueue) -> Router {
    let skypay = |action: Action| {
        post(
            move |State(state): State<AppState>,
                  ConnectInfo(peer): ConnectInfo<SocketAddr>,
                  body: Bytes| async move {
                let request_id = skypay::ledger::random_token();
                let reply = state
                    .gateway
                    .handle(
                        action,
                        Call {
                            body: &body,
                            source_ip: Some(peer.ip()),
                            request_id: &request_id,
                        },
                    )
                    .await;
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
    routes
        .route("/admin/payouts", post(post_payout))
        .route("/admin/payouts/{control_number}", get(get_payout))
        .route("/admin/contracts", post(post_contract))
        .route("/admin/contracts/{contract_number}", get(get_contract))
        .route("/admin/finance", get(get_finance))
        .route("/healthz", get(|| async { "ok" }))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(AppState { gateway, queue })
}

fn json(reply: admin::AdminReply) -> Response {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(reply.body)).into_response()
}

async fn post_payout(State(s): State<AppState>, body: Bytes) -> Response {
    json(admin::post_payout(&s.queue, &body, &skypay::ledger::random_token()).await)
}

async fn get_payout(State(s): State<AppState>, Path(number): Path<String>) -> Response {
    json(admin::get_payout(s.gateway.ledger(), &number, &skypay::ledger::random_token()).await)
}

async fn post_contract(State(s): State<AppState>, body: Bytes) -> Response {
    let config = s.gateway.config();
    json(
        admin::post_contract(
            s.gateway.ledger(),
            config,
            &body,
            &skypay::ledger::random_token(),
        )
        .await,
    )
}

async fn get_contract(State(s): State<AppState>, Path(number): Path<String>) -> Response {
    json(admin::get_contract(s.gateway.ledger(), &number, &skypay::ledger::random_token()).await)
}

#[derive(serde::Deserialize)]
struct FinanceQuery {
    date: Option<String>,
}

async fn get_finance(State(s): State<AppState>, Query(q): Query<FinanceQuery>) -> Response {
    json(
        admin::get_finance(
            s.gateway.ledger(),
            q.date.as_deref(),
            &skypay::ledger::random_token(),
        )
        .await,
    )
}

/// A running local server.
pub struct Running {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), String>>,
}

impl Running {
    /// Stops accepting, lets requests in flight finish, then closes the ledger cleanly.
    pub async fn stop(mut self) -> Result<(), String> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await.map_err(|e| e.to_string())?
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

/// Starts the embedded DynamoDB (unless `store` is an endpoint), creates the table if it is
/// missing, and serves every route on `listen`.
pub async fn start(listen: SocketAddr, store: Store, config: Config) -> Result<Running, String> {
    let (endpoint, embedded) = match &store {
        Store::Endpoint(url) => (url.clone(), None),
        Store::File(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            }
            let path_text = path.to_str().ok_or("the data file path is not UTF-8")?;
            let db = dynoxide::Database::new(path_text)
                .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
            let (url, handle) = serve_embedded(db).await?;
            (url, Some(handle))
        }
        Store::Memory => {
            let db = dynoxide::Database::memory()
                .map_err(|e| format!("cannot start the embedded DynamoDB: {e}"))?;
            let (url, handle) = serve_embedded(db).await?;
            (url, Some(handle))
        }
    };
    let client = skypay::dynamo::client_for_endpoint(&endpoint);
    let ledger = Ledger::new(client, config.table_name.as_str());
    // The embedded emulator gets no stream (nobody reads it locally; see ledger::schema);
    // an external DynamoDB gets the template's table exactly.
    let stream = if embedded.is_some() {
        Stream::Off
    } else {
        Stream::On
    };
    ledger
        .ensure_table(stream)
        .await
        .map_err(|e| format!("cannot create the table {}: {e}", config.table_name))?;
    let queue = PayoutQueue::new(config.clone(), ledger.clone()).map_err(|e| e.to_string())?;
    let gateway = Gateway::new(config, ledger);

    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let (stop, stopped) = oneshot::channel::<()>();
    let app = router(gateway, queue).into_make_service_with_connect_info::<SocketAddr>();
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
            .map_err(|e| format!("server failed: {e}"));
        if let Some(db) = embedded {
            db.stop().await?;
        }
        served
    });
    Ok(Running {
        addr,
        stop: Some(stop),
        task,
    })
}

/// The embedded DynamoDB, served on a loopback port of its own.
struct Embedded {
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), String>>,
}

impl Embedded {
    async fn stop(self) -> Result<(), String> {
        let _ = self.stop.send(());
        self.task.await.map_err(|e| e.to_string())?
    }
}

async fn serve_embedded(db: dynoxide::Database) -> Result<(String, Embedded), String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("cannot start the embedded DynamoDB: {e}"))?;
    let url = format!(
        "http://{}",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(dynoxide::server::serve_with_shutdown(listener, db, async {
        let _ = stopped.await;
    }));
    Ok((url, Embedded { stop, task }))
}

/// What `skypay-local` prints when it starts: where it is, who it expects, and a ready-to-paste
/// call for every endpoint. The key is shown only when it is the built-in development key.
pub fn banner(addr: SocketAddr, store: &Store, config: &Config) -> String {
    use std::fmt::Write;
    let key = if config.auth_keys_are_builtin_default {
        skypay::config::local_defaults::AUTH_KEY.to_owned()
    } else {
        "$SKYPAY_KEY".to_owned()
    };
    let base = format!("http://{addr}");
    let prefix = config.prefix.as_str();
    let cn = format!("{prefix}12345678");
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
    match &config.skypay_api {
        Some(api) => {
            let _ = writeln!(out, "  SkyPay API  {}", api.url);
        }
        None => {
            let _ = writeln!(
                out,
                "  SkyPay API  not set: pushed payouts are marked QUEUED without a push"
            );
        }
    }
    let user = &config.username;
    let _ = writeln!(out, "\nTry it:");
    let _ = writeln!(
        out,
        "  curl -s {base}/admin/payouts -d '{{\"controlNumber\":\"{cn}\",\"name\":\"Cruz,Juan\",\"phone\":\"09171234567\",\"amount\":\"3400.00\",\"withdrawChannel\":1}}'"
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
        "  curl -s {base}/admin/contracts -d '{{\"contractNumber\":\"{prefix}87654321\",\"amountDue\":\"5000.00\"}}'"
    );
    let _ = writeln!(
        out,
        "  curl -s {base}/collectionInquiry -d '{{\"userName\":\"{user}\",\"action\":\"collectionInquiry\",\"authentication\":\"{key}\",\"contractNumber\":\"{prefix}87654321\",\"amount\":\"1000.00\",\"phone\":\"09171234567\"}}'"
    );
    let _ = writeln!(
        out,
        "  curl -s {base}/collectionCollect -d '{{\"userName\":\"{user}\",\"action\":\"collectionCollect\",\"authentication\":\"{key}\",\"contractNumber\":\"{prefix}87654321\",\"amount\":\"1000.00\",\"phone\":\"09171234567\",\"receiptNumber\":\"R-0001\",\"collectedTime\":\"2019-02-18 15:01:02\",\"payChannel\":\"10\"}}'"
    );
    let _ = writeln!(
        out,
        "  curl -s {base}/financeNotification -d '{{\"userName\":\"{user}\",\"action\":\"financeNotification\",\"authentication\":\"{key}\",\"transctionDate\":\"2023-06-18 17:52:10\",\"statementType\":\"1\",\"signType\":\"recharge\",\"amount\":12000000,\"currency\":\"PHP\",\"referenceNumber\":\"D-20231204-001\"}}'"
    );
    let _ = writeln!(out, "  curl -s {base}/admin/payouts/{cn}");
    let _ = writeln!(out, "  curl -s {base}/admin/contracts/{prefix}87654321");
    let _ = writeln!(out, "  curl -s '{base}/admin/finance?date=2023-06-18'");
    let _ = writeln!(out, "  curl -s {base}/healthz");
    let _ = writeln!(out, "\nCtrl-C stops it; the ledger is kept.");
    out
}
