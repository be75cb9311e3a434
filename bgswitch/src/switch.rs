//! The switch as explicit steps: lock, read, gate, smoke, edit (+ test),
//! reload (+ proof), verify, soak, drain, journal. Each step is reported
//! as it ends. Every failure after the edit puts the exact old bytes back;
//! after a reload it reloads again and verifies the old pool.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::config::Config;
use crate::http::{self, Url};
use crate::nginx::{self, Generation, Nginx};
use crate::pools::NginxFiles;
use crate::report::Reporter;
use crate::state::{self, Lock, LockError};

/// What the command asked for.
#[derive(Debug, Clone, Default)]
pub struct SwitchOptions {
    /// Target pool; default: the pool that is not live.
    pub to: Option<String>,
    pub dry_run: bool,
    pub no_drain: bool,
    /// Overrides `[soak] duration`.
    pub soak: Option<Duration>,
    /// Recorded in the journal: `switch` or `rollback`.
    pub command: String,
}

/// How a run ended: the result word of the last line and the exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub result: &'static str,
    pub code: u8,
    pub from: Option<String>,
    pub to: Option<String>,
    pub detail: String,
}

/// Exit codes of `switch` and `rollback` (DESIGN.md).
pub mod exit {
    pub const OK: u8 = 0;
    pub const GATE: u8 = 1;
    pub const CONFIG: u8 = 2;
    pub const NGINX_TEST: u8 = 3;
    pub const RELOAD_OR_VERIFY: u8 = 4;
    pub const SOAK: u8 = 5;
    pub const LOCKED: u8 = 6;
    pub const ROLLBACK_FAILED: u8 = 7;
}

/// Runs a switch (or a rollback, which is a switch to the previous pool).
pub fn run(cfg: &Config, opts: &SwitchOptions, out: &mut Reporter) -> Outcome {
    let started = Instant::now();
    for note in cfg.insecure_notes() {
        out.note(&note);
    }
    let mut run = Run {
        cfg,
        opts,
        out,
        nginx: Nginx::new(cfg.nginx.clone()),
        from: None,
        to: None,
        file: None,
        repair: false,
    };
    let outcome = run.steps();
    let took = started.elapsed();
    if let (Some(file), "switched" | "rolled_back" | "failed") = (run.file.clone(), outcome.result)
    {
        run.journal(&outcome, &file, took);
    }
    run.out.result(
        outcome.result,
        outcome.from.as_deref(),
        outcome.to.as_deref(),
        took,
        &outcome.detail,
    );
    outcome
}

struct Run<'a> {
    cfg: &'a Config,
    opts: &'a SwitchOptions,
    out: &'a mut Reporter,
    nginx: Nginx,
    from: Option<String>,
    to: Option<String>,
    /// The nginx file edited, once it was written.
    file: Option<PathBuf>,
    /// Finishing an interrupted switch: the file already says the target.
    repair: bool,
}

/// The bytes to put back, and where.
struct Written {
    path: PathBuf,
    old: Vec<u8>,
}

