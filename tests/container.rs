//! nginx as in a container, without Docker (CI has none): nginx in its
//! own mount namespace with the site file and `nginx.conf` bind-mounted
//! one by one, tested and reloaded through `nsenter` as `docker exec`
//! would, no `pid_file` (the lab's `namespace` option). A rename is never
//! seen inside such a mount (moby/moby#15793); `[nginx] write =
//! "in-place"` is. Also the bad input of in-place writes.

#![allow(clippy::unwrap_used)]

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use bgswitch::config::SwitchKind;
use bgswitch::lab::Lab;
use e2e::lab::{
    assert_no_failures, bgswitch, code, green_of, kill_9, lab, lab_in_namespace, last_result, load,
    nginx_command, read, serving, set_nginx_command, set_write, spawn_bgswitch, text,
};
use e2e::workspace_binaries;

/// The site file as nginx sees it inside the namespace.
fn inside(lab: &Lab) -> Vec<u8> {
    let ns = lab.namespace.as_ref().unwrap();
    lab.read_inside(&ns.site).unwrap()
}

fn backups(lab: &Lab) -> PathBuf {
    lab.dir.join("state/backups")
}

/// Whether `dir` holds a record of an in-place write under way.
fn has_record(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|d| {
        d.flatten()
            .any(|e| e.file_name().to_string_lossy().ends_with(".intent"))
    })
}

fn entries(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, Iterator::count)
}

