//! See the crate README for flags, endpoints and exit codes.

fn main() -> std::process::ExitCode {
    health_sidecar::daemon::main_with_args(std::env::args_os())
}
