//! Each failing step x what was done -> what is undone, in which order,
//! and the exit code; then the undo carried out against a scripted world.

use super::*;

fn wrote(path: &str) -> Change {
    Change::Wrote {
        path: path.into(),
        old: path.as_bytes().to_vec(),
    }
}

fn restore_of(path: &str) -> Undo {
    Undo::Restore {
        path: path.into(),
        old: path.as_bytes().to_vec(),
    }
}

fn record(changes: &[Change]) -> Record {
    let mut r = Record::default();
    for c in changes {
        r.push(c.clone());
    }
    r
}

fn verify_blue() -> Undo {
    Undo::VerifyOld {
        pool: "blue".into(),
    }
}

#[test]
fn failures_before_anything_was_written_abort_with_their_code() {
    let nothing = Record::default();
    for (cause, code) in [
        (Cause::Locked, 6),
        (Cause::Config, 2),
        (Cause::NotReady, 1),
        (Cause::NginxTest, 3),
    ] {
        assert_eq!(
            decide(cause, &nothing, Some("blue")),
            Decision::Abort { code, undo: vec![] },
            "{cause:?}"
        );
    }
}

#[test]
fn a_failed_nginx_test_puts_the_old_bytes_back_and_exits_3() {
    let r = record(&[wrote("app.conf")]);
    assert_eq!(
        decide(Cause::NginxTest, &r, Some("blue")),
        Decision::Abort {
            code: 3,
            undo: vec![restore_of("app.conf")]
        }
    );
    // several files: newest first
    let r = record(&[wrote("a.conf"), wrote("b.conf")]);
    assert_eq!(
        decide(Cause::NginxTest, &r, Some("blue")),
        Decision::Abort {
            code: 3,
            undo: vec![restore_of("b.conf"), restore_of("a.conf")]
        }
    );
}

#[test]
fn a_reload_that_did_not_take_restores_and_verifies_without_reloading() {
    let r = record(&[wrote("app.conf")]);
    assert_eq!(
        decide(Cause::Reload, &r, Some("blue")),
        Decision::RollBack {
            code: 4,
            undo: vec![restore_of("app.conf"), verify_blue()]
        }
    );
}

#[test]
fn after_a_reload_the_bytes_go_back_then_nginx_reloads_then_the_old_pool_answers() {
    let r = record(&[wrote("app.conf"), Change::Reloaded]);
    for (cause, code) in [(Cause::Reload, 4), (Cause::Verify, 4), (Cause::Soak, 5)] {
        assert_eq!(
            decide(cause, &r, Some("blue")),
            Decision::RollBack {
                code,
                undo: vec![restore_of("app.conf"), Undo::Reload, verify_blue()]
            },
            "{cause:?}"
        );
    }
    // no live pool before (`--to` on a file naming none): nothing to verify
    assert_eq!(
        decide(Cause::Verify, &r, None),
        Decision::RollBack {
            code: 4,
            undo: vec![restore_of("app.conf"), Undo::Reload]
        }
    );
}

#[test]
fn finishing_an_interrupted_switch_has_nothing_to_go_back_to() {
    let adopted = Change::Adopted {
        path: "app.conf".into(),
        old: b"green".to_vec(),
        target: "green".into(),
    };
    // before the reload: the bytes (the target's already) are written back
    assert_eq!(
        decide(
            Cause::NginxTest,
            &record(std::slice::from_ref(&adopted)),
            Some("blue")
        ),
        Decision::Abort {
            code: 3,
            undo: vec![Undo::Restore {
                path: "app.conf".into(),
                old: b"green".to_vec()
            }]
        }
    );
    assert_eq!(
        decide(
            Cause::Reload,
            &record(std::slice::from_ref(&adopted)),
            Some("blue")
        ),
        Decision::CannotRollBack {
            code: 4,
            message: "app.conf is unchanged (it already said green); nginx did not load it".into()
        }
    );
    // a soak breach too is exit 4 here
    assert_eq!(
        decide(
            Cause::Soak,
            &record(&[adopted, Change::Reloaded]),
            Some("blue")
        ),
        Decision::CannotRollBack {
            code: 4,
            message: "app.conf is unchanged (it already said green); nginx was reloaded with it"
                .into()
        }
    );
}

