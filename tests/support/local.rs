//! `skypay-local` started inside a test on an ephemeral port, and a small HTTP client for it.

use serde_json::Value;
use skypay_local::{Options, Running, Store};

use crate::{Backend, config_with};

pub struct LocalServer {
    pub base: String,
    pub http: reqwest::Client,
    running: Option<Running>,
    _backend: Option<Backend>,
}

impl LocalServer {
    /// On the test's DynamoDB (embedded in memory, or the external endpoint with a fresh table).
    pub async fn start(extra: &[(&str, &str)]) -> LocalServer {
        let backend = Backend::start().await;
        let external = std::env::var("SKYPAY_TEST_DYNAMODB_ENDPOINT").is_ok_and(|e| !e.is_empty());
        let mut config = config_with(extra);
        let (store, keep) = if external {
            config.table_name = backend.table.clone();
            (Store::Endpoint(backend.endpoint.clone()), Some(backend))
        } else {
            (Store::Memory, None)
        };
        LocalServer::start_on(store, config, keep).await
    }

    /// With `--simulate-skypay`: skypay-sim in process, calling this server back.
    pub async fn start_simulated(simulate: skypay_local::Simulate) -> LocalServer {
        let backend = Backend::start().await;
        let external = std::env::var("SKYPAY_TEST_DYNAMODB_ENDPOINT").is_ok_and(|e| !e.is_empty());
        let mut config = config_with(&[]);
        let (store, keep) = if external {
            config.table_name = backend.table.clone();
            (Store::Endpoint(backend.endpoint.clone()), Some(backend))
        } else {
            (Store::Memory, None)
        };
        let options = Options {
            simulate: Some(simulate),
            ..Options::default()
        };
        LocalServer::try_start_on(store, config, keep, options)
            .await
            .expect("skypay-local started")
    }

    /// The in-process simulator, with `--simulate-skypay`.
    pub fn sim(&self) -> &skypay_sim::Sim {
        self.running
            .as_ref()
            .and_then(|r| r.sim.as_ref())
            .expect("started with --simulate-skypay")
    }

    /// On the embedded DynamoDB persisted to `path` (always embedded: this is what `--data`
    /// does).
    pub async fn start_with_file(path: &std::path::Path) -> LocalServer {
        LocalServer::try_start_with_file(path, Options::default())
            .await
            .expect("skypay-local started")
    }

    /// The same, with these options; the error is what skypay-local would print.
    pub async fn try_start_with_file(
        path: &std::path::Path,
        options: Options,
    ) -> Result<LocalServer, String> {
        LocalServer::try_start_on(
            Store::File(path.to_owned()),
            config_with(&[]),
            None,
            options,
        )
        .await
    }

    /// On the embedded DynamoDB persisted to `path`, with these variables (`SKYPAY_AUTH_KEYS`
    /// ...) as the environment would give them.
    pub async fn start_with_file_and(
        path: &std::path::Path,
        extra: &[(&str, &str)],
    ) -> LocalServer {
        LocalServer::start_on(Store::File(path.to_owned()), config_with(extra), None).await
    }

    /// The banner this server prints at start (the simulator's outcome as `simulated` says).
    pub fn banner(&self, simulated: Option<skypay_sim::Outcome>) -> String {
        let running = self.running.as_ref().expect("running");
        skypay_local::banner(running.addr, &Store::Memory, &running.config, simulated)
    }

    /// In memory, with these limits.
    pub async fn start_with_limits(limits: skypay_local::Limits) -> LocalServer {
        let options = Options {
            limits,
            ..Options::default()
        };
        LocalServer::try_start_on(Store::Memory, config_with(&[]), None, options)
            .await
            .expect("skypay-local started")
    }

    /// In memory, `/admin` reachable as `access` says (SPEC 14.6).
    pub async fn start_with_access(access: skypay_local::AdminAccess) -> LocalServer {
        let running = skypay_local::start_with(
            "127.0.0.1:0".parse().unwrap(),
            Store::Memory,
            config_with(&[]),
            Options::default(),
            access,
        )
        .await
        .expect("skypay-local started");
        LocalServer {
            base: format!("http://{}", running.addr),
            http: reqwest::Client::new(),
            running: Some(running),
            _backend: None,
        }
    }

    async fn start_on(
        store: Store,
        config: skypay::Config,
        backend: Option<Backend>,
    ) -> LocalServer {
        LocalServer::try_start_on(store, config, backend, Options::default())
            .await
            .expect("skypay-local started")
    }

    async fn try_start_on(
        store: Store,
        config: skypay::Config,
        backend: Option<Backend>,
        options: Options,
    ) -> Result<LocalServer, String> {
        let running =
            skypay_local::start("127.0.0.1:0".parse().unwrap(), store, config, options).await?;
        Ok(LocalServer {
            base: format!("http://{}", running.addr),
            http: reqwest::Client::new(),
            running: Some(running),
            _backend: backend,
        })
    }

    /// The server's address.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.running
            .as_ref()
            .map(|r| r.addr)
            .expect("the server is running")
    }

    pub async fn stop(mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await.expect("clean stop");
        }
    }

    /// POSTs a raw body; returns the status and the body as JSON (`Null` when it is not JSON).
    /// POSTs `body` as `application/json` (what `/admin` requires, SPEC 14.6; SkyPay's routes
    /// take any content type).
    pub async fn post_raw(&self, path: &str, body: impl Into<reqwest::Body>) -> (u16, Value) {
        let request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body);
        Self::exchange(request).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.post_raw(path, body.to_string()).await
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        Self::exchange(self.http.get(format!("{}{path}", self.base))).await
    }

    /// Sends; returns the status and the body as JSON (`Null` when it is not JSON).
    async fn exchange(request: reqwest::RequestBuilder) -> (u16, Value) {
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// A SkyPay call; returns the envelope's responseCode.
    pub async fn skypay(&self, route: &str, body: &Value) -> String {
        let (status, envelope) = self.post(&format!("/{route}"), body).await;
        assert_eq!(status, 200, "{envelope}");
        envelope["responseCode"]
            .as_str()
            .expect("an envelope")
            .to_owned()
    }
}
