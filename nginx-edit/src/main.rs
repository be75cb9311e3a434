//! `nginx-edit`: the command line over the `nginx_edit` library.
mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