#[test]
fn a_step_after_the_switch_undoes_nothing() {
    let r = record(&[wrote("app.conf"), Change::Reloaded]);
    assert_eq!(
        decide(Cause::AfterSwitch, &r, Some("blue")),
        Decision::Keep { code: 0 }
    );
}

fn started(pool: &str) -> Change {
    Change::Started { pool: pool.into() }
}

fn left(pool: &str) -> Undo {
    Undo::LeftStarted { pool: pool.into() }
}

#[test]
fn a_start_that_fails_aborts_with_1_and_leaves_the_pool_as_start_left_it() {
    let r = record(&[started("green")]);
    assert_eq!(
        decide(Cause::Start, &r, Some("blue")),
        Decision::Abort {
            code: 1,
            undo: vec![left("green")]
        }
    );
    assert_eq!(r.file(), None);
    assert_eq!(r.started(), Some("green"));
}

#[test]
fn a_deploy_whose_gate_or_test_fails_after_start_restores_and_says_so_last() {
    // a wrong version at the gate: nothing written, the started pool said
    let r = record(&[started("green")]);
    assert_eq!(
        decide(Cause::NotReady, &r, Some("blue")),
        Decision::Abort {
            code: 1,
            undo: vec![left("green")]
        }
    );
    // nginx -t fails after start: the bytes go back, then the note
    let r = record(&[started("green"), wrote("app.conf")]);
    assert_eq!(
        decide(Cause::NginxTest, &r, Some("blue")),
        Decision::Abort {
            code: 3,
            undo: vec![restore_of("app.conf"), left("green")]
        }
    );
    let mut s = Script::default();
    assert_eq!(
        restore(&[restore_of("app.conf"), left("green")], &mut s),
        Ok(vec![
            "app.conf restored to its exact old bytes".to_string(),
            "pool green left as start left it".to_string()
        ])
    );
}

#[test]
fn a_deploy_that_fails_after_the_reload_rolls_back_and_leaves_the_started_pool() {
    let r = record(&[started("green"), wrote("app.conf"), Change::Reloaded]);
    for (cause, code) in [(Cause::Verify, 4), (Cause::Soak, 5)] {
        assert_eq!(
            decide(cause, &r, Some("blue")),
            Decision::RollBack {
                code,
                undo: vec![
                    restore_of("app.conf"),
                    Undo::Reload,
                    verify_blue(),
                    left("green")
                ]
            },
            "{cause:?}"
        );
    }
    let mut s = Script::default();
    let done = walk_back(
        &[
            restore_of("app.conf"),
            Undo::Reload,
            verify_blue(),
            left("green"),
        ],
        &mut s,
    );
    assert_eq!(s.log, ["write app.conf", "reload", "verify blue"]);
    assert_eq!(
        done.as_deref(),
        Ok(
        "app.conf restored to its exact old bytes and reloaded; blue verified; pool green left as start left it")
    );
}

#[test]
fn a_stop_that_fails_keeps_the_switch_with_exit_8() {
    let r = record(&[started("green"), wrote("app.conf"), Change::Reloaded]);
    assert_eq!(
        decide(Cause::Stopped, &r, Some("blue")),
        Decision::Keep { code: 8 }
    );
    // a drain that fails in a deploy keeps the switch with 0, as in a switch
    assert_eq!(
        decide(Cause::AfterSwitch, &r, Some("blue")),
        Decision::Keep { code: 0 }
    );
}

/// A world that logs what is done to it and fails what it is told to.
#[derive(Default)]
struct Script {
    log: Vec<String>,
    fail_write: bool,
    fail_reload: bool,
    fail_verify: bool,
    /// What a verify that passes says of how it was seen.
    seen: String,
}

