fn main() -> std::process::ExitCode {
    skypay_sim::cli::main()
}
