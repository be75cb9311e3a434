//! The `nginx-edit` command: thin glue between arguments, the library and
//! the exit codes of DESIGN.md. `main` prints; `run` decides. It lives in
//! the library so the pre-commit hook's binary (the workspace root
//! package) is the same program.

mod args;
mod diag;
mod edit;
mod keep_inode;

use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use crate::includes::{ConfigSet, LoadError};
use crate::EditError;
use clap::Parser;

/// The argument parser, public so tests can check command lines (the README's).
pub use args::Cli;
use args::{Command, MapCommand, ParseFormat, UpstreamCommand};

/// Exit codes, documented in `--help` and the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Done = 0,
    /// `check` found problems, or `--check` would change the file.
    Problems = 1,
    /// Bad usage, or a file could not be read or written.
    Usage = 2,
    /// The input does not parse.
    Parse = 3,
    /// The named upstream, server or map is not there.
    NotFound = 4,
}

/// A failure to report: an exit code and what to print on stderr.
#[derive(Debug)]
pub struct Failure {
    pub exit: Exit,
    pub message: String,
}

impl Failure {
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        Failure {
            exit,
            message: message.into(),
        }
    }
}

impl From<LoadError> for Failure {
    fn from(e: LoadError) -> Self {
        match e {
            LoadError::Io { path, source } => Failure::new(
                Exit::Usage,
                format!("error: cannot read {}: {source}", path.display()),
            ),
            LoadError::Parse { path, error } => {
                let src = std::fs::read(&path).unwrap_or_default();
                Failure::new(Exit::Parse, diag::render_parse_error(&path, &src, &error))
            }
            cycle @ LoadError::Cycle { .. } => Failure::new(
                Exit::Parse,
                format!("{cycle}").replacen(": include", ": error: include", 1),
            ),
        }
    }
}

impl From<EditError> for Failure {
    fn from(e: EditError) -> Self {
        let exit = if e.is_not_found() {
            Exit::NotFound
        } else {
            Exit::Usage
        };
        Failure::new(exit, format!("error: {e}"))
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure::new(Exit::Usage, format!("error: {e}"))
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(exit) => ExitCode::from(exit as u8),
        Err(f) if f.message.is_empty() => ExitCode::from(f.exit as u8),
        Err(f) => {
            let mut err = io::stderr().lock();
            let _ = writeln!(err, "{}", f.message.trim_end());
            ExitCode::from(f.exit as u8)
        }
    }
}

fn run(cli: Cli) -> Result<Exit, Failure> {
    let result = match cli.command {
        Command::Check(a) => diag::check(&a),
        Command::Parse(a) => parse(&a),
        Command::Upstream(c) => upstream(c),
        Command::Map(c) => map(c),
    };
    // A closed stdout (`nginx-edit parse big.conf | head`) is not an error.
    match result {
        Err(f) if f.message.contains("Broken pipe") => Ok(Exit::Done),
        other => other,
    }
}

/// Loads FILE alone, or with its includes.
pub fn load(file: &Path, source: &args::Source) -> Result<ConfigSet, Failure> {
    let set = if source.follow_includes {
        ConfigSet::load(file, source.prefix.as_deref())?
    } else {
        ConfigSet::single(file)?
    };
    Ok(set)
}

fn parse(a: &args::ParseArgs) -> Result<Exit, Failure> {
    match a.format {
        ParseFormat::Json => {
            let set = ConfigSet::single(&a.file)?;
            // write_json buffers itself and writes in large pieces.
            let mut out = unbuffered_stdout()?;
            crate::json::write_json(
                &mut out,
                &a.file.to_string_lossy(),
                set.files[0].doc(),
                a.include_comments,
            )?;
            out.flush()?;
            Ok(Exit::Done)
        }
        ParseFormat::Crossplane => {
            use crate::crossplane::{write_crossplane, Options, Status};
            let opts = Options {
                include_comments: a.include_comments,
                single_file: a.single_file,
                indent: a.indent,
            };
            let mut out = io::BufWriter::with_capacity(1 << 16, unbuffered_stdout()?);
            let status = write_crossplane(&mut out, &a.file, &opts)?;
            out.flush()?;
            // crossplane's analyzer findings and unreadable includes are
            // reported in the JSON ("status": "failed") and exit 0, as
            // `crossplane parse` does; see docs/crossplane.md.
            Ok(match status {
                Status::Ok | Status::Failed => Exit::Done,
                Status::Syntax => Exit::Parse,
                Status::Unreadable => Exit::Usage,
            })
        }
    }
}

/// Standard output as a plain file, for output that is buffered in large
/// pieces already: `io::stdout()` is line-buffered, and searches every
/// piece written for its last newline (8% of `parse --format json`'s
/// instructions on the 1.33 MB corpus config, for nothing).
fn unbuffered_stdout() -> io::Result<std::fs::File> {
    use std::os::fd::AsFd;
    Ok(io::stdout().as_fd().try_clone_to_owned()?.into())
}

fn upstream(c: UpstreamCommand) -> Result<Exit, Failure> {
    use crate::DisableStyle;
    let style = |s: Option<args::Style>| {
        s.map(|s| match s {
            args::Style::Comment => DisableStyle::Comment,
            args::Style::Down => DisableStyle::Down,
        })
    };
    match c {
        UpstreamCommand::List {
            file,
            upstream,
            json,
            source,
        } => edit::list_upstreams(&file, upstream.as_deref(), json, &source),
        UpstreamCommand::Enable {
            file,
            upstream,
            server,
            style: _,
            output,
        } => edit::run_edit(&file, &output, edit::Target::Upstream(&upstream), |doc| {
            doc.upstream_enable(&upstream, &server)
        }),
        UpstreamCommand::Disable {
            file,
            upstream,
            server,
            style: s,
            force,
            output,
        } => edit::run_edit(&file, &output, edit::Target::Upstream(&upstream), |doc| {
            doc.upstream_disable(&upstream, &server, style(s), force)
        }),
        UpstreamCommand::Only {
            file,
            upstream,
            server,
            style: s,
            output,
        } => edit::run_edit(&file, &output, edit::Target::Upstream(&upstream), |doc| {
            doc.upstream_only(&upstream, &server, style(s))
        }),
        UpstreamCommand::Replace {
            file,
            upstream,
            old_addr,
            new_addr,
            output,
        } => edit::run_edit(&file, &output, edit::Target::Upstream(&upstream), |doc| {
            doc.upstream_replace(&upstream, &old_addr, &new_addr)
        }),
    }
}

fn map(c: MapCommand) -> Result<Exit, Failure> {
    match c {
        MapCommand::GetDefault {
            file,
            variable,
            source,
        } => {
            let set = load(&file, &source)?;
            let i = edit::locate(&set, edit::Target::Map(&variable))?;
            let map = set.files[i].doc().map(&variable)?;
            let mut out = io::stdout().lock();
            writeln!(out, "{}", map.default().unwrap_or_default())?;
            Ok(Exit::Done)
        }
        MapCommand::SetDefault {
            file,
            variable,
            value,
            output,
        } => edit::run_edit(&file, &output, edit::Target::Map(&variable), |doc| {
            doc.map_set_default(&variable, &value)
        }),
    }
}
