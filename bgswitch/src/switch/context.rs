//! What the steps of one run share: the config and options, what was
//! read, and the record of changes; and what a step returns.

use serde_json::Value;

use super::undo::{Cause, Effects, Record};
use super::writer::Writer;
use super::{Outcome, SwitchOptions};
use crate::config::Config;
use crate::nginx::{Generation, Nginx};
use crate::pools::NginxFiles;
use crate::report::Reporter;
use crate::state::Lock;

/// A step went well: its detail and the fields its JSON event adds.
#[derive(Debug)]
pub struct Done {
    pub detail: String,
    pub extra: Value,
}

impl Done {
    pub fn new(detail: impl Into<String>) -> Done {
        Done {
            detail: detail.into(),
            extra: Value::Object(Default::default()),
        }
    }

    pub fn with(mut self, extra: Value) -> Done {
        self.extra = extra;
        self
    }
}

/// A step failed: why (for the decision) and what to tell.
#[derive(Debug)]
pub struct Failed {
    pub cause: Cause,
    pub detail: String,
    pub extra: Value,
}

impl Failed {
    pub fn new(cause: Cause, detail: impl Into<String>) -> Failed {
        Failed {
            cause,
            detail: detail.into(),
            extra: Value::Object(Default::default()),
        }
    }

    pub fn with(mut self, extra: Value) -> Failed {
        self.extra = extra;
        self
    }
}

/// How a step that did not fail ended.
#[derive(Debug)]
pub enum Ended {
    /// Reported as ok; the next step follows.
    Done(Done),
    /// Nothing to do here (no smoke requests, no soak): not reported.
    Skipped,
    /// The run ends here with nothing to change (already live, dry run):
    /// `unchanged`, exit 0, after reporting `done` if any.
    Finish { done: Option<Done>, detail: String },
}

pub type StepResult = Result<Ended, Failed>;

/// One run of the switch.
#[derive(Debug)]
pub struct Run<'a> {
    pub cfg: &'a Config,
    pub opts: &'a SwitchOptions,
    pub out: &'a mut Reporter,
    pub nginx: Nginx,
    /// The pool traffic leaves (drained afterwards, verified on rollback).
    pub from: Option<String>,
    pub to: Option<String>,
    /// Finishing an interrupted switch: the file already says the target.
    pub repair: bool,
    /// Every change made so far, for the undo.
    pub record: Record,
    /// Held until the run ends.
    pub lock: Option<Lock>,
    /// The nginx files as read.
    pub files: Option<NginxFiles>,
    /// The bytes the edit writes.
    pub planned: Option<Vec<u8>>,
    /// nginx's processes before the reload: the old workers.
    pub before: Option<Generation>,
    /// Set once the undo's own reload took: the processes before it (the
    /// workers that ran the new version; `None` without a pid file). The
    /// undo's verify waits for them as the switch's verify waits for
    /// `before`.
    pub undo_reloaded: Option<Option<Generation>>,
    /// `deploy`: whether the drain of the old pool finished (`None`: no
    /// drain ran); `stop` runs only on a drained pool.
    pub drained: Option<bool>,
    /// The version the old pool ran (from `version_field`), for the
    /// journal.
    pub from_version: Option<String>,
    /// The pool whose `stop` ran, for the journal.
    pub stopped: Option<String>,
    /// The run's log (start and stop output), created when first used.
    pub log: Option<std::path::PathBuf>,
    /// Writes the nginx file (the edit and every restore), per `[nginx] write`.
    pub writer: Writer,
}

impl<'a> Run<'a> {
    pub fn new(cfg: &'a Config, opts: &'a SwitchOptions, out: &'a mut Reporter) -> Self {
        Run {
            cfg,
            opts,
            out,
            nginx: Nginx::new(cfg.nginx.clone()),
            from: None,
            to: None,
            repair: false,
            record: Record::default(),
            lock: None,
            files: None,
            planned: None,
            before: None,
            undo_reloaded: None,
            drained: None,
            from_version: None,
            stopped: None,
            log: None,
            writer: Writer::new(cfg),
        }
    }

    pub fn outcome(&self, result: &'static str, code: u8, detail: impl Into<String>) -> Outcome {
        Outcome {
            result,
            code,
            from: self.from.clone(),
            to: self.to.clone(),
            detail: detail.into(),
        }
    }

    /// The target pool (set by `read`).
    pub fn target(&self) -> &str {
        self.to.as_deref().unwrap_or_default()
    }

    /// The nginx files (read by `read`).
    pub fn files(&self) -> Result<&NginxFiles, Failed> {
        self.files
            .as_ref()
            .ok_or_else(|| Failed::new(Cause::Config, "the nginx files were not read"))
    }
}

/// The undo, carried out for real.
impl Effects for Run<'_> {
    fn write(&mut self, path: &std::path::Path, bytes: &[u8]) -> Result<(), String> {
        self.writer.restore(path, bytes)
    }

    fn reload(&mut self) -> Result<(), String> {
        let before = self.nginx.generation()?;
        self.reload_and_prove(before.as_ref())?;
        self.undo_reloaded = Some(before);
        Ok(())
    }

    /// As the switch's verify: the old pool answers in a row, then (after
    /// the undo's reload) the workers that ran the new version no longer
    /// accept connections, within the same `[verify] timeout`.
    fn verify(&mut self, pool: &str) -> Result<String, String> {
        let t = std::time::Instant::now();
        let timeout = self.cfg.verify.timeout;
        let expect = self.cfg.pools[pool].expect.clone();
        let (answered, _) = self.verify_within(&expect, timeout)?;
        match self.undo_reloaded.take() {
            Some(before) => {
                let (accepting, _) = self.old_workers_stop_accepting(before, t + timeout)?;
                Ok(format!("{answered}; {accepting}"))
            }
            None => Ok(answered),
        }
    }

    fn put_flag(&mut self, path: &std::path::Path, present: bool) -> Result<(), String> {
        let pool = self.from.clone().unwrap_or_default();
        crate::flag::dir::put(path, present, &crate::flag::note(&pool))
    }

    fn note(&mut self, text: &str) {
        self.out.note(text);
    }
}
