//! What a switch changed, and the one place that decides what a failure
//! undoes and which exit code follows.
//!
//! The shape of rustup's transaction: steps push each change onto the
//! [`Record`] as they make it (a file written with its old bytes, nginx
//! reloaded); no step decides rollback on its own. When a step fails,
//! [`decide`] reads why it failed ([`Cause`]) and the record, and returns
//! the undo, newest change first, and the exit code; [`walk_back`] carries
//! it out through [`Effects`], so both are tested without an nginx.
//!
//! A new kind of change (a flag file moved, a pool started) is a new
//! [`Change`] and the [`Undo`] it maps to; a new kind of failure is a new
//! [`Cause`] with its exit code and whether it comes before or after the
//! reload.

use std::path::{Path, PathBuf};

use super::exit;

/// A change made by the run, recorded as it was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// `path` was written; `old` is what it held.
    Wrote { path: PathBuf, old: Vec<u8> },
    /// `path` already held the target's version (finishing an interrupted
    /// switch): this run wrote nothing, so there is no older version of
    /// its own to go back to.
    Adopted {
        path: PathBuf,
        old: Vec<u8>,
        target: String,
    },
    /// nginx was reloaded and may run what is on disk now.
    Reloaded,
    /// `deploy` ran the pool's `start` (recorded before it runs: a start
    /// that fails may have started something). Not undone: bgswitch does
    /// not know what "unstarting" means; the undo says it was left so.
    Started { pool: String },
    /// `kind = "flag"`: the flag file `path` was created (or removed);
    /// nginx sees it on its next request, no reload.
    FlagMoved { path: PathBuf, created: bool },
    /// `kind = "flag"`: the flags already selected `target` (finishing an
    /// interrupted switch): nothing moved, nothing to go back to.
    FlagAdopted { path: PathBuf, target: String },
}

/// The changes so far, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    changes: Vec<Change>,
}

impl Record {
    pub fn push(&mut self, change: Change) {
        self.changes.push(change);
    }

    /// The nginx file this run wrote (or adopted), for the journal.
    pub fn file(&self) -> Option<&Path> {
        self.changes.iter().find_map(|c| match c {
            Change::Wrote { path, .. }
            | Change::Adopted { path, .. }
            | Change::FlagMoved { path, .. }
            | Change::FlagAdopted { path, .. } => Some(path.as_path()),
            Change::Reloaded | Change::Started { .. } => None,
        })
    }

    /// The pool `deploy` started, if it ran a `start`.
    pub fn started(&self) -> Option<&str> {
        self.changes.iter().find_map(|c| match c {
            Change::Started { pool } => Some(pool.as_str()),
            _ => None,
        })
    }

    /// Whether nginx was reloaded (a flag switch never is: then there are
    /// no old workers to wait for).
    pub fn reloaded(&self) -> bool {
        self.changes.contains(&Change::Reloaded)
    }
}

/// Why a step failed, as far as the decision is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// Another run holds the lock.
    Locked,
    /// A config value, a file that cannot be read or written, a plan that
    /// cannot be made.
    Config,
    /// The target pool is not ready (gate) or fails its smoke requests.
    NotReady,
    /// The nginx test command rejects the new bytes.
    NginxTest,
    /// The reload did not take, or cannot be proven.
    Reload,
    /// The load balancer does not answer from the target (verify, smoke
    /// requests through it).
    Verify,
    /// The soak saw a breach.
    Soak,
    /// A step after the switch stands (drain): reported as failed, nothing
    /// is undone, the run goes on.
    AfterSwitch,
    /// The target pool's `start` failed or timed out (before anything
    /// else changed): exit 1, nothing switched.
    Start,
    /// The old pool's `stop` failed (or was not run: not drained, old
    /// workers left) after a good switch: the switch stands, exit 8.
    Stopped,
}

