//! `ddb-local`: a DynamoDB API on loopback for the Lambda runtime emulator checks and the
//! benchmarks: an embedded dynoxide (in memory) behind the counting proxy, with the ledger table
//! created. `GET /__counts` shows the requests that reached it by operation;
//! `POST /__counts/reset` clears them. Stops on Ctrl-C or SIGTERM.
//!
//!     cargo run -p skypay-tests --bin ddb-local -- [--listen 127.0.0.1:8000] [--table skypay-ledger]

use std::net::SocketAddr;

use support::Dynoxide;
use support::proxy::Proxy;

#[tokio::main]
async fn main() {
    let mut listen: SocketAddr = "127.0.0.1:8000".parse().unwrap();
    let mut table = "skypay-ledger".to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--listen", Some(v)) => listen = v.parse().expect("--listen ADDR"),
            ("--table", Some(v)) => table = v,
            _ => {
                eprintln!("usage: ddb-local [--listen ADDR] [--table NAME]");
                std::process::exit(2);
            }
        }
    }
    let server = Dynoxide::start().await;
    let ledger = skypay::Ledger::new(
        skypay::aws::dynamo::client_for_endpoint(&server.endpoint),
        table.as_str(),
    );
    ledger
        .ensure_table(skypay::ledger::schema::Stream::Off)
        .await
        .expect("table created");
    let proxy = Proxy::start_on(listen, &server.endpoint).await;
    println!(
        "ddb-local: DynamoDB API on {} (table {table}); counts at {}/__counts",
        proxy.url, proxy.url
    );
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    drop(proxy);
    drop(server);
}
