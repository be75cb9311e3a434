//! Command-line arguments, as DESIGN.md specifies them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "nginx-edit",
    version,
    about = "Lossless nginx config parser and editor",
    after_help = "Exit codes: 0 done, 1 check problems or --check would change, \
                  2 usage or I/O error, 3 the input does not parse, \
                  4 the named upstream, server or map is not there."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate configs offline (the pre-commit hook): exit 0 clean, 1 problems.
    Check(CheckArgs),
    /// Print a config as JSON.
    Parse(ParseArgs),
    /// List or edit the servers of an upstream.
    #[command(subcommand)]
    Upstream(UpstreamCommand),
    /// Read or set a map's default value.
    #[command(subcommand)]
    Map(MapCommand),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
    /// Map an absolute include prefix onto a folder: `--include-root /etc/nginx=./nginx`.
    #[arg(long, value_name = "ABS=DIR")]
    pub include_root: Vec<String>,
    /// Resolve relative includes against DIR instead of each main file's directory.
    #[arg(long, value_name = "DIR")]
    pub prefix: Option<PathBuf>,
    /// Accept directives the table does not know (third-party modules).
    #[arg(long)]
    pub allow_unknown: bool,
    /// Do not look up host names (upstream servers, `proxy_pass` ...) or
    /// the `user` on this machine, as nginx -t does (`host not found in
    /// upstream`, `getpwnam("nginx") failed`): for a laptop that does not
    /// know the deploy network's names or the server's users.
    #[arg(long)]
    pub no_resolve: bool,
    /// nginx's prefix, as `nginx -p DIR`: relative paths nginx prints
    /// joined to it (a cache path named twice) are shown so (default:
    /// Debian's /usr/share/nginx/).
    #[arg(long, value_name = "DIR")]
    pub nginx_prefix: Option<PathBuf>,
    /// The nginx release to check against.
    #[arg(long, value_name = "X.Y.Z", default_value = "1.22.1")]
    pub nginx_version: String,
    /// Which modules the nginx has: Debian's package 1.22.1-9+deb12u11
    /// (http modules built in, stream, mail and the others only after
    /// `load_module`; its backported directives, e.g. `max_headers`, with
    /// --nginx-version 1.22.1) or every standard module built in.
    #[arg(long, value_enum, default_value_t = ModulesArg::Debian)]
    pub modules: ModulesArg,
    /// The block each FILE's top level sits in (default: guessed; `main`
    /// for an nginx.conf, `http` for a file of server blocks ...).
    #[arg(long, value_enum)]
    pub context: Option<ContextArg>,
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModulesArg {
    Debian,
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ContextArg {
    Main,
    Events,
    Http,
    Server,
    Location,
    Upstream,
    Stream,
    StreamServer,
    Mail,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct ParseArgs {
    #[arg(long, value_enum, default_value_t = ParseFormat::Json)]
    pub format: ParseFormat,
    /// Include comments in the output.
    #[arg(long)]
    pub include_comments: bool,
    /// Do not follow includes (crossplane format).
    #[arg(long)]
    pub single_file: bool,
    /// Crossplane format: indent by N spaces (crossplane's `-i N`); compact by default.
    #[arg(long, short = 'i', value_name = "N")]
    pub indent: Option<usize>,
    pub file: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ParseFormat {
    Json,
    /// The JSON `crossplane parse` prints (nginxinc/crossplane 0.5.8).
    Crossplane,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Style {
    Comment,
    Down,
}

/// Where an edit goes: stdout (default), the file, a diff, or nowhere.
#[derive(Debug, Args)]
pub struct EditOutput {
    /// Write the file atomically in place (through symlinks; mode and owner kept).
    #[arg(long, group = "output")]
    pub in_place: bool,
    /// With --in-place, keep the old file as FILE+SUFFIX (next to a symlink's target).
    #[arg(long, value_name = "SUFFIX", requires = "in_place")]
    pub backup: Option<String>,
    /// With --in-place, write into the file's own inode (no rename): for a
    /// file bind-mounted on its own into a container.
    ///
    /// A container that has one file bind-mounted on its own keeps that
    /// file's inode and never sees a rename (moby/moby#15793). This write
    /// is not atomic, so the old bytes are kept first (FILE+SUFFIX with
    /// --backup, else a hidden `.FILE.nginx-edit-backup`, removed after a
    /// good write) with a record `.BACKUP.intent` of the write under way;
    /// the next --keep-inode run that finds the record puts the old bytes
    /// back before it edits. Mode, owner and hard links are untouched.
    #[arg(long, requires = "in_place")]
    pub keep_inode: bool,
    /// Print a unified diff and write nothing.
    #[arg(long, group = "output")]
    pub diff: bool,
    /// Write nothing; exit 1 if the edit would change the file.
    #[arg(long, group = "output")]
    pub check: bool,
    #[command(flatten)]
    pub source: Source,
}

/// How FILE is read.
#[derive(Debug, Args)]
pub struct Source {
    /// FILE is the main nginx.conf: look for the target in the files it includes.
    #[arg(long)]
    pub follow_includes: bool,
    /// Directory relative includes resolve against (default: FILE's directory).
    #[arg(long, value_name = "DIR", requires = "follow_includes")]
    pub prefix: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum UpstreamCommand {
    /// List upstreams and their servers with their state.
    List {
        file: PathBuf,
        upstream: Option<String>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        source: Source,
    },
    /// Enable SERVER: remove its `down` flag or uncomment it.
    Enable {
        file: PathBuf,
        upstream: String,
        server: String,
        #[arg(long, value_enum)]
        style: Option<Style>,
        #[command(flatten)]
        output: EditOutput,
    },
    /// Disable SERVER with `down` or by commenting it out.
    Disable {
        file: PathBuf,
        upstream: String,
        server: String,
        #[arg(long, value_enum)]
        style: Option<Style>,
        /// Allow disabling the last enabled server.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        output: EditOutput,
    },
    /// Enable SERVER and disable every other server of UPSTREAM.
    Only {
        file: PathBuf,
        upstream: String,
        server: String,
        #[arg(long, value_enum)]
        style: Option<Style>,
        #[command(flatten)]
        output: EditOutput,
    },
    /// Replace a server's address, keeping its parameters.
    Replace {
        file: PathBuf,
        upstream: String,
        old_addr: String,
        new_addr: String,
        #[command(flatten)]
        output: EditOutput,
    },
}

#[derive(Debug, Subcommand)]
pub enum MapCommand {
    /// Print the default value of the map that sets VARIABLE.
    GetDefault {
        file: PathBuf,
        variable: String,
        #[command(flatten)]
        source: Source,
    },
    /// Set the default value of the map that sets VARIABLE.
    SetDefault {
        file: PathBuf,
        variable: String,
        value: String,
        #[command(flatten)]
        output: EditOutput,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