impl Cause {
    /// The exit code of a run that ends with this failure (DESIGN.md).
    pub fn code(self) -> u8 {
        match self {
            Cause::Locked => exit::LOCKED,
            Cause::Config => exit::CONFIG,
            Cause::NotReady => exit::GATE,
            Cause::NginxTest => exit::NGINX_TEST,
            Cause::Reload | Cause::Verify => exit::RELOAD_OR_VERIFY,
            Cause::Soak => exit::SOAK,
            Cause::AfterSwitch => exit::OK,
            Cause::Start => exit::GATE,
            Cause::Stopped => exit::STOP_FAILED,
        }
    }

    /// Whether nginx may have been given the new version: then the undo
    /// is a `rollback` step that reloads and verifies the old pool; before
    /// that, putting the bytes back is all it takes.
    fn after_reload(self) -> bool {
        matches!(self, Cause::Reload | Cause::Verify | Cause::Soak)
    }
}

/// One action of an undo, in the order it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Undo {
    /// Put the old bytes back.
    Restore { path: PathBuf, old: Vec<u8> },
    /// Reload nginx with what is on disk and prove it took.
    Reload,
    /// The load balancer answers from the old pool.
    VerifyOld { pool: String },
    /// Nothing to do but say it: the pool `start` ran on is left as
    /// `start` left it.
    LeftStarted { pool: String },
    /// Create (`present`) or remove the flag file again, as it was.
    PutFlagBack { path: PathBuf, present: bool },
}

/// What follows a failed step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Nothing was switched: run `undo` (said in the failed step's own
    /// detail), result `aborted`, exit `code`; `failed` and exit 7 when
    /// the undo itself fails (the old bytes cannot be written back).
    Abort { code: u8, undo: Vec<Undo> },
    /// Traffic may have moved: a `rollback` step runs `undo`; result
    /// `rolled_back` and exit `code` when it works, `failed` and exit 7
    /// when it does not.
    RollBack { code: u8, undo: Vec<Undo> },
    /// Traffic may have moved and there is nothing to go back to (the file
    /// already named the target): a failed `rollback` step saying so,
    /// result `failed`, exit `code`.
    CannotRollBack { code: u8, message: String },
    /// The switch stands: the failed step is reported and the run goes
    /// on; the run's exit code is at least `code` (0, or 8 for a stop).
    Keep { code: u8 },
}

/// The one decision: from why a step failed and what the run changed so
/// far, what to undo (newest change first) and the exit code. `old_pool`
/// is the pool that was live before; it must answer again after a
/// rollback.
///
/// Undo order: changes are walked back newest first, except that nginx is
/// reloaded once, after every file is back (a reload loads what is on
/// disk), and the old pool is verified last.
pub fn decide(cause: Cause, record: &Record, old_pool: Option<&str>) -> Decision {
    let code = cause.code();
    if matches!(cause, Cause::AfterSwitch | Cause::Stopped) {
        return Decision::Keep { code };
    }
    // Said last, whatever else is undone.
    let left: Option<Undo> = record.started().map(|pool| Undo::LeftStarted {
        pool: pool.to_string(),
    });
    let restores: Vec<Undo> = record
        .changes
        .iter()
        .rev()
        .filter_map(|c| match c {
            Change::Wrote { path, old } | Change::Adopted { path, old, .. } => {
                Some(Undo::Restore {
                    path: path.clone(),
                    old: old.clone(),
                })
            }
            Change::FlagMoved { path, created } => Some(Undo::PutFlagBack {
                path: path.clone(),
                present: !created,
            }),
            Change::Reloaded | Change::Started { .. } | Change::FlagAdopted { .. } => None,
        })
        .collect();
    if !cause.after_reload() {
        let mut undo = restores;
        undo.extend(left);
        return Decision::Abort { code, undo };
    }
    let flag_adopted = record.changes.iter().find_map(|c| match c {
        Change::FlagAdopted { path, target } => Some((path, target)),
        _ => None,
    });
    if let Some((path, target)) = flag_adopted {
        return Decision::CannotRollBack {
            code: exit::RELOAD_OR_VERIFY,
            message: format!(
                "the flags already selected {target} ({} as it was; nothing moved): there is no older state of this run's to go back to",
                path.display()
            ),
        };
    }
    let adopted = record.changes.iter().find_map(|c| match c {
        Change::Adopted { path, target, .. } => Some((path, target)),
        _ => None,
    });
    if let Some((path, target)) = adopted {
        return Decision::CannotRollBack {
            code: exit::RELOAD_OR_VERIFY,
            message: format!(
                "{} is unchanged (it already said {target}); nginx {} it{}",
                path.display(),
                if record.reloaded() {
                    "was reloaded with"
                } else {
                    "did not load"
                },
                left.as_ref()
                    .map(left_note)
                    .map(|n| format!("; {n}"))
                    .unwrap_or_default()
            ),
        };
    }
    let mut undo = restores;
    if record.reloaded() {
        undo.push(Undo::Reload);
    }
    if let Some(pool) = old_pool {
        undo.push(Undo::VerifyOld {
            pool: pool.to_string(),
        });
    }
    undo.extend(left);
    Decision::RollBack { code, undo }
}

