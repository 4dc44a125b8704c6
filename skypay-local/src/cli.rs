//! The `skypay-local` command: serve (the default), `backup`, `restore`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use skypay::config::{Defaults, Environment};
use skypay::{Config, telemetry};

use crate::{Limits, Options, Store, ledger_file};

#[derive(Parser, Debug)]
#[command(
    name = "skypay-local",
    version,
    about = "Every SkyPay endpoint plus /admin on one port, on an embedded DynamoDB",
    args_conflicts_with_subcommands = true
)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: Serve,
}

#[derive(clap::Args, Debug)]
struct Serve {
    /// Address to listen on. A non-loopback address needs --allow-remote.
    #[arg(long, default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// Listen beyond this machine: /admin then needs `Authorization: Bearer TOKEN`, the token
    /// from SKYPAY_LOCAL_ADMIN_TOKEN or, unset, drawn and printed once at start.
    #[arg(long)]
    allow_remote: bool,
    /// The ledger file (kept across restarts). Default: .skypay/ledger.db
    #[arg(long, value_name = "FILE", conflicts_with_all = ["memory", "dynamodb_endpoint"])]
    data: Option<PathBuf>,
    /// Keep the ledger in memory only.
    #[arg(long, conflicts_with = "dynamodb_endpoint")]
    memory: bool,
    /// Use a DynamoDB-compatible server instead of the embedded one.
    #[arg(long, value_name = "URL", env = "AWS_ENDPOINT_URL_DYNAMODB")]
    dynamodb_endpoint: Option<String>,
    /// Make the data file a ledger when it is empty (0 bytes), or when it is a ledger an
    /// earlier skypay-local wrote before ledgers were marked. Without it, only a marked ledger
    /// is opened, and a new one is created only where no file exists.
    #[arg(long)]
    init: bool,
    /// At most this many connections at once; past it a new one is closed at once.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_connections)]
    max_connections: usize,
    /// Seconds a client has to send a request's headers (and a kept-alive connection waits
    /// for its next request).
    #[arg(long, value_name = "SECONDS", default_value_t = secs(Limits::default().header_timeout))]
    header_timeout: u64,
    /// Seconds a connection may go without moving a byte before it is closed.
    #[arg(long, value_name = "SECONDS", default_value_t = secs(Limits::default().idle_timeout))]
    idle_timeout: u64,
    /// Seconds a client has to send a request's whole body.
    #[arg(long, value_name = "SECONDS", default_value_t = secs(Limits::default().body_timeout))]
    body_timeout: u64,
    /// Play SkyPay in process (skypay-sim): pushed payouts go to it, encrypted, and come back
    /// uploaded, then paid, as callbacks; /admin/reconcile queries it. No SkyPay account needed.
    #[arg(long)]
    simulate_skypay: bool,
    /// With --simulate-skypay: seconds before the upload callback, and again before the paid one.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 2,
        requires = "simulate_skypay"
    )]
    sim_delay: u64,
    /// With --simulate-skypay: where a pushed payout ends (paid, failed, cancelled, uploaded,
    /// pending).
    #[arg(
        long,
        value_name = "OUTCOME",
        default_value = "paid",
        requires = "simulate_skypay"
    )]
    sim_outcome: skypay_sim::Outcome,
    /// Seconds a shutdown (Ctrl-C, SIGTERM) waits for the requests in flight before it closes
    /// the connections left.
    #[arg(long, value_name = "SECONDS", default_value_t = secs(Limits::default().shutdown_timeout))]
    shutdown_timeout: u64,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// A consistent copy of the ledger, taken while the server runs (or not).
    Backup {
        /// Where to write the copy; never overwritten.
        file: PathBuf,
        /// The ledger to copy. Default: .skypay/ledger.db
        #[arg(long, value_name = "FILE")]
        data: Option<PathBuf>,
    },
    /// Puts a backup in place of the ledger (no server may be running on it). The ledger it
    /// replaces is kept beside it as FILE.replaced-<unix time>.
    Restore {
        /// The backup to restore.
        backup: PathBuf,
        /// The ledger to replace. Default: .skypay/ledger.db
        #[arg(long, value_name = "FILE")]
        data: Option<PathBuf>,
    },
}

fn secs(d: Duration) -> u64 {
    d.as_secs()
}

