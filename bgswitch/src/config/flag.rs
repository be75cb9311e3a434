//! The `[switch]` keys of `kind = "flag"`: `flag_dir` and
//! `flag_dir_volatile`. Kept apart so the flag switch's configuration is
//! one block of the config reader.

use std::path::{Path, PathBuf};

use super::SwitchKind;

/// Where the flag files live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagConfig {
    /// The directory nginx's `if (-f DIR/POOL)` tests look in.
    pub dir: PathBuf,
    /// `flag_dir_volatile = true`: the user knows `dir` is on tmpfs (a
    /// reboot empties it and brings the selector's default pool back).
    /// Without it a tmpfs `dir` is refused.
    pub volatile: bool,
}

/// Reads the flag keys; an error is `(key, message)`.
pub(super) fn parse(
    kind: SwitchKind,
    dir: Option<&str>,
    volatile: Option<bool>,
    resolve: &dyn Fn(&str) -> PathBuf,
) -> Result<Option<FlagConfig>, (&'static str, String)> {
    if kind != SwitchKind::Flag {
        if dir.is_some() {
            return Err(("switch.flag_dir", "only for kind = \"flag\"".into()));
        }
        if volatile.is_some() {
            return Err((
                "switch.flag_dir_volatile",
                "only for kind = \"flag\"".into(),
            ));
        }
        return Ok(None);
    }
    let dir = match dir {
        None | Some("") => {
            return Err((
                "switch.flag_dir",
                "missing: the directory of the flag files the selector tests, e.g. \"/var/lib/bgswitch/app\"".into(),
            ))
        }
        Some(d) => resolve(d),
    };
    Ok(Some(FlagConfig {
        dir: clean(&dir),
        volatile: volatile.unwrap_or(false),
    }))
}

/// `a/./b/` -> `a/b` (no symlinks resolved: the selector's path is
/// compared as nginx would open it).
fn clean(p: &Path) -> PathBuf {
    p.components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect()
}