/// What an [`Undo::LeftStarted`] says.
fn left_note(u: &Undo) -> String {
    match u {
        Undo::LeftStarted { pool } => format!("pool {pool} left as start left it"),
        _ => String::new(),
    }
}

/// What undoing does to the world; the switch does it for real, the tests
/// with a script.
pub trait Effects {
    /// Writes `bytes` to `path` the way the switch writes.
    fn write(&mut self, path: &Path, bytes: &[u8]) -> Result<(), String>;
    /// Reloads nginx and proves the reload took.
    fn reload(&mut self) -> Result<(), String>;
    /// The load balancer answers from `pool` (and, after a reload, the
    /// workers from before it no longer accept); `Ok` says how it was seen.
    fn verify(&mut self, pool: &str) -> Result<String, String>;
    /// Creates (`present`) or removes a flag file, atomically.
    fn put_flag(&mut self, path: &Path, present: bool) -> Result<(), String>;
    /// A line for the user that is not a step.
    fn note(&mut self, text: &str);
}

/// Runs an [`Decision::Abort`]'s undo; returns what it did, to be said in
/// the failed step's detail: `Ok` when everything went back, `Err` when
/// something could not (a failed rollback, exit 7; its line says what
/// state the file and nginx are in). The rest is still undone.
pub fn restore(undo: &[Undo], fx: &mut impl Effects) -> Result<Vec<String>, Vec<String>> {
    let mut failed = false;
    let lines = undo
        .iter()
        .filter_map(|u| match u {
            Undo::Restore { path, old } => Some(match fx.write(path, old) {
                Ok(()) => format!("{} restored to its exact old bytes", path.display()),
                Err(e) => {
                    failed = true;
                    format!(
                        "ROLLBACK FAILED: could not write the old bytes back to {} ({e}); the file holds the NEW version; nginx was not reloaded: it runs the old configuration until it is reloaded",
                        path.display()
                    )
                }
            }),
            Undo::LeftStarted { .. } => Some(left_note(u)),
            Undo::PutFlagBack { path, present } => Some(match fx.put_flag(path, *present) {
                Ok(()) => format!("{} {} again", path.display(), flag_verb(*present)),
                Err(e) => {
                    failed = true;
                    format!(
                        "ROLLBACK FAILED: could not put the flag back ({} must be {}: {e}); the flags still select the NEW pool, and nginx follows them on every request",
                        path.display(),
                        flag_verb(*present)
                    )
                }
            }),
            Undo::Reload | Undo::VerifyOld { .. } => None,
        })
        .collect();
    if failed {
        Err(lines)
    } else {
        Ok(lines)
    }
}