/// `skypay-local`'s `main`.
pub fn main() -> ExitCode {
    telemetry::init();
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the runtime: {e}")),
    };
    let config = match Config::load(&Environment, Defaults::Local) {
        Ok(c) => c,
        Err(e) => return fail(&e.to_string()),
    };
    let outcome = match args.command {
        None => runtime.block_on(serve(args.serve, config)),
        Some(Command::Backup { file, data }) => {
            let data = data.unwrap_or_else(crate::default_data_file);
            ledger_file::backup(&data, &file).map(|bytes| {
                println!(
                    "backed up {} to {} ({bytes} bytes)",
                    data.display(),
                    file.display()
                );
            })
        }
        Some(Command::Restore { backup, data }) => {
            let data = data.unwrap_or_else(crate::default_data_file);
            runtime.block_on(restore(&backup, &data, &config))
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("skypay-local: {message}");
    ExitCode::FAILURE
}

async fn serve(args: Serve, config: Config) -> Result<(), String> {
    if args.simulate_skypay && config.skypay_api.is_some() {
        return Err(
            "--simulate-skypay plays SkyPay itself: unset SKYPAY_API_URL to use it".to_owned(),
        );
    }
    let store = match (args.dynamodb_endpoint, args.memory, args.data) {
        (Some(url), _, _) => Store::Endpoint(url),
        (None, true, _) => Store::Memory,
        (None, false, data) => Store::File(data.unwrap_or_else(crate::default_data_file)),
    };
    let options = Options {
        limits: Limits {
            max_connections: args.max_connections.max(1),
            header_timeout: Duration::from_secs(args.header_timeout.max(1)),
            idle_timeout: Duration::from_secs(args.idle_timeout.max(1)),
            body_timeout: Duration::from_secs(args.body_timeout.max(1)),
            shutdown_timeout: Duration::from_secs(args.shutdown_timeout),
        },
        init: args.init,
        simulate: args.simulate_skypay.then_some(crate::Simulate {
            delay: Duration::from_secs(args.sim_delay),
            outcome: args.sim_outcome,
        }),
    };
    let (access, printed_token) = if args.allow_remote {
        match std::env::var("SKYPAY_LOCAL_ADMIN_TOKEN") {
            Ok(token) if token.len() >= 16 => (
                crate::AdminAccess::Remote {
                    token: skypay::protocol::mask::Private(token),
                },
                None,
            ),
            Ok(_) => {
                return Err("SKYPAY_LOCAL_ADMIN_TOKEN must be at least 16 characters".to_owned());
            }
            Err(_) => {
                let token = crate::admin_guard::new_token();
                let shown = token.as_str().to_owned();
                (crate::AdminAccess::Remote { token }, Some(shown))
            }
        }
    } else {
        (crate::AdminAccess::Loopback, None)
    };
    let remote = access != crate::AdminAccess::Loopback;
    let running = crate::start_with(args.listen, store.clone(), config, options, access).await?;
    println!(
        "{}",
        crate::banner(
            running.addr,
            &store,
            &running.config,
            running.sim.is_some().then_some(args.sim_outcome),
        )
    );
    if remote {
        println!(
            "WARNING: --allow-remote: this server, /admin included, is reachable from the \
             network. /admin needs Authorization: Bearer {}",
            printed_token
                .as_deref()
                .unwrap_or("$SKYPAY_LOCAL_ADMIN_TOKEN")
        );
    }
    running.run_until(shutdown_signal()).await?;
    println!("skypay-local stopped; the ledger is closed.");
    Ok(())
}

/// Restores `backup` over `data`: the lock (no server on it), the backup checked and marked,
/// then put in place.
async fn restore(
    backup: &std::path::Path,
    data: &std::path::Path,
    config: &Config,
) -> Result<(), String> {
    let _lock = ledger_file::Lock::take(data)?;
    let staged = ledger_file::stage(backup, data)?;
    let marked = {
        let path = staged
            .path
            .to_str()
            .ok_or("the data file path is not UTF-8")?;
        let db = dynoxide::Database::new(path)
            .map_err(|e| format!("cannot open {}: {e}", backup.display()))?;
        let (http, _) = crate::embedded::client(db);
        let client = skypay::aws::dynamo::client_for_endpoint_over(
            http,
            crate::embedded::ENDPOINT,
            skypay::aws::dynamo::Timeouts::PRODUCTION,
        );
        skypay::ledger::schema::is_marked(&client, &config.table_name)
            .await
            .map_err(|e| format!("cannot read {}: {e}", backup.display()))?
    };
    if !marked {
        let _ = std::fs::remove_file(&staged.path);
        return Err(format!(
            "{} holds no skypay ledger mark in table {}: not a backup of a ledger",
            backup.display(),
            config.table_name
        ));
    }
    let kept = staged.commit()?;
    match kept {
        Some(old) => println!(
            "restored {} to {}; the ledger it replaced is kept as {}",
            backup.display(),
            data.display(),
            old.display()
        ),
        None => println!("restored {} to {}", backup.display(), data.display()),
    }
    Ok(())
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
