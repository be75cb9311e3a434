//! `pid_file` unset (nginx in a container): the proof rests on verify alone.

use bgswitch::config::SwitchKind;
use std::time::Duration;

use e2e::lab::{bgswitch, code, drop_pid_file, lab, last_result, serving, text};

#[test]
fn without_a_pid_file_the_proof_rests_on_verify_and_rollback_undrains() {
    let Some(lab) = lab(SwitchKind::Upstream) else {
        return;
    };
    // DESIGN: `pid_file` unset (nginx in a container) means verify alone.
    drop_pid_file(&lab);
    let o = bgswitch(&lab, &["switch", "--to", "green", "--json"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_eq!(last_result(&o), "switched", "{}", text(&o));
    assert!(
        text(&o).contains("proven by [verify] alone"),
        "{}",
        text(&o)
    );
    assert_eq!(serving(&lab), "green");
    let status = |pool| {
        bgswitch::switch::sidecar_status(
            &Default::default(),
            &lab.sidecar_url(pool),
            Duration::from_secs(10),
        )
    };
    assert_eq!(status("blue"), "drained");
    // rollback goes back to the pool it drained: the gate brings it back
    let o = bgswitch(&lab, &["rollback", "--json"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_eq!(last_result(&o), "switched", "{}", text(&o));
    assert!(text(&o).contains("undrained"), "{}", text(&o));
    assert_eq!(serving(&lab), "blue");
    assert_eq!(status("green"), "drained");
}