/// Runs a [`Decision::RollBack`]'s undo in order. `Ok`: the `rollback`
/// step's detail. `Err`: the ROLLBACK FAILED message, saying exactly what
/// state the file and nginx are in (exit 7).
///
/// A failed reload is not the last word: what the load balancer answers
/// is (nginx may not have taken the new version either).
pub fn walk_back(undo: &[Undo], fx: &mut impl Effects) -> Result<String, String> {
    if undo.iter().any(|u| matches!(u, Undo::PutFlagBack { .. })) {
        return walk_back_flags(undo, fx);
    }
    let reloading = undo.contains(&Undo::Reload);
    let files: Vec<String> = undo
        .iter()
        .filter_map(|u| match u {
            Undo::Restore { path, .. } => Some(path.display().to_string()),
            _ => None,
        })
        .collect();
    let files = files.join(", ");
    let mut reload_failed = None;
    let mut verified = None;
    let mut left = String::new();
    for u in undo {
        match u {
            Undo::LeftStarted { .. } => left = format!("; {}", left_note(u)),
            Undo::Restore { path, old } => {
                if let Err(e) = fx.write(path, old) {
                    return Err(format!(
                        "ROLLBACK FAILED: could not write the old bytes back to {} ({e}); the file holds the NEW version; nginx is running the {} configuration",
                        path.display(),
                        if reloading { "new" } else { "old (its reload did not take)" }
                    ));
                }
            }
            Undo::Reload => reload_failed = fx.reload().err(),
            Undo::PutFlagBack { .. } => {}
            Undo::VerifyOld { pool } => {
                let seen = match fx.verify(pool) {
                    Ok(seen) => seen,
                    Err(e) => return Err(match &reload_failed {
                        Some(r) => format!(
                            "ROLLBACK FAILED: {files} holds the exact old bytes again, but reloading nginx with them failed ({r}) and the load balancer does not answer from {pool}: {e}; nginx may still run the new configuration"
                        ),
                        None => format!(
                            "ROLLBACK FAILED: {files} holds the exact old bytes and nginx reloaded them, but the load balancer does not answer from {pool}: {e}"
                        ),
                    }),
                };
                verified = Some((pool, seen));
            }
        }
    }
    if let Some(r) = &reload_failed {
        if verified.is_none() {
            return Err(format!(
                "ROLLBACK FAILED: {files} holds the exact old bytes again, but reloading nginx with them failed ({r}); nginx may still run the new configuration"
            ));
        }
        fx.note(&format!(
            "reloading the old bytes failed ({r}), but the load balancer answers from the old pool"
        ));
    }
    Ok(format!(
        "{files} restored to its exact old bytes and reloaded{}{left}",
        verified
            .map(|(p, seen)| verified_note(p, &seen))
            .unwrap_or_default()
    ))
}

/// `; POOL verified`, with how when the effect said (`(...)`).
fn verified_note(pool: &str, seen: &str) -> String {
    if seen.is_empty() {
        format!("; {pool} verified")
    } else {
        format!("; {pool} verified ({seen})")
    }
}

fn flag_verb(present: bool) -> &'static str {
    if present {
        "created"
    } else {
        "removed"
    }
}

/// The undo of a flag switch: the flags as they were, then the old pool
/// verified; nothing is reloaded (nginx reads the flags on every request).
fn walk_back_flags(undo: &[Undo], fx: &mut impl Effects) -> Result<String, String> {
    let mut done = Vec::new();
    for u in undo {
        match u {
            Undo::PutFlagBack { path, present } => {
                if let Err(e) = fx.put_flag(path, *present) {
                    return Err(format!(
                        "ROLLBACK FAILED: could not put the flag back ({} must be {}: {e}); the flags still select the NEW pool, and nginx follows them on every request",
                        path.display(),
                        flag_verb(*present)
                    ));
                }
                done.push(format!("{} {} again", path.display(), flag_verb(*present)));
            }
            Undo::VerifyOld { pool } => match fx.verify(pool) {
                Ok(seen) => done.push(verified_note(pool, &seen)[2..].to_string()),
                Err(e) => {
                    return Err(format!(
                        "ROLLBACK FAILED: the flags select {pool} again ({}), but the load balancer does not answer from {pool}: {e}",
                        done.join(", ")
                    ))
                }
            },
            Undo::LeftStarted { .. } => done.push(left_note(u)),
            Undo::Restore { .. } | Undo::Reload => {}
        }
    }
    Ok(format!("{}; no reload", done.join("; ")))
}

#[cfg(test)]
#[path = "undo_tests.rs"]
mod tests;
