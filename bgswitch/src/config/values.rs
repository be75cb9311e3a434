//! Single values of the file, checked where they are read: durations,
//! paths, commands and the TLS keys. Every error names
//! its key.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::ConfigError;
use crate::http;

/// What every value check needs: the file (for errors) and its directory
/// (relative paths are relative to the file).
#[derive(Debug)]
pub(super) struct Ctx {
    pub(super) file: String,
    pub(super) base: PathBuf,
}

impl Ctx {
    pub(super) fn new(path: &Path) -> Ctx {
        let base = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Ctx {
            file: path.display().to_string(),
            base,
        }
    }

    pub(super) fn err(&self, key: &str, message: String) -> ConfigError {
        ConfigError {
            file: self.file.clone(),
            key: key.to_string(),
            message,
        }
    }

    pub(super) fn resolve(&self, p: &str) -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base.join(p)
        }
    }

    /// `500ms`, `30s`, `5m`, `1m30s`; `default` when unset.
    pub(super) fn duration(
        &self,
        key: &str,
        value: Option<&String>,
        default: &str,
    ) -> Result<Duration, ConfigError> {
        let text = value.map_or(default, String::as_str);
        humantime::parse_duration(text).map_err(|e| {
            self.err(
                key,
                format!("invalid duration \"{text}\": {e} (write 500ms, 30s, 5m)"),
            )
        })
    }

    /// A command as a list; `./reload.sh` is relative to this file, like
    /// every path here; a bare name (`nginx`) is looked up on PATH.
    pub(super) fn command(
        &self,
        key: &str,
        value: Option<Vec<String>>,
        default: &[&str],
    ) -> Result<Vec<String>, ConfigError> {
        let mut v = value.unwrap_or_else(|| default.iter().map(|s| s.to_string()).collect());
        if v.is_empty() || v[0].is_empty() {
            return Err(self.err(
                key,
                "must be a non-empty list, e.g. [\"nginx\", \"-t\"]".into(),
            ));
        }
        if v[0].contains('/') {
            v[0] = self.resolve(&v[0]).display().to_string();
        }
        Ok(v)
    }

    /// `connect_to`, `ca_file`, `insecure` of `section` (`verify`, `gate`):
    /// the CA file is read now, so a missing or empty one stops here.
    pub(super) fn transport(
        &self,
        section: &str,
        connect_to: Option<String>,
        ca_file: Option<String>,
        insecure: Option<bool>,
    ) -> Result<http::Transport, ConfigError> {
        if let Some(to) = &connect_to {
            http::check_connect_to(to)
                .map_err(|e| self.err(&format!("{section}.connect_to"), e))?;
        }
        let ca = match ca_file.as_deref() {
            None => None,
            Some(f) => Some(
                http::CaFile::read(&self.resolve(f))
                    .map_err(|e| self.err(&format!("{section}.ca_file"), e))?,
            ),
        };
        Ok(http::Transport {
            connect_to,
            ca,
            insecure: insecure.unwrap_or(false),
        })
    }

    /// An `http://` or `https://` URL.
    pub(super) fn url(&self, key: &str, url: &str) -> Result<http::Url, ConfigError> {
        http::Url::parse(url).map_err(|e| self.err(key, format!("\"{url}\": {e}")))
    }
}

/// 1-based line and column of a byte offset.
pub(super) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}