impl Effects for Script {
    fn write(&mut self, path: &Path, _: &[u8]) -> Result<(), String> {
        self.log.push(format!("write {}", path.display()));
        if self.fail_write {
            return Err("disk full".into());
        }
        Ok(())
    }
    fn reload(&mut self) -> Result<(), String> {
        self.log.push("reload".into());
        if self.fail_reload {
            return Err("no new workers".into());
        }
        Ok(())
    }
    fn verify(&mut self, pool: &str) -> Result<String, String> {
        self.log.push(format!("verify {pool}"));
        if self.fail_verify {
            return Err("answers from green".into());
        }
        Ok(self.seen.clone())
    }
    fn put_flag(&mut self, path: &Path, present: bool) -> Result<(), String> {
        self.log.push(format!("flag {} {present}", path.display()));
        if self.fail_write {
            return Err("read-only file system".into());
        }
        Ok(())
    }
    fn note(&mut self, text: &str) {
        self.log.push(format!("note {text}"));
    }
}

fn full_undo() -> Vec<Undo> {
    vec![restore_of("app.conf"), Undo::Reload, verify_blue()]
}

#[test]
fn a_rollback_that_works_runs_in_order() {
    let mut s = Script::default();
    let done = walk_back(&full_undo(), &mut s).unwrap_or_default();
    assert_eq!(s.log, ["write app.conf", "reload", "verify blue"]);
    assert_eq!(
        done,
        "app.conf restored to its exact old bytes and reloaded; blue verified"
    );
    // how the old pool was seen (the handover waited for) is said
    s.seen = "answered 3 times in a row; 2 old worker(s) no longer accept connections".into();
    let done = walk_back(&full_undo(), &mut s).unwrap_or_default();
    assert_eq!(
        done,
        "app.conf restored to its exact old bytes and reloaded; blue verified (answered 3 times in a row; 2 old worker(s) no longer accept connections)"
    );
}

#[test]
fn a_rollback_that_cannot_write_stops_there_and_says_nginx_runs_the_new_version() {
    let mut s = Script {
        fail_write: true,
        ..Script::default()
    };
    let e = walk_back(&full_undo(), &mut s).err().unwrap_or_default();
    assert_eq!(s.log, ["write app.conf"]);
    assert!(
        e.starts_with(
            "ROLLBACK FAILED: could not write the old bytes back to app.conf (disk full)"
        ),
        "{e}"
    );
    assert!(e.ends_with("nginx is running the new configuration"), "{e}");
    // the reload had not taken: nginx still runs the old version
    let e = walk_back(&[restore_of("app.conf"), verify_blue()], &mut s)
        .err()
        .unwrap_or_default();
    assert!(
        e.ends_with("old (its reload did not take) configuration"),
        "{e}"
    );
}

#[test]
fn a_failed_rollback_reload_is_judged_by_what_the_load_balancer_answers() {
    let mut s = Script {
        fail_reload: true,
        ..Script::default()
    };
    let done = walk_back(&full_undo(), &mut s);
    assert!(done.is_ok(), "{done:?}");
    assert_eq!(s.log.len(), 4, "{:?}", s.log);
    assert!(s.log[3].starts_with("note reloading the old bytes failed (no new workers)"));

    let mut s = Script {
        fail_reload: true,
        fail_verify: true,
        ..Script::default()
    };
    let e = walk_back(&full_undo(), &mut s).err().unwrap_or_default();
    assert!(e.contains("reloading nginx with them failed (no new workers) and the load balancer does not answer from blue: answers from green"), "{e}");

    // and with no old pool to ask, a failed reload is a failed rollback
    let mut s = Script {
        fail_reload: true,
        ..Script::default()
    };
    let e = walk_back(&[restore_of("app.conf"), Undo::Reload], &mut s)
        .err()
        .unwrap_or_default();
    assert!(
        e.ends_with("nginx may still run the new configuration"),
        "{e}"
    );
}

