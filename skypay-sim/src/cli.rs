//! The `skypay-sim` command: `serve` (SkyPay's side, calling a gateway back) and `play-payout`
//! / `play-collect` (a shop's flow against a gateway). The partner's credentials come from the
//! same variables the gateway reads (`SKYPAY_USERNAME`, `SKYPAY_AUTH_KEYS`,
//! `SKYPAY_ENCRYPTION_KEY`), with the local server's defaults.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use rust_decimal::Decimal;
use skypay::config::{Defaults, Environment};
use skypay::{Config, telemetry};

use crate::{Outcome, Played, Player, Sim, SimConfig};

#[derive(Parser, Debug)]
#[command(
    name = "skypay-sim",
    version,
    about = "A SkyPay simulator for the partner gateway"
)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve SkyPay's API at /services/{caller}, and call the gateway back.
    Serve {
        /// The address to listen on (loopback by default).
        #[arg(long, default_value = "127.0.0.1:4000")]
        listen: SocketAddr,
        /// The {callerName} of /services/{callerName}.
        #[arg(long, default_value = "partner")]
        caller: String,
        /// The gateway's base URL, for the payoutQueuePayout callbacks.
        #[arg(long, value_name = "URL")]
        gateway: Option<String>,
        /// Seconds before the upload, and again before the outcome.
        #[arg(long, value_name = "SECONDS", default_value_t = 2)]
        delay: u64,
        /// Where an accepted payout ends: paid, failed, cancelled, uploaded, pending.
        #[arg(long, default_value = "paid")]
        outcome: Outcome,
        /// The partner's balance at the start.
        #[arg(long, default_value = "1000000.00")]
        balance: Decimal,
    },
    /// A cashier's pickup: payoutInquiry, then payoutPayout.
    PlayPayout {
        /// The gateway's base URL (skypay-local's by default).
        #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:3000")]
        gateway: String,
        /// The payout's control number, as the cashier types it.
        control_number: String,
        /// The shop's withdrawChannel (1 M Lhuillier, 9 RD Pawnshop: the counters).
        #[arg(long, default_value_t = 1)]
        channel: u32,
    },
    /// A repayment at a shop: collectionInquiry, then collectionCollect.
    PlayCollect {
        /// The gateway's base URL (skypay-local's by default).
        #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:3000")]
        gateway: String,
        /// The loan's contract number.
        contract_number: String,
        /// The amount the borrower pays, in pesos (`1500.00`).
        amount: Decimal,
        /// The shop's payChannel.
        #[arg(long, default_value_t = 10)]
        pay_channel: u32,
    },
}

pub fn main() -> ExitCode {
    telemetry::init();
    let args = Args::parse();
    let partner = match Config::load(&Environment, Defaults::Local) {
        Ok(c) => c,
        Err(e) => return fail(&e.to_string()),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the runtime: {e}")),
    };
    let outcome = runtime.block_on(async move {
        match args.command {
            Command::Serve {
                listen,
                caller,
                gateway,
                delay,
                outcome,
                balance,
            } => {
                let config = SimConfig {
                    caller_name: caller,
                    gateway,
                    delay: Duration::from_secs(delay),
                    outcome,
                    balance,
                    ..SimConfig::new(partner)
                };
                let sim = Sim::start(listen, config).await?;
                println!("skypay-sim serving SkyPay's API at {}", sim.url);
                let _ = tokio::signal::ctrl_c().await;
                sim.stop().await;
                Ok(())
            }
            Command::PlayPayout {
                gateway,
                control_number,
                channel,
            } => Player::new(&gateway, partner)
                .payout(&control_number, channel)
                .await
                .map(|played| show(&played)),
            Command::PlayCollect {
                gateway,
                contract_number,
                amount,
                pay_channel,
            } => Player::new(&gateway, partner)
                .collect(&contract_number, amount, pay_channel)
                .await
                .map(|played| show(&played)),
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn show(played: &Played) {
    let line = |label: &str, answer: &crate::Answered| {
        println!("{label}: {} {}", answer.code, answer.description);
        for (name, value) in &answer.fields {
            if !matches!(
                name.as_str(),
                "responseCode" | "responseDescription" | "responseTime"
            ) {
                println!("  {name}: {value}");
            }
        }
    };
    line("inquiry", &played.inquiry);
    if let Some(settled) = &played.settled {
        line("then", settled);
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("skypay-sim: {message}");
    ExitCode::FAILURE
}