impl Run<'_> {
    fn outcome(&self, result: &'static str, code: u8, detail: impl Into<String>) -> Outcome {
        Outcome {
            result,
            code,
            from: self.from.clone(),
            to: self.to.clone(),
            detail: detail.into(),
        }
    }

    fn steps(&mut self) -> Outcome {
        // 1. lock
        let t = Instant::now();
        let _lock = if self.opts.dry_run {
            None
        } else {
            match Lock::try_acquire(&self.cfg.state.lock) {
                Ok(l) => {
                    self.out.step(
                        "lock",
                        true,
                        t.elapsed(),
                        &l.path.display().to_string(),
                        json!({}),
                    );
                    Some(l)
                }
                Err(e @ LockError::Held(_)) => {
                    self.out
                        .step("lock", false, t.elapsed(), &e.to_string(), json!({}));
                    return self.outcome("aborted", exit::LOCKED, e.to_string());
                }
                Err(e) => {
                    self.out
                        .step("lock", false, t.elapsed(), &e.to_string(), json!({}));
                    return self.outcome("aborted", exit::CONFIG, e.to_string());
                }
            }
        };

        // 2. read
        let t = Instant::now();
        let files = match self.read() {
            Ok(f) => f,
            Err(e) => {
                self.out.step("read", false, t.elapsed(), &e, json!({}));
                return self.outcome("aborted", exit::CONFIG, e);
            }
        };
        for note in &files.notes {
            self.out.note(note);
        }
        let live = match files.live(self.cfg) {
            Ok(l) => l,
            Err(e) => {
                self.out
                    .step("read", false, t.elapsed(), &e.to_string(), json!({}));
                return self.outcome("aborted", exit::CONFIG, e.to_string());
            }
        };
        self.from = live.clone();
        let target = match (&self.opts.to, &live) {
            (Some(to), _) if !self.cfg.pools.contains_key(to) => {
                let names: Vec<&str> = self.cfg.pools.keys().map(String::as_str).collect();
                let msg = format!("--to {to}: no such pool (pools: {})", names.join(", "));
                self.out.step("read", false, t.elapsed(), &msg, json!({}));
                return self.outcome("aborted", exit::CONFIG, msg);
            }
            (Some(to), _) => to.clone(),
            (None, Some(live)) => self
                .cfg
                .pools
                .keys()
                .find(|k| *k != live)
                .cloned()
                .unwrap_or_default(),
            (None, None) => {
                let msg = format!(
                    "{} matches no pool (or both): say which pool to make live with --to",
                    files.path().display()
                );
                self.out.step("read", false, t.elapsed(), &msg, json!({}));
                return self.outcome("aborted", exit::CONFIG, msg);
            }
        };
        self.to = Some(target.clone());
        let detail = format!(
            "{}: live pool {}",
            files.path().display(),
            live.as_deref().unwrap_or("(none)")
        );
        self.out.step(
            "read",
            true,
            t.elapsed(),
            &detail,
            json!({ "live": live, "target": target }),
        );
        if live.as_deref() == Some(target.as_str()) {
            // The file says so; the load balancer must agree. A run killed
            // between its write and its reload leaves a file nginx has not
            // loaded: then this run finishes that switch.
            let expect = self.cfg.pools[&target].expect.clone();
            let quick = self.cfg.verify.timeout.min(Duration::from_secs(2));
            if self.opts.dry_run || self.cfg.verify.url.is_none() {
                return self.outcome("unchanged", exit::OK, format!("{target} is already live"));
            }
            match self.verify_within(&expect, quick) {
                Ok(_) => {
                    return self.outcome("unchanged", exit::OK, format!("{target} is already live"))
                }
                Err(e) => {
                    self.out.note(&format!(
                        "{} says {target} is live, but {e}: finishing an interrupted switch (nginx -t, reload, verify)",
                        files.path().display()
                    ));
                    self.repair = true;
                    self.from = self.cfg.pools.keys().find(|k| **k != target).cloned();
                }
            }
        }

        // Plan the edit now, so a dry run and a bad pool fail before anything.
        let planned = match self.repair {
            true => Ok(files.doc().clone()),
            false => files.plan(self.cfg, live.as_deref(), &target),
        };
        let planned = match planned {
            Ok(doc) => doc,
            Err(e) => {
                self.out
                    .step("edit", false, Duration::ZERO, &e.to_string(), json!({}));
                return self.outcome("aborted", exit::CONFIG, e.to_string());
            }
        };
        let path = files.path();
        let old = files.doc().as_bytes().to_vec();
        if self.opts.dry_run {
            return self.dry_run(
                &files,
                &path,
                &old,
                planned.as_bytes(),
                live.as_deref(),
                &target,
            );
        }

        // 3. gate
        if let Err(e) = self.gate(&target) {
            return self.outcome("aborted", exit::GATE, e);
        }

        // 4. smoke, straight to the target pool
        if let Err(e) = self.smoke_direct(&files, &target) {
            return self.outcome("aborted", exit::GATE, e);
        }

        // 5. edit + test
        let t = Instant::now();
        let write = if self.repair {
            // The file already holds the target's version.
            Ok(Written {
                path: path.clone(),
                old: old.clone(),
            })
        } else {
            self.write(&path, &old, planned.as_bytes())
        };
        let written = match write {
            Ok(w) => {
                self.file = Some(path.clone());
                w
            }
            Err(e) => {
                self.out.step("edit", false, t.elapsed(), &e, json!({}));
                return self.outcome("aborted", exit::CONFIG, e);
            }
        };
        let test_started = Instant::now();
        let tested = self.nginx.test();
        let test_ms = test_started.elapsed().as_millis() as u64;
        if let Err(e) = tested {
            let restored = self.restore(&written);
            let detail = format!("{e}; {restored}");
            self.out
                .step("edit", false, t.elapsed(), &detail, json!({ "file": path }));
            return self.outcome("aborted", exit::NGINX_TEST, detail);
        }
        let changed = changed_lines(&old, planned.as_bytes());
        self.out.step(
            "edit",
            true,
            t.elapsed(),
            &format!(
                "{}: {changed} line(s) changed, nginx -t passed",
                path.display()
            ),
            json!({ "file": path, "lines_changed": changed, "test_ms": test_ms }),
        );

        // 6. reload + proof
        let t = Instant::now();
        let before = match self.nginx.generation() {
            Ok(b) => b,
            Err(e) => {
                self.out.step("reload", false, t.elapsed(), &e, json!({}));
                let back = self.roll_back(&written, live.as_deref(), false);
                return back
                    .unwrap_or_else(|| self.outcome("rolled_back", exit::RELOAD_OR_VERIFY, e));
            }
        };
        if let Err(e) = self.reload_and_prove(before.as_ref()) {
            self.out.step("reload", false, t.elapsed(), &e, json!({}));
            // The reload did not take: nginx still runs the old config, and
            // the old bytes back on disk are all a rollback needs (unless
            // the reload took late, which this check catches).
            // Without a pid file nobody knows whether it took: reload the
            // old bytes to be sure.
            let took_late = match (&before, self.nginx.generation()) {
                (Some(b), Ok(Some(now))) => now.workers.iter().any(|w| !b.workers.contains(w)),
                (None, _) => true,
                _ => false,
            };
            let back = self.roll_back(&written, live.as_deref(), took_late);
            return back.unwrap_or_else(|| self.outcome("rolled_back", exit::RELOAD_OR_VERIFY, e));
        }
        let proof = match &before {
            Some(_) => "new worker processes started".to_string(),
            None => "no pid_file: the reload is proven by [verify] alone".to_string(),
        };
        self.out
            .step("reload", true, t.elapsed(), &proof, json!({}));

        // 7. verify through the load balancer
        let t = Instant::now();
        match self.verify(&self.cfg.pools[&target].expect.clone()) {
            Ok((detail, handover_ms)) => self.out.step(
                "verify",
                true,
                t.elapsed(),
                &detail,
                json!({ "handover_ms": handover_ms }),
            ),
            Err(e) => {
                self.out.step("verify", false, t.elapsed(), &e, json!({}));
                let back = self.roll_back(&written, live.as_deref(), true);
                return back
                    .unwrap_or_else(|| self.outcome("rolled_back", exit::RELOAD_OR_VERIFY, e));
            }
        }
        if !self.cfg.smoke.requests.is_empty() {
            let t = Instant::now();
            if let Err(e) = self.smoke_through_lb() {
                self.out.step("smoke-lb", false, t.elapsed(), &e, json!({}));
                let back = self.roll_back(&written, live.as_deref(), true);
                return back
                    .unwrap_or_else(|| self.outcome("rolled_back", exit::RELOAD_OR_VERIFY, e));
            }
            self.out.step(
                "smoke-lb",
                true,
                t.elapsed(),
                "smoke requests passed through the load balancer",
                json!({}),
            );
        }

        // 8. soak
        let soak = self.opts.soak.unwrap_or(self.cfg.soak.duration);
        if !soak.is_zero() {
            let t = Instant::now();
            if let Err(e) = self.soak(&target, soak) {
                self.out.step("soak", false, t.elapsed(), &e, json!({}));
                let back = self.roll_back(&written, live.as_deref(), true);
                return back.unwrap_or_else(|| self.outcome("rolled_back", exit::SOAK, e));
            }
            self.out
                .step("soak", true, t.elapsed(), "no breach", json!({}));
        }

        // 9. drain the old pool once nginx stopped sending it requests (in
        // a finished interrupted switch, the file already named the target:
        // the old pool is the other one)
        if self.cfg.drain.enabled && !self.opts.no_drain {
            if let Some(old_pool) = self.from.clone().as_deref() {
                let t = Instant::now();
                let (ok, detail) = self.drain(old_pool, before.as_ref());
                self.out.step("drain", ok, t.elapsed(), &detail, json!({}));
            }
        }

        // 10. journal (written by `run` once the result is known)
        self.outcome("switched", exit::OK, "")
    }

    fn read(&self) -> Result<NginxFiles, String> {
        let files = NginxFiles::load(self.cfg).map_err(|e| e.to_string())?;
        files.validate(self.cfg).map_err(|e| e.to_string())?;
        if !self.opts.dry_run {
            // A pid file that cannot be read would make the proof impossible:
            // say so before anything changes.
            self.nginx.generation()?;
        }
        // A soak that cannot read its log would fail after the switch.
        let soak = self.opts.soak.unwrap_or(self.cfg.soak.duration);
        if let (false, Some(log)) = (soak.is_zero(), &self.cfg.soak.access_log) {
            std::fs::File::open(log)
                .map_err(|e| format!("soak.access_log {}: {e}", log.display()))?;
        }
        Ok(files)
    }

    fn dry_run(
        &mut self,
        files: &NginxFiles,
        path: &Path,
        old: &[u8],
        new: &[u8],
        live: Option<&str>,
        target: &str,
    ) -> Outcome {
        let cfg = self.cfg;
        let health = cfg.pools[target].health.len();
        let mut plan = vec![
            format!(
                "gate: {health} sidecar(s) of {target} must report ready (timeout {:?})",
                cfg.gate.timeout
            ),
            format!(
                "edit: {} ({} line(s)), then `{}`",
                path.display(),
                changed_lines(old, new),
                cfg.nginx.test_command.join(" ")
            ),
            format!(
                "reload: `{}`, proven by {}",
                cfg.nginx.reload_command.join(" "),
                if self.nginx.can_prove() {
                    "new worker processes"
                } else {
                    "[verify] alone"
                }
            ),
        ];
        if let Some(url) = &cfg.verify.url {
            plan.push(format!(
                "verify: {url} answers from {} {} times in a row",
                cfg.pools[target].expect, cfg.verify.consecutive
            ));
        }
        if let (Some(old_pool), true) = (live, cfg.drain.enabled && !self.opts.no_drain) {
            plan.push(format!(
                "drain: {} sidecar(s) of {old_pool} after the old workers exit",
                cfg.pools[old_pool].health.len()
            ));
        }
        let _ = files;
        for p in &plan {
            self.out.note(p);
        }
        let diff = similar::TextDiff::from_lines(
            &*String::from_utf8_lossy(old),
            &*String::from_utf8_lossy(new),
        )
        .unified_diff()
        .header(
            &format!("a/{}", path.display()),
            &format!("b/{}", path.display()),
        )
        .to_string();
        if self.out.events.is_empty() || !diff.is_empty() {
            self.out.note(&diff);
        }
        self.outcome("unchanged", exit::OK, "dry run: nothing changed")
    }

    fn gate(&mut self, target: &str) -> Result<(), String> {
        let t = Instant::now();
        let urls = self.cfg.pools[target].health.clone();
        if urls.is_empty() {
            self.out.step(
                "gate",
                true,
                t.elapsed(),
                &format!("pool {target} has no sidecars configured"),
                json!({}),
            );
            return Ok(());
        }
        let deadline = t + self.cfg.gate.timeout;
        let mut undrained: Vec<String> = Vec::new();
        loop {
            let statuses: Vec<(String, String)> = urls
                .iter()
                .map(|u| {
                    (
                        u.clone(),
                        sidecar_status(&self.cfg.gate.client, u, self.cfg.gate.interval),
                    )
                })
                .collect();
            // A pool drained by an earlier switch is brought back: it is the
            // one being made live (a rollback, a switch back).
            for (u, status) in &statuses {
                if matches!(status.as_str(), "draining" | "drained") && !undrained.contains(u) {
                    let failed = match self.sidecar_post(u, "undrain") {
                        Ok((200, url)) => {
                            self.out.note(&format!("{url}: was {status}, undrained"));
                            None
                        }
                        Ok((409, url)) => Some(format!(
                            "{url} answered 409: its app was stopped, the pool cannot serve again; nothing changed"
                        )),
                        Ok((code, url)) => Some(format!(
                            "{url} answered {code} (is [drain] token set?); nothing changed"
                        )),
                        Err(e) => Some(format!("{e}; nothing changed")),
                    };
                    if let Some(msg) = failed {
                        self.out.step("gate", false, t.elapsed(), &msg, json!({}));
                        return Err(msg);
                    }
                    undrained.push(u.clone());
                }
            }
            let ready = statuses.iter().filter(|(_, s)| s == "ready").count();
            if ready == urls.len() {
                self.out.step(
                    "gate",
                    true,
                    t.elapsed(),
                    &format!("{ready}/{} sidecars of {target} ready", urls.len()),
                    json!({}),
                );
                return Ok(());
            }
            if Instant::now() >= deadline {
                let not: Vec<String> = statuses
                    .iter()
                    .filter(|(_, s)| s != "ready")
                    .map(|(u, s)| format!("{u}: {s}"))
                    .collect();
                let msg = format!(
                    "{ready}/{} sidecars of {target} ready after {:?}; nothing changed ({})",
                    urls.len(),
                    self.cfg.gate.timeout,
                    not.join("; ")
                );
                self.out.step("gate", false, t.elapsed(), &msg, json!({}));
                return Err(msg);
            }
            self.out.progress(&format!(
                "gate: {ready}/{} ready ({}s)",
                urls.len(),
                t.elapsed().as_secs()
            ));
            std::thread::sleep(
                self.cfg
                    .gate
                    .interval
                    .min(deadline.saturating_duration_since(Instant::now())),
            );
        }
    }

    fn smoke_direct(&mut self, files: &NginxFiles, target: &str) -> Result<(), String> {
        if self.cfg.smoke.requests.is_empty() {
            return Ok(());
        }
        let t = Instant::now();
        let addresses = files.pool_addresses(self.cfg, target);
        if addresses.is_empty() {
            self.out.note(&format!("smoke: no addresses known for pool {target}; checked through the load balancer only"));
            return Ok(());
        }
        for a in &addresses {
            // A unix socket (or an address HTTP cannot reach) is smoked
            // through the load balancer only.
            let base = match Url::from_address(a) {
                Ok(base) if !a.starts_with("unix:") => base,
                _ => {
                    self.out.note(&format!(
                        "smoke: {a} is not reachable over TCP; checked through the load balancer only"
                    ));
                    continue;
                }
            };
            if let Err(e) = self.smoke_at(&http::Client::default(), &base) {
                let msg = format!("{e}; nothing changed");
                self.out.step("smoke", false, t.elapsed(), &msg, json!({}));
                return Err(msg);
            }
        }
        self.out.step(
            "smoke",
            true,
            t.elapsed(),
            &format!(
                "smoke requests passed on {} server(s) of {target}",
                addresses.len()
            ),
            json!({}),
        );
        Ok(())
    }

    fn smoke_through_lb(&self) -> Result<(), String> {
        let Some(url) = &self.cfg.verify.url else {
            return Ok(());
        };
        let base = Url::parse(url).map_err(|e| format!("verify.url: {e}"))?;
        self.smoke_at(&self.cfg.verify.client, &base)
    }

    fn smoke_at(&self, client: &http::Client, base: &Url) -> Result<(), String> {
        for r in &self.cfg.smoke.requests {
            let url = base.with_path(&r.path);
            match client.request(&r.method, &url, &[], None, Duration::from_secs(5)) {
                Ok(resp) if resp.status == r.status => {}
                Ok(resp) => {
                    return Err(format!(
                        "smoke: {} {url} answered {}, expected {}",
                        r.method, resp.status, r.status
                    ))
                }
                Err(e) => return Err(format!("smoke: {} {url}: {e}", r.method)),
            }
        }
        Ok(())
    }

    /// Writes the new bytes atomically, keeping the old ones in the state
    /// directory (never next to the file, where an include glob could load
    /// them).
    fn write(&mut self, path: &Path, old: &[u8], new: &[u8]) -> Result<Written, String> {
        let backup_dir = self
            .cfg
            .state
            .journal
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
            .join("backups");
        std::fs::create_dir_all(&backup_dir)
            .map_err(|e| format!("{}: {e}", backup_dir.display()))?;
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let backup = backup_dir.join(format!("{name}.{stamp}"));
        // The backup first (a run killed right after the edit still left
        // one), then the edit.
        if let Err(e) = std::fs::write(&backup, old) {
            self.out.note(&format!(
                "could not keep a backup at {}: {e}",
                backup.display()
            ));
        }
        prune_backups(&backup_dir, &name, KEEP_BACKUPS);
        nginx_edit::write::write_atomic(path, new, None)
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
        Ok(Written {
            path: path.to_path_buf(),
            old: old.to_vec(),
        })
    }

    /// Puts the old bytes back; says what happened.
    fn restore(&self, w: &Written) -> String {
        match nginx_edit::write::write_atomic(&w.path, &w.old, None) {
            Ok(_) => format!("{} restored to its exact old bytes", w.path.display()),
            Err(e) => format!("COULD NOT RESTORE {}: {e}", w.path.display()),
        }
    }

    /// Reloads and waits for workers that were not in `before` (no proof
    /// without a pid file).
    fn reload_and_prove(&self, before: Option<&Generation>) -> Result<(), String> {
        self.nginx.reload().map_err(|e| e.to_string())?;
        if let Some(before) = before {
            self.nginx.wait_new_generation(before)?;
        }
        Ok(())
    }

    /// After a failed step: old bytes back, and if nginx was reloaded,
    /// reload again and verify the old pool. `None` when that worked (the
    /// caller reports `rolled_back`); an `exit 7` outcome when it did not.
    fn roll_back(
        &mut self,
        w: &Written,
        old_pool: Option<&str>,
        reloaded: bool,
    ) -> Option<Outcome> {
        let t = Instant::now();
        if self.repair {
            // There is no older version to go back to: the file was already
            // the target's when this run began.
            let msg = format!(
                "{} is unchanged (it already said {}); nginx {} it",
                w.path.display(),
                self.to.as_deref().unwrap_or("the target"),
                if reloaded {
                    "was reloaded with"
                } else {
                    "did not load"
                }
            );
            self.out
                .step("rollback", false, t.elapsed(), &msg, json!({}));
            return Some(self.outcome("failed", exit::RELOAD_OR_VERIFY, msg));
        }
        if let Err(e) = nginx_edit::write::write_atomic(&w.path, &w.old, None) {
            let msg = format!(
                "ROLLBACK FAILED: could not write the old bytes back to {} ({e}); the file holds the NEW version; nginx is running the {} configuration",
                w.path.display(),
                if reloaded { "new" } else { "old (its reload did not take)" }
            );
            self.out
                .step("rollback", false, t.elapsed(), &msg, json!({}));
            return Some(self.outcome("failed", exit::ROLLBACK_FAILED, msg));
        }
        let before = if reloaded {
            self.nginx.generation()
        } else {
            Ok(None)
        };
        let reload = match before {
            Ok(before) if reloaded => self.reload_and_prove(before.as_ref()),
            Ok(_) => Ok(()),
            Err(e) => Err(e),
        };
        // A failed reload is not the last word: what the load balancer
        // answers is (nginx may not have taken the new version either).
        let reload_failed = reload.err();
        if let Some(pool) = old_pool {
            let expect = self.cfg.pools[pool].expect.clone();
            if let Err(e) = self.verify(&expect) {
                let msg = match &reload_failed {
                    Some(r) => format!(
                        "ROLLBACK FAILED: {} holds the exact old bytes again, but reloading nginx with them failed ({r}) and the load balancer does not answer from {pool}: {e}; nginx may still run the new configuration",
                        w.path.display()
                    ),
                    None => format!(
                        "ROLLBACK FAILED: {} holds the exact old bytes and nginx reloaded them, but the load balancer does not answer from {pool}: {e}",
                        w.path.display()
                    ),
                };
                self.out
                    .step("rollback", false, t.elapsed(), &msg, json!({}));
                return Some(self.outcome("failed", exit::ROLLBACK_FAILED, msg));
            }
        } else if let Some(r) = &reload_failed {
            let msg = format!(
                "ROLLBACK FAILED: {} holds the exact old bytes again, but reloading nginx with them failed ({r}); nginx may still run the new configuration",
                w.path.display()
            );
            self.out
                .step("rollback", false, t.elapsed(), &msg, json!({}));
            return Some(self.outcome("failed", exit::ROLLBACK_FAILED, msg));
        }
        if let Some(r) = &reload_failed {
            self.out.note(&format!(
                "reloading the old bytes failed ({r}), but the load balancer answers from the old pool"
            ));
        }
        self.out.step(
            "rollback",
            true,
            t.elapsed(),
            &format!(
                "{} restored to its exact old bytes and reloaded{}",
                w.path.display(),
                old_pool
                    .map(|p| format!("; {p} verified"))
                    .unwrap_or_default()
            ),
            json!({}),
        );
        None
    }

    /// `consecutive` answers in a row from the pool that must answer.
    /// Also returns how long other answers kept coming (nginx's handover:
    /// its master lets the old workers accept for 100 ms after starting the
    /// new ones), in ms.
    fn verify(&mut self, expect: &str) -> Result<(String, u64), String> {
        self.verify_within(expect, self.cfg.verify.timeout)
    }

    /// [`Run::verify`] bounded by `timeout`.
    fn verify_within(&mut self, expect: &str, timeout: Duration) -> Result<(String, u64), String> {
        let v = &self.cfg.verify;
        let Some(url) = &v.url else {
            return Ok(("no [verify] url configured".into(), 0));
        };
        let url = Url::parse(url).map_err(|e| format!("verify.url: {e}"))?;
        let started = Instant::now();
        let deadline = started + timeout;
        let mut handover = Duration::ZERO;
        let mut streak = 0;
        let mut last = String::from("no answer yet");
        while Instant::now() < deadline {
            match v
                .client
                .request("GET", &url, &[], None, Duration::from_secs(2))
            {
                Ok(resp) => {
                    let seen = match (&v.header, &v.json_field) {
                        (Some(h), _) => resp.header(h).map(str::to_string),
                        (None, Some(f)) => resp.json_field(f),
                        (None, None) => None,
                    };
                    if seen.as_deref() == Some(expect) && resp.status < 500 {
                        streak += 1;
                        if streak >= v.consecutive {
                            return Ok((
                                format!("{url} answered from {expect} {streak} times in a row"),
                                handover.as_millis() as u64,
                            ));
                        }
                        continue;
                    }
                    streak = 0;
                    handover = started.elapsed();
                    last = format!(
                        "status {}, pool {:?}",
                        resp.status,
                        seen.unwrap_or_default()
                    );
                }
                Err(e) => {
                    streak = 0;
                    last = e.to_string();
                }
            }
            self.out
                .progress(&format!("verify: waiting for {expect} ({last})"));
            // Old workers accept until they see the master's quit signal
            // (about 100 ms): poll tightly through that handover, then back
            // off, not to churn connections through a load balancer under
            // load while a wrong pool keeps answering.
            let pause = if started.elapsed() < Duration::from_millis(300) {
                Duration::from_millis(1)
            } else {
                Duration::from_millis(25)
            };
            std::thread::sleep(pause.min(deadline.saturating_duration_since(Instant::now())));
        }
        Err(format!(
            "{url} did not answer from {expect} {} times in a row within {timeout:?} (last: {last})",
            v.consecutive
        ))
    }

    /// Watches the access log's 5xx ratio and the target's sidecars.
    fn soak(&mut self, target: &str, duration: Duration) -> Result<(), String> {
        let mut log = match &self.cfg.soak.access_log {
            Some(p) => Some(
                crate::soak::LogTail::open(p)
                    .map_err(|e| format!("soak.access_log {}: {e}", p.display()))?,
            ),
            None => None,
        };
        let deadline = Instant::now() + duration;
        let (mut total, mut errors) = (0u64, 0u64);
        loop {
            if let Some(tail) = log.as_mut() {
                let (t, e) = tail
                    .read_statuses()
                    .map_err(|e| format!("reading the access log: {e}"))?;
                total += t;
                errors += e;
                let ratio = if total == 0 {
                    0.0
                } else {
                    errors as f64 / total as f64
                };
                if total >= 20 && ratio > self.cfg.soak.max_5xx_ratio {
                    return Err(format!(
                        "5xx ratio {ratio:.3} over {total} requests exceeds {}",
                        self.cfg.soak.max_5xx_ratio
                    ));
                }
            }
            for url in &self.cfg.pools[target].health {
                let s = sidecar_status(&self.cfg.gate.client, url, Duration::from_secs(1));
                if s != "ready" {
                    return Err(format!("{url} reports {s}"));
                }
            }
            if Instant::now() >= deadline {
                let ratio = if total == 0 {
                    0.0
                } else {
                    errors as f64 / total as f64
                };
                if total > 0 && ratio > self.cfg.soak.max_5xx_ratio {
                    return Err(format!(
                        "5xx ratio {ratio:.3} over {total} requests exceeds {}",
                        self.cfg.soak.max_5xx_ratio
                    ));
                }
                return Ok(());
            }
            self.out
                .progress(&format!("soak: {total} requests, {errors} 5xx"));
            std::thread::sleep(
                Duration::from_millis(250).min(deadline.saturating_duration_since(Instant::now())),
            );
        }
    }

    /// Waits for the old workers, then drains the old pool's sidecars.
    fn drain(&mut self, old_pool: &str, before: Option<&Generation>) -> (bool, String) {
        let mut notes = Vec::new();
        let mut ok = true;
        if let Some(gen) = before {
            let left =
                nginx::wait_exited(gen.master, &gen.workers, self.cfg.drain.old_workers_timeout);
            if left.is_empty() {
                notes.push(format!("{} old worker(s) exited", gen.workers.len()));
            } else {
                notes.push(format!(
                    "{} old worker(s) still running after {:?}: draining anyway",
                    left.len(),
                    self.cfg.drain.old_workers_timeout
                ));
            }
        } else {
            notes.push("no pid_file: cannot wait for the old workers".into());
        }
        let urls = self.cfg.pools[old_pool].health.clone();
        for u in &urls {
            match self.sidecar_post(u, "drain") {
                Ok((202 | 200, _)) => {}
                Ok((status, url)) => {
                    ok = false;
                    notes.push(format!("{url} answered {status}"));
                }
                Err(e) => {
                    ok = false;
                    notes.push(e);
                }
            }
        }
        let wait = self.cfg.drain.wait_drained;
        if !wait.is_zero() && !urls.is_empty() {
            let deadline = Instant::now() + wait;
            loop {
                let pending: Vec<&String> = urls
                    .iter()
                    .filter(|u| {
                        sidecar_status(&self.cfg.gate.client, u, Duration::from_secs(1))
                            != "drained"
                    })
                    .collect();
                if pending.is_empty() {
                    notes.push(format!("{} sidecar(s) of {old_pool} drained", urls.len()));
                    break;
                }
                if Instant::now() >= deadline {
                    ok = false;
                    notes.push(format!(
                        "not drained within {wait:?}: {}",
                        pending
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                    break;
                }
                self.out.progress(&format!(
                    "drain: {} sidecar(s) still draining",
                    pending.len()
                ));
                std::thread::sleep(Duration::from_millis(100));
            }
        } else if !urls.is_empty() {
            notes.push(format!(
                "drain requested from {} sidecar(s) of {old_pool}",
                urls.len()
            ));
        }
        (ok, notes.join("; "))
    }

    fn journal(&mut self, outcome: &Outcome, path: &Path, took: Duration) {
        let entry = state::Entry {
            time: humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string(),
            command: if self.opts.command.is_empty() {
                "switch".into()
            } else {
                self.opts.command.clone()
            },
            from: outcome.from.clone(),
            to: outcome.to.clone(),
            result: outcome.result.to_string(),
            ms: took.as_millis() as u64,
            file: path.display().to_string(),
            detail: outcome.detail.clone(),
        };
        let t = Instant::now();
        match state::append(&self.cfg.state.journal, &entry) {
            Ok(()) => self.out.step(
                "journal",
                true,
                t.elapsed(),
                &self.cfg.state.journal.display().to_string(),
                json!({}),
            ),
            Err(e) => self.out.step(
                "journal",
                false,
                t.elapsed(),
                &format!("{}: {e}", self.cfg.state.journal.display()),
                json!({}),
            ),
        }
    }
}

impl Run<'_> {
    /// POSTs to a sidecar's `/health/ACTION` (`drain`, `undrain`) with the
    /// configured token: the status code and the URL, or why no answer.
    fn sidecar_post(&self, health_url: &str, action: &str) -> Result<(u16, String), String> {
        let health = Url::parse(health_url).map_err(|e| format!("{health_url}: {e}"))?;
        let url = health.with_path(&format!("{}/{action}", health.path.trim_end_matches('/')));
        let auth = self.cfg.drain.token.as_ref().map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> =
            auth.iter().map(|a| ("Authorization", a.as_str())).collect();
        let client = &self.cfg.gate.client;
        match client.request("POST", &url, &headers, None, Duration::from_secs(5)) {
            Ok(r) => Ok((r.status, url.to_string())),
            Err(e) => Err(format!("{url}: {e}")),
        }
    }
}