#[test]
fn a_rollback_whose_old_pool_does_not_answer_fails() {
    let mut s = Script {
        fail_verify: true,
        ..Script::default()
    };
    let e = walk_back(&full_undo(), &mut s).err().unwrap_or_default();
    assert_eq!(s.log, ["write app.conf", "reload", "verify blue"]);
    assert_eq!(e, "ROLLBACK FAILED: app.conf holds the exact old bytes and nginx reloaded them, but the load balancer does not answer from blue: answers from green");
}

#[test]
fn an_abort_says_what_it_restored() {
    let mut s = Script::default();
    assert_eq!(
        restore(&[restore_of("app.conf")], &mut s),
        Ok(vec!["app.conf restored to its exact old bytes".to_string()])
    );
    // the old bytes cannot go back: a failed rollback (exit 7), and the
    // rest is still said
    s.fail_write = true;
    assert_eq!(
        restore(&[restore_of("app.conf"), left("green")], &mut s),
        Err(vec![
            "ROLLBACK FAILED: could not write the old bytes back to app.conf (disk full); the file holds the NEW version; nginx was not reloaded: it runs the old configuration until it is reloaded".to_string(),
            "pool green left as start left it".to_string()
        ])
    );
}

fn flag_created() -> Change {
    Change::FlagMoved {
        path: "flags/green".into(),
        created: true,
    }
}

fn flag_removed_again() -> Undo {
    Undo::PutFlagBack {
        path: "flags/green".into(),
        present: false,
    }
}

#[test]
fn a_flag_switch_that_fails_verify_puts_the_flag_back_and_reloads_nothing() {
    let r = record(&[flag_created()]);
    for (cause, code) in [(Cause::Verify, 4), (Cause::Soak, 5)] {
        assert_eq!(
            decide(cause, &r, Some("blue")),
            Decision::RollBack {
                code,
                undo: vec![flag_removed_again(), verify_blue()]
            },
            "{cause:?}"
        );
    }
    let mut s = Script::default();
    let done = walk_back(&[flag_removed_again(), verify_blue()], &mut s).unwrap_or_default();
    assert_eq!(s.log, ["flag flags/green false", "verify blue"]);
    assert_eq!(done, "flags/green removed again; blue verified; no reload");
}

#[test]
fn a_flag_that_cannot_be_fsynced_is_put_back_before_anything_follows() {
    let r = record(&[flag_created()]);
    assert_eq!(
        decide(Cause::Config, &r, Some("blue")),
        Decision::Abort {
            code: 2,
            undo: vec![flag_removed_again()]
        }
    );
    let mut s = Script::default();
    assert_eq!(
        restore(&[flag_removed_again()], &mut s),
        Ok(vec!["flags/green removed again".to_string()])
    );
    s.fail_write = true;
    let e = restore(&[flag_removed_again()], &mut s)
        .err()
        .unwrap_or_default();
    assert!(
        e[0].starts_with("ROLLBACK FAILED") && e[0].contains("still select the NEW pool"),
        "{e:?}"
    );
}

#[test]
fn a_flag_rollback_that_cannot_write_says_the_new_pool_is_still_selected() {
    let mut s = Script {
        fail_write: true,
        ..Script::default()
    };
    let e = walk_back(&[flag_removed_again(), verify_blue()], &mut s)
        .err()
        .unwrap_or_default();
    assert_eq!(s.log, ["flag flags/green false"]);
    assert!(
        e.starts_with("ROLLBACK FAILED: could not put the flag back"),
        "{e}"
    );
    assert!(e.contains("still select the NEW pool"), "{e}");
}

#[test]
fn flags_that_already_selected_the_target_cannot_be_rolled_back() {
    let r = record(&[Change::FlagAdopted {
        path: "flags/green".into(),
        target: "green".into(),
    }]);
    assert!(matches!(
        decide(Cause::Verify, &r, Some("blue")),
        Decision::CannotRollBack { code: 4, .. }
    ));
    assert_eq!(r.file(), Some(Path::new("flags/green")));
    assert!(!r.reloaded());
}
