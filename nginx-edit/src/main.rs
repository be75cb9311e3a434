//! `nginx-edit`: the command line over the `nginx_edit` library.
fn main() -> std::process::ExitCode {
    nginx_edit::cli::main()
}
