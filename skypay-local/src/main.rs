//! `skypay-local`: the whole gateway on one machine (SPEC section 9).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use skypay::config::{Defaults, Environment};
use skypay::{Config, telemetry};
use skypay_local::Store;

#[derive(Parser, Debug)]
#[command(
    name = "skypay-local",
    version,
    about = "Every SkyPay endpoint plus /admin on one port, on an embedded DynamoDB"
)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// The ledger file (kept across restarts). Default: .skypay/ledger.db
    #[arg(long, value_name = "FILE", conflicts_with_all = ["memory", "dynamodb_endpoint"])]
    data: Option<PathBuf>,
    /// Keep the ledger in memory only.
    #[arg(long, conflicts_with = "dynamodb_endpoint")]
    memory: bool,
    /// Use a DynamoDB-compatible server instead of the embedded one.
    #[arg(long, value_name = "URL", env = "AWS_ENDPOINT_URL_DYNAMODB")]
    dynamodb_endpoint: Option<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    telemetry::init();
    let args = Args::parse();
    let config = match Config::load(&Environment, Defaults::Local) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("skypay-local: {e}");
            return ExitCode::FAILURE;
        }
    };
    let store = match (args.dynamodb_endpoint, args.memory, args.data) {
        (Some(url), _, _) => Store::Endpoint(url),
        (None, true, _) => Store::Memory,
        (None, false, data) => Store::File(data.unwrap_or_else(skypay_local::default_data_file)),
    };
    let running = match skypay_local::start(args.listen, store.clone(), config.clone()).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("skypay-local: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", skypay_local::banner(running.addr, &store, &config));
    match running.run_until(shutdown_signal()).await {
        Ok(()) => {
            println!("skypay-local stopped; the ledger is closed.");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("skypay-local: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Ctrl-C, or SIGTERM from a process manager.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
