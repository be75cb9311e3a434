//! What happens to the nginx file: one line changed, links kept, a dry run
//! that writes nothing, rollback to the exact bytes, runs killed at any moment.

use bgswitch::config::SwitchKind;
use std::time::Duration;

use e2e::lab::{
    bgswitch, code, events, green_of, kill_9, lab, last_result, nginx_command, read, serving,
    set_nginx_command, spawn_bgswitch, text,
};

#[test]
fn map_flip_changes_one_line_and_keeps_the_link_and_look_alikes() {
    let Some(lab) = lab(SwitchKind::Map) else {
        return;
    };
    let before = String::from_utf8(read(&lab.site)).unwrap();
    let o = bgswitch(&lab, &["switch"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let after = String::from_utf8(read(&lab.site)).unwrap();
    let changed: Vec<(&str, &str)> = before
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(
        changed,
        vec![("    default app_blue;", "    default app_green;")]
    );
    assert!(after.contains("    # default app_green;  (a comment that looks like the switch)"));
    assert!(
        std::fs::symlink_metadata(lab.dir.join("sites-enabled/app.conf"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    // no backup or temporary file left where nginx's include glob looks
    let names: Vec<_> = std::fs::read_dir(lab.dir.join("sites-enabled"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

#[test]
fn dry_run_changes_nothing_and_rollback_goes_back() {
    let Some(lab) = lab(SwitchKind::Upstream) else {
        return;
    };
    let before = read(&lab.site);
    let o = bgswitch(&lab, &["switch", "--dry-run"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(
        text(&o).contains(&format!("+    # server 127.0.0.1:{}; # blue", lab.blue.app)),
        "{}",
        text(&o)
    );
    assert_eq!(read(&lab.site), before);
    assert_eq!(serving(&lab), "blue");

    let o = bgswitch(&lab, &["switch", "--no-drain"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_eq!(serving(&lab), "green");
    let o = bgswitch(&lab, &["rollback", "--json"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_eq!(last_result(&o), "switched");
    assert_eq!(serving(&lab), "blue");
    assert_eq!(
        read(&lab.site),
        before,
        "rollback restores the original bytes"
    );
    let s = bgswitch(&lab, &["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&s.stdout).unwrap();
    assert_eq!(v["live"], "blue");
    assert_eq!(v["serving"], "blue");
    assert_eq!(v["pools"]["green"]["health"][0]["status"], "drained");
}

#[test]
fn a_switch_interrupted_before_its_reload_is_finished_by_the_next_run() {
    let Some(lab) = lab(SwitchKind::Map) else {
        return;
    };
    // What a run killed between its write and its reload leaves: the file
    // says green, nginx still serves blue.
    let blue = String::from_utf8(read(&lab.site)).unwrap();
    let green = blue.replace("    default app_blue;", "    default app_green;");
    std::fs::write(&lab.site, &green).unwrap();
    assert_eq!(serving(&lab), "blue");
    let o = bgswitch(&lab, &["switch", "--to", "green", "--json"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_eq!(last_result(&o), "switched", "{}", text(&o));
    assert!(
        text(&o).contains("finishing an interrupted switch"),
        "{}",
        text(&o)
    );
    assert_eq!(serving(&lab), "green");
    assert_eq!(String::from_utf8(read(&lab.site)).unwrap(), green);
    // the pool drained is the one that stopped serving, not the new one
    let status = |pool| {
        bgswitch::switch::sidecar_status(
            &Default::default(),
            &lab.sidecar_url(pool),
            Duration::from_secs(10),
        )
    };
    assert_eq!(status("green"), "ready");
    assert_eq!(status("blue"), "drained");
    // and now it is really live: nothing to do
    let o = bgswitch(&lab, &["switch", "--to", "green", "--json"]);
    assert_eq!(last_result(&o), "unchanged", "{}", text(&o));
}

#[test]
fn kill_9_at_any_moment_leaves_a_whole_file_and_a_serving_nginx() {
    let Some(lab) = lab(SwitchKind::Map) else {
        return;
    };
    let blue = read(&lab.site);
    let green = green_of(&blue);
    for i in 0..12u64 {
        let child = spawn_bgswitch(&lab, &["switch", "--no-drain"]);
        std::thread::sleep(Duration::from_millis(i * 37 % 400));
        kill_9(child);
        let now = read(&lab.site);
        assert!(
            now == blue || now == green,
            "kill {i}: the file is neither the old nor the new version"
        );
        let who = serving(&lab);
        assert!(
            who == "blue" || who == "green",
            "kill {i}: nginx answers {who:?}"
        );
    }
    // the next run works
    let o = bgswitch(&lab, &["switch", "--to", "green", "--no-drain"]);
    assert!(code(&o) == 0, "{}", text(&o));
    assert_eq!(serving(&lab), "green");
    assert_eq!(read(&lab.site), green);
    // and a run that writes sweeps the temporary files killed runs left
    let o = bgswitch(&lab, &["switch", "--to", "blue", "--no-drain"]);
    assert!(code(&o) == 0, "{}", text(&o));
    let leftovers: Vec<String> = std::fs::read_dir(lab.site.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".nginx-edit-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn the_edit_step_names_the_test_command_that_ran() {
    let Some(lab) = lab(SwitchKind::Map) else {
        return;
    };
    // a wrapper around nginx -t, as `docker compose exec nginx nginx -t` is
    let mut argv = nginx_command(&lab, "test_command");
    argv.splice(0..0, ["sh", "-c", "exec \"$0\" \"$@\""].map(String::from));
    set_nginx_command(&lab, "test_command", &argv);
    let o = bgswitch(&lab, &["switch", "--json"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let edit = events(&o)
        .into_iter()
        .find(|e| e["step"] == "edit")
        .unwrap();
    let detail = edit["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!("test passed: `{}`", argv.join(" "))),
        "{detail}"
    );
    assert!(!detail.contains("nginx -t passed"), "{detail}");
}
