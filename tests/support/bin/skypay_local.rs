//! `skypay-local`, exactly as its own binary runs it, built inside the test package so that
//! the integration tests can start it as a process (`CARGO_BIN_EXE_skypay-local-under-test`).

fn main() -> std::process::ExitCode {
    skypay_local::cli::main()
}
