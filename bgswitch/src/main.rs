//! `bgswitch`: see `bgswitch --help`.
fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(bgswitch::cli::main())
}
