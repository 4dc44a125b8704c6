//! `skypay-local`: the whole gateway on one machine (SPEC section 9).

fn main() -> std::process::ExitCode {
    skypay_local::cli::main()
}