/// Backups kept per site file in `<journal dir>/backups`.
const KEEP_BACKUPS: usize = 50;

/// Removes all but the newest `keep` backups of the file called `name`
/// (`NAME.MILLIS`). Best effort.
fn prune_backups(dir: &Path, name: &str, keep: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let prefix = format!("{name}.");
    let mut stamped: Vec<(u128, PathBuf)> = entries
        .flatten()
        .filter_map(|e| {
            let file = e.file_name().to_string_lossy().into_owned();
            let stamp = file.strip_prefix(&prefix)?.parse().ok()?;
            Some((stamp, e.path()))
        })
        .collect();
    stamped.sort();
    let excess = stamped.len().saturating_sub(keep);
    for (_, path) in stamped.into_iter().take(excess) {
        let _ = std::fs::remove_file(path);
    }
}

/// A sidecar's `status` field, or a short reason it has none.
pub fn sidecar_status(client: &http::Client, url: &str, timeout: Duration) -> String {
    let Ok(u) = Url::parse(url) else {
        return "bad url".into();
    };
    match client.request(
        "GET",
        &u,
        &[],
        None,
        timeout.max(Duration::from_millis(200)),
    ) {
        Ok(r) => r
            .json_field("status")
            .unwrap_or_else(|| format!("HTTP {} without a status", r.status)),
        Err(e) => format!("unreachable ({e})"),
    }
}

fn changed_lines(old: &[u8], new: &[u8]) -> usize {
    let old = String::from_utf8_lossy(old);
    let new = String::from_utf8_lossy(new);
    similar::TextDiff::from_lines(&*old, &*new)
        .iter_all_changes()
        .filter(|c| c.tag() == similar::ChangeTag::Insert)
        .count()
}

#[cfg(test)]
mod backup_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn only_the_newest_backups_of_a_file_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        for stamp in [5u32, 1, 3, 2, 4] {
            std::fs::write(dir.path().join(format!("app.conf.{stamp}")), "x").unwrap();
        }
        std::fs::write(dir.path().join("other.conf.1"), "x").unwrap();
        std::fs::write(dir.path().join("app.conf.notes"), "x").unwrap();
        prune_backups(dir.path(), "app.conf", 2);
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["app.conf.4", "app.conf.5", "app.conf.notes", "other.conf.1"]
        );
    }
}
