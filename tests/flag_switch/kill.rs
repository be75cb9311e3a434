//! `kill -9` of bgswitch at many moments of a flag switch: nginx always
//! selects exactly one pool, the one the flags on disk say (no flag file
//! is ever half there), and the next run works.

use std::time::Duration;

use bgswitch::config::SwitchKind;
use e2e::lab::{bgswitch, code, kill_9, lab, serving, spawn_bgswitch, text};

use crate::{flag_files, selected};

#[test]
fn kill_9_at_many_moments_of_a_flag_switch_leaves_one_consistent_live_pool() {
    let Some(lab) = lab(SwitchKind::Flag) else {
        return;
    };
    // how long a whole run takes here: the kills are spread over it
    let t = std::time::Instant::now();
    let o = bgswitch(&lab, &["switch", "--to", "green", "--no-drain"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let whole = t.elapsed().as_micros() as u64;
    let mut moved = 0;
    for i in 0..30u64 {
        let to = if selected(&lab) == "blue" {
            "green"
        } else {
            "blue"
        };
        let child = spawn_bgswitch(&lab, &["switch", "--to", to, "--no-drain"]);
        // from before the lock to after the journal
        std::thread::sleep(Duration::from_micros(i * whole / 20));
        kill_9(child);
        // exactly one pool: what the flags say, and what nginx serves
        let files = flag_files(&lab);
        assert!(
            files
                .iter()
                .all(|f| f == "green" || f.starts_with(".bgswitch-")),
            "kill {i}: {files:?}"
        );
        let live = selected(&lab);
        if live == to {
            moved += 1;
        }
        let s = bgswitch(&lab, &["status", "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&s.stdout).unwrap();
        assert_eq!(v["live"], live, "kill {i}: {}", text(&s));
        for _ in 0..5 {
            assert_eq!(serving(&lab), live, "kill {i}");
        }
        // the next run works, from whatever state the kill left
        let next = if live == "blue" { "green" } else { "blue" };
        let o = bgswitch(&lab, &["switch", "--to", next, "--no-drain"]);
        assert_eq!(code(&o), 0, "after kill {i}:\n{}", text(&o));
        assert_eq!(selected(&lab), next);
        assert_eq!(serving(&lab), next);
        assert!(
            flag_files(&lab).iter().all(|f| f == "green"),
            "after kill {i}: {:?}",
            flag_files(&lab)
        );
    }
    // some kills came before the flag moved and some after
    assert!(moved > 0 && moved < 30, "moved {moved} of 30");
}
