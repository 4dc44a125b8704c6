//! A real DynamoDB API for every test: an embedded dynoxide per test, or the external server
//! `SKYPAY_TEST_DYNAMODB_ENDPOINT` names (moto_server in CI), with a table of its own.

use std::sync::atomic::{AtomicU32, Ordering};

use skypay::Ledger;
use tokio::sync::oneshot;

use crate::*;

/// An embedded dynoxide serving the DynamoDB API on loopback until dropped.
pub struct Dynoxide {
    pub endpoint: String,
    /// The emulator itself, for what only it can tell (its stream records).
    pub db: dynoxide::Database,
    stop: Option<oneshot::Sender<()>>,
}

impl Dynoxide {
    pub async fn start() -> Dynoxide {
        let db = dynoxide::Database::memory().expect("in-memory dynoxide");
        Dynoxide::serve(db).await
    }

    pub async fn serve(db: dynoxide::Database) -> Dynoxide {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(dynoxide::server::serve_with_shutdown(
            listener,
            db.clone(),
            async {
                let _ = stopped.await;
            },
        ));
        Dynoxide {
            endpoint,
            db,
            stop: Some(stop),
        }
    }
}

/// Serves `app` on `listener` in the background until the returned sender is used or dropped.
pub(crate) fn serve_until_stopped(
    listener: tokio::net::TcpListener,
    app: axum::Router,
) -> oneshot::Sender<()> {
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
    });
    stop
}

/// An external server keeps every table it is given: each test's table is deleted when the
/// test ends, so a long run does not grow the server without bound.
impl Drop for Backend {
    fn drop(&mut self) {
        if self._embedded.is_some() {
            return;
        }
        let endpoint = self.endpoint.clone();
        let table = self.table.clone();
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                let client = skypay::aws::dynamo::client_for_endpoint(&endpoint);
                let _ = client.delete_table().table_name(table).send().await;
            });
        })
        .join();
    }
}

impl Drop for Dynoxide {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Where this test's DynamoDB is.
pub struct Backend {
    pub endpoint: String,
    pub table: String,
    _embedded: Option<Dynoxide>,
}

static TABLES: AtomicU32 = AtomicU32::new(0);

/// True when the tests run against an external DynamoDB API (moto_server in CI).
pub fn external_backend() -> bool {
    std::env::var("SKYPAY_TEST_DYNAMODB_ENDPOINT").is_ok_and(|e| !e.is_empty())
}

pub const PATIENT: skypay::aws::dynamo::Timeouts = skypay::aws::dynamo::Timeouts {
    connect: std::time::Duration::from_secs(10),
    attempt: std::time::Duration::from_secs(60),
    operation: std::time::Duration::from_secs(120),
};

impl Backend {
    pub async fn start() -> Backend {
        capture_logs();
        match std::env::var("SKYPAY_TEST_DYNAMODB_ENDPOINT") {
            Ok(endpoint) if !endpoint.is_empty() => {
                let n = TABLES.fetch_add(1, Ordering::Relaxed);
                Backend {
                    endpoint,
                    table: format!(
                        "t{}-{}-{n}",
                        std::process::id(),
                        skypay::ledger::random_token()
                    ),
                    _embedded: None,
                }
            }
            _ => {
                let embedded = Dynoxide::start().await;
                Backend {
                    endpoint: embedded.endpoint.clone(),
                    table: "skypay-ledger".to_owned(),
                    _embedded: Some(embedded),
                }
            }
        }
    }

    /// The ledger as the tests use it: production code, with time limits patient enough for an
    /// emulator under 256 concurrent calls on a loaded 2-core machine (a test must not depend
    /// on machine speed). The fault tests use the production limits.
    pub async fn ledger(&self) -> Ledger {
        self.ledger_with(skypay::ledger::schema::Stream::Off).await
    }

    /// The ledger on a table with (or without) a stream, as template.yaml declares it.
    pub async fn ledger_with(&self, stream: skypay::ledger::schema::Stream) -> Ledger {
        let client = skypay::aws::dynamo::client_for_endpoint_with(&self.endpoint, PATIENT);
        let ledger = Ledger::new(client, self.table.as_str());
        ledger.ensure_table(stream).await.expect("table created");
        ledger
    }

    /// The embedded emulator, when this backend is one (not moto).
    pub fn embedded(&self) -> Option<&Dynoxide> {
        self._embedded.as_ref()
    }
}