/// Who serves, asked until it is `want` or 20 s have passed (old workers
/// hand over within ms on an idle machine; a loaded one takes longer).
fn serving_soon(lab: &Lab, want: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let who = serving(lab);
        if who == want || Instant::now() >= deadline {
            return who;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn in_place_switches_back_and_forth_under_load_with_zero_failures() {
    let Some(lab) = lab_in_namespace(SwitchKind::Map) else {
        return;
    };
    set_write(&lab, "in-place");
    let ino = std::fs::metadata(&lab.site).unwrap().ino();
    let traffic = load(&lab);
    std::thread::sleep(Duration::from_millis(300));
    for i in 0..4 {
        let to = if i % 2 == 0 { "green" } else { "blue" };
        let o = bgswitch(&lab, &["switch", "--to", to, "--json"]);
        assert_eq!(code(&o), 0, "switch {i} to {to}:\n{}", text(&o));
        assert_eq!(last_result(&o), "switched", "{}", text(&o));
        assert!(
            text(&o).contains("shows the new bytes (as "),
            "{}",
            text(&o)
        );
        assert_eq!(serving(&lab), to, "switch {i}");
        assert_eq!(
            inside(&lab),
            read(&lab.site),
            "switch {i}: inside = outside"
        );
        assert_eq!(std::fs::metadata(&lab.site).unwrap().ino(), ino);
        std::thread::sleep(Duration::from_millis(300));
    }
    let stats = traffic.stop();
    assert_no_failures(&stats);
    assert!(stats.per_pool.get("blue").copied().unwrap_or(0) > 0);
    assert!(stats.per_pool.get("green").copied().unwrap_or(0) > 0);
}

#[test]
fn the_default_write_on_a_single_file_bind_mount_fails_cleanly_and_in_place_then_works() {
    let Some(lab) = lab_in_namespace(SwitchKind::Map) else {
        return;
    };
    let blue = read(&lab.site);
    let ino = std::fs::metadata(&lab.site).unwrap().ino();
    let o = bgswitch(&lab, &["switch", "--to", "green", "--json"]);
    assert_eq!(code(&o), 3, "{}", text(&o));
    assert_eq!(last_result(&o), "aborted", "{}", text(&o));
    let said = text(&o);
    assert!(said.contains("still shows the old ones"), "{said}");
    assert!(said.contains("bind-mounted on its own"), "{said}");
    assert!(said.contains("write = \\\"in-place\\\""), "{said}");
    assert!(said.contains("restored to its exact old bytes"), "{said}");
    // the exact old bytes, outside and inside, and the very inode the
    // mount holds: the rename was undone by renaming the old inode back
    assert_eq!(read(&lab.site), blue);
    assert_eq!(inside(&lab), blue);
    assert_eq!(std::fs::metadata(&lab.site).unwrap().ino(), ino);
    assert_eq!(serving(&lab), "blue");
    // the fix the message names works at once, on the same namespace
    set_write(&lab, "in-place");
    let o = bgswitch(&lab, &["switch", "--to", "green", "--json"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_eq!(serving(&lab), "green");
    assert_eq!(inside(&lab), green_of(&blue));
}

#[test]
fn kill_9_during_in_place_writes_leaves_a_whole_file_inside_and_outside_after_the_next_run() {
    let Some(lab) = lab_in_namespace(SwitchKind::Map) else {
        return;
    };
    set_write(&lab, "in-place");
    let blue = read(&lab.site);
    let green = green_of(&blue);
    let mut caught_mid_write = 0;
    for i in 0..24u32 {
        let (to, old, new) = if i % 2 == 0 {
            ("green", &blue, &green)
        } else {
            ("blue", &green, &blue)
        };
        let child = spawn_bgswitch(&lab, &["switch", "--to", to, "--no-drain"]);
        // Kill when the record of the write under way appears (the write
        // is next), a little later each time; every fourth run at a blind
        // moment instead.
        let deadline = Instant::now() + Duration::from_secs(5);
        if i % 4 == 3 {
            std::thread::sleep(Duration::from_millis(u64::from(i) * 13 % 300));
        } else {
            while !has_record(&backups(&lab)) && Instant::now() < deadline {
                std::hint::spin_loop();
            }
            let wait = Duration::from_micros(u64::from(i % 4) * 20);
            let t = Instant::now();
            while t.elapsed() < wait {
                std::hint::spin_loop();
            }
        }
        kill_9(child);
        let pending = !nginx_edit::write::find_intents(&backups(&lab))
            .unwrap()
            .is_empty();
        let now = read(&lab.site);
        if pending {
            caught_mid_write += 1;
        } else {
            assert!(
                now == *old || now == *new,
                "kill {i}: no record of a write under way, and the file is neither version"
            );
        }
        // the next run repairs (when a record is left) and switches
        let o = bgswitch(&lab, &["switch", "--to", to, "--no-drain", "--json"]);
        assert_eq!(code(&o), 0, "kill {i}, next run:\n{}", text(&o));
        if pending && now != *old {
            assert!(
                text(&o).contains("the old bytes are back"),
                "kill {i}: {}",
                text(&o)
            );
        }
        assert_eq!(read(&lab.site), *new, "kill {i}: outside");
        assert_eq!(inside(&lab), *new, "kill {i}: inside");
        // (a killed run may have reloaded just before: without a pid_file
        // nothing waits for its old workers, which hand over within ms)
        assert_eq!(serving_soon(&lab, to), to, "kill {i}");
        assert!(nginx_edit::write::find_intents(&backups(&lab))
            .unwrap()
            .is_empty());
    }
    eprintln!("{caught_mid_write} of 24 kills left an in-place write under way");
}

#[test]
fn a_write_cut_short_at_any_length_is_repaired_before_the_live_pool_is_read() {
    let Some(lab) = lab_in_namespace(SwitchKind::Map) else {
        return;
    };
    set_write(&lab, "in-place");
    let blue = read(&lab.site);
    let green = green_of(&blue);
    std::fs::create_dir_all(backups(&lab)).unwrap();
    for cut in [0, 1, blue.len() / 2, green.len() - 1, green.len()] {
        // what a run killed in the middle of its write leaves: the record,
        // the backup, and the first `cut` bytes of the new version
        let backup = backups(&lab).join(format!("app.conf.{cut}"));
        let (intent, _) = nginx_edit::write::Intent::begin(&lab.site, &green, &backup).unwrap();
        nginx_edit::write::write_in_place(&lab.site, &green[..cut]).unwrap();
        assert_eq!(
            inside(&lab),
            green[..cut],
            "the namespace sees the cut file"
        );
        // a dry run changes nothing and says what the next run repairs
        let o = bgswitch(&lab, &["switch", "--to", "blue", "--dry-run"]);
        assert!(
            text(&o).contains("killed while writing it in place"),
            "{}",
            text(&o)
        );
        assert!(intent.record.exists());
        let o = bgswitch(&lab, &["switch", "--to", "blue", "--json"]);
        assert_eq!(code(&o), 0, "cut {cut}: {}", text(&o));
        assert!(
            text(&o).contains("\"step\":\"repair\""),
            "cut {cut}: {}",
            text(&o)
        );
        assert_eq!(last_result(&o), "unchanged", "cut {cut}: {}", text(&o));
        assert!(!intent.record.exists());
        assert_eq!(read(&lab.site), blue, "cut {cut}: outside");
        assert_eq!(inside(&lab), blue, "cut {cut}: inside");
        assert_eq!(serving(&lab), "blue");
    }
}

#[test]
fn in_place_through_a_symlink_keeps_the_link_the_inode_and_the_mode() {
    let Some(lab) = lab(SwitchKind::Upstream) else {
        return;
    };
    set_write(&lab, "in-place");
    let link = lab.dir.join("sites-enabled/app.conf");
    let before = std::fs::metadata(&lab.site).unwrap();
    let o = bgswitch(&lab, &["switch", "--to", "green"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    let after = std::fs::metadata(&lab.site).unwrap();
    assert_eq!((after.ino(), after.mode()), (before.ino(), before.mode()));
    assert_eq!(serving(&lab), "green");
}

#[test]
fn in_place_on_a_file_that_cannot_be_opened_for_writing_exits_2_and_changes_nothing() {
    let Some(lab) = lab(SwitchKind::Map) else {
        return;
    };
    if let Err(e) = bgswitch::lab::namespace::available() {
        assert!(!std::env::var("CI").is_ok_and(|v| v == "true"), "{e}");
        return;
    }
    set_write(&lab, "in-place");
    let blue = read(&lab.site);
    let (bin, _) = workspace_binaries();
    // the file read-only for everyone, root too: a read-only bind mount of
    // it, in a namespace of bgswitch's own
    let site = lab.site.display().to_string();
    let o = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c"])
        .arg(r#"mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" && shift && exec "$@""#)
        .arg("sh")
        .arg(&site)
        .arg(&bin)
        .arg("-c")
        .arg(&lab.config)
        .args(["switch", "--to", "green"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 2, "{}", text(&o));
    let said = text(&o);
    assert!(said.contains(&site), "{said}");
    assert!(said.contains("cannot be opened for writing"), "{said}");
    assert!(said.contains("Read-only file system"), "{said}");
    assert_eq!(read(&lab.site), blue);
    assert_eq!(entries(&backups(&lab)), 0, "no backup, no record");
    assert_eq!(serving(&lab), "blue");
}

#[test]
fn an_unknown_write_mode_is_exit_2_naming_the_key() {
    let Some(lab) = lab(SwitchKind::Map) else {
        return;
    };
    let blue = read(&lab.site);
    set_write(&lab, "inplace");
    let o = bgswitch(&lab, &["switch", "--to", "green"]);
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(text(&o).contains("nginx.write"), "{}", text(&o));
    assert_eq!(read(&lab.site), blue);
}

#[test]
fn a_test_command_without_a_dump_says_the_check_was_skipped_and_goes_on() {
    let Some(lab) = lab(SwitchKind::Map) else {
        return;
    };
    // a wrapper script: no `-t` to make `-T` of
    let test = nginx_command(&lab, "test_command");
    let argv: Vec<String> = test.iter().map(|a| format!("'{a}'")).collect();
    let script = lab.dir.join("test-nginx.sh");
    std::fs::write(&script, format!("#!/bin/sh\nexec {}\n", argv.join(" "))).unwrap();
    Command::new("chmod")
        .arg("755")
        .arg(&script)
        .status()
        .unwrap();
    set_nginx_command(&lab, "test_command", &["./test-nginx.sh".to_string()]);
    let o = bgswitch(&lab, &["switch", "--to", "green"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(
        text(&o).contains("not checked that nginx sees the new bytes"),
        "{}",
        text(&o)
    );
    assert!(
        text(&o).contains("set [nginx] dump_command"),
        "{}",
        text(&o)
    );
    assert_eq!(serving(&lab), "green");
    // with a dump_command the check runs again
    let toml = std::fs::read_to_string(&lab.config).unwrap();
    let dump: Vec<String> = test
        .iter()
        .map(|a| if a == "-t" { "-T".into() } else { a.clone() })
        .collect();
    std::fs::write(
        &lab.config,
        toml.replacen(
            "[nginx]\n",
            &format!("[nginx]\ndump_command = {dump:?}\n"),
            1,
        ),
    )
    .unwrap();
    let o = bgswitch(&lab, &["switch", "--to", "blue"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(text(&o).contains("shows the new bytes"), "{}", text(&o));
}
