//! The non-loopback rule on real sockets: in a network namespace of its
//! own (`unshare --net`, needs root) with a second, non-loopback address on
//! `lo`, a POST from that address is refused (403) and one from 127.0.0.1
//! is accepted. The drain client does the requests, inside the namespace.
#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;

use common::*;

#[test]
fn post_from_a_non_loopback_address_is_refused_without_a_token() {
    let script = format!(
        r#"
set -u
ip link set lo up && ip addr add 198.51.100.7/32 dev lo || exit 99
"{sc}" --listen 0.0.0.0:9901 --probe exec:true --probe-interval 100ms 2>/dev/null &
pid=$!
remote=""
for _ in $(seq 1 400); do
  remote=$("{sc}" drain --url http://198.51.100.7:9901 --wait 0 2>&1) && break
  case "$remote" in *"answered 403"*) break;; esac
  sleep 0.05
done
echo "remote: $remote"
"{sc}" drain --url http://127.0.0.1:9901 --wait 10s 2>&1 && echo "loopback: ok"
kill $pid
"#,
        sc = SIDECAR
    );
    let out = Command::new("unshare")
        .args(["--net", "/bin/sh", "-c", &script])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_ne!(
        out.status.code(),
        Some(99),
        "could not set up the namespace"
    );
    assert!(
        stdout.contains("remote: health-sidecar drain: the sidecar answered 403"),
        "{stdout}"
    );
    assert!(stdout.contains("loopback only"), "{stdout}");
    assert!(stdout.contains("loopback: ok"), "{stdout}");
}
