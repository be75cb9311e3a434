//! The pre-commit hook's binary: `nginx-edit` under another name, built by
//! `cargo install --path .` at the repository root (see `.pre-commit-hooks.yaml`).
fn main() -> std::process::ExitCode {
    nginx_edit::cli::main()
}
