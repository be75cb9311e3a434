#![allow(clippy::unwrap_used)]
use super::*;
use std::path::Path;
use std::time::Duration;

const GOOD: &str = r#"
[nginx]
config = "sites/app.conf"
pid_file = ""
[switch]
kind = "map"
map = "$backend"
[pools.blue]
target = "app_blue"
health = ["http://127.0.0.1:9901/health"]
[pools.green]
target = "app_green"
expect = "g"
[verify]
url = "http://127.0.0.1/health"
header = "X-Pool"
[smoke]
requests = ["get /api/status 200"]
[gate]
timeout = "500ms"
"#;

#[test]
fn good_file_with_defaults() {
    let c = parse(GOOD, Path::new("/etc/bgswitch/bgswitch.toml")).unwrap();
    assert_eq!(c.nginx.config, Path::new("/etc/bgswitch/sites/app.conf"));
    assert_eq!(c.nginx.pid_file, None);
    assert_eq!(c.nginx.test_command, ["nginx", "-t"]);
    assert_eq!(c.gate.timeout, Duration::from_millis(500));
    assert_eq!(c.gate.interval, Duration::from_secs(1));
    assert_eq!(c.pools["blue"].expect, "blue");
    assert_eq!(c.pools["green"].expect, "g");
    assert_eq!(c.verify.consecutive, 3);
    assert_eq!(c.smoke.requests[0].method, "GET");
    assert!(c.drain.enabled);
}

#[test]
fn pid_file_unset_is_no_proof_and_script_paths_are_relative_to_the_file() {
    let text = GOOD.replace("pid_file = \"\"\n", "").replace(
        "[switch]",
        "reload_command = [\"./reload.sh\", \"now\"]\ntest_command = [\"nginx\", \"-t\"]\n[switch]",
    );
    let c = parse(&text, Path::new("/etc/bgswitch/bgswitch.toml")).unwrap();
    assert_eq!(c.nginx.pid_file, None);
    assert_eq!(c.nginx.reload_command, ["/etc/bgswitch/./reload.sh", "now"]);
    assert_eq!(c.nginx.test_command, ["nginx", "-t"]);
    let c = parse(
        &GOOD.replace("pid_file = \"\"", "pid_file = \"run/nginx.pid\""),
        Path::new("/etc/bgswitch/bgswitch.toml"),
    )
    .unwrap();
    assert_eq!(
        c.nginx.pid_file.as_deref(),
        Some(Path::new("/etc/bgswitch/run/nginx.pid"))
    );
}

#[test]
fn drain_token_file_is_read_and_a_missing_one_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("token"), "s3cret\n").unwrap();
    let text = format!("{GOOD}\n[drain]\ntoken_file = \"token\"\n");
    let c = parse(&text, &dir.path().join("b.toml")).unwrap();
    assert_eq!(c.drain.token.as_deref(), Some("s3cret"));
    let e = parse(
        &text.replace("\"token\"", "\"nope\""),
        &dir.path().join("b.toml"),
    )
    .unwrap_err();
    assert_eq!(e.key, "drain.token_file");
}

fn error_of(text: &str) -> String {
    parse(text, Path::new("b.toml")).unwrap_err().to_string()
}

#[test]
fn errors_name_the_key() {
    assert_eq!(
        error_of(&GOOD.replace("timeout = \"500ms\"", "timeout = \"5x\"")),
        "b.toml: gate.timeout: invalid duration \"5x\": unknown time unit \"x\", supported units: ns, us/µs, ms, sec, min, hours, days, weeks, months, years (and few variations) (write 500ms, 30s, 5m)"
    );
    assert!(error_of(&GOOD.replace("target = \"app_green\"", ""))
        .starts_with("b.toml: pools.green.target: missing"));
    assert!(error_of(&GOOD.replace("kind = \"map\"", "kind = \"flip\""))
        .starts_with("b.toml: switch.kind:"));
    assert!(error_of(&GOOD.replace("[gate]", "[gate]\nfoo = 1"))
        .starts_with("b.toml: gate.foo: unknown field `foo`"));
    // a value of the wrong type is named by its key, not a position
    assert!(
        error_of(&GOOD.replace("timeout = \"500ms\"", "timeout = 500"))
            .starts_with("b.toml: gate.timeout: invalid type: integer `500`"),
        "{}",
        error_of(&GOOD.replace("timeout = \"500ms\"", "timeout = 500"))
    );
    assert!(error_of("[nginx\n").starts_with("b.toml: line 1, column"));
    assert!(
        error_of(&GOOD.replace("\"get /api/status 200\"", "\"GET /x 2000\""))
            .starts_with("b.toml: smoke.requests[0]:")
    );
    // deploy (config/deploy.rs): the table form and the new keys
    assert!(error_of(&GOOD.replace(
        "\"get /api/status 200\"",
        "{ method = \"POST\", body = \"x\" }"
    ))
    .starts_with("b.toml: smoke.requests[0].path: missing"));
    assert!(
        error_of(&GOOD.replace("[pools.green]", "[pools.green]\nstart = []"))
            .starts_with("b.toml: pools.green.start: must be a non-empty list")
    );
    assert!(
        error_of(&format!("{GOOD}\n[deploy]\nstop_old = \"later\"\n"))
            .starts_with("b.toml: deploy.stop_old:")
    );
    assert!(error_of(&GOOD.replace(
        "health = [\"http://127.0.0.1:9901/health\"]",
        "health = [\"exec:\"]"
    ))
    .starts_with("b.toml: pools.blue.health:"));
    assert!(error_of(&GOOD.replace("config = \"sites/app.conf\"", ""))
        .starts_with("b.toml: nginx.config: missing"));
    assert!(
        error_of(&GOOD.replace("header = \"X-Pool\"", "")).starts_with("b.toml: verify.header:")
    );
}

#[test]
fn durations_chain_units() {
    let c = parse(
        &GOOD.replace(
            "timeout = \"500ms\"",
            "timeout = \"1m30s\"\ninterval = \"250ms\"",
        ),
        Path::new("b.toml"),
    )
    .unwrap();
    assert_eq!(c.gate.timeout, Duration::from_secs(90));
    assert_eq!(c.gate.interval, Duration::from_millis(250));
}

/// A PEM certificate section (its DER is not a usable certificate: the
/// load-time check reads PEM sections; rustls checks the DER when used).
const SOME_CERT: &str = "-----BEGIN CERTIFICATE-----
MIIBszCCAVmgAwIBAgIUX1Xq1rQ0yA0e8J8q8m2r3j9wJ1MwCgYIKoZIzj0EAwIw
EjEQMA4GA1UEAwwHdGVzdC1jYTAeFw0yNjAxMDEwMDAwMDBaFw0zNjAxMDEwMDAw
MDBaMBIxEDAOBgNVBAMMB3Rlc3QtY2EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNC
AAQ=
-----END CERTIFICATE-----
";

#[test]
fn tls_keys_of_verify_and_gate() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), SOME_CERT).unwrap();
    std::fs::write(dir.path().join("key.pem"), "just text\n").unwrap();
    let file = dir.path().join("b.toml");
    let with = |verify: &str, gate: &str| {
        GOOD.replace(
            "url = \"http://127.0.0.1/health\"",
            &format!("url = \"https://lb.test/health\"\n{verify}"),
        )
        .replace("[gate]", &format!("[gate]\n{gate}"))
        .replace("http://127.0.0.1:9901/health", "https://[::1]:9901/health")
    };
    let c = parse(
        &with(
            "connect_to = \"127.0.0.1:8443\"\nca_file = \"ca.pem\"",
            "insecure = true\nconnect_to = \"[::1]:9901\"",
        ),
        &file,
    )
    .unwrap();
    assert_eq!(
        c.verify.transport.connect_to.as_deref(),
        Some("127.0.0.1:8443")
    );
    let ca = c.verify.transport.ca.as_ref().unwrap();
    assert_eq!(
        (ca.path.clone(), ca.certs.len()),
        (dir.path().join("ca.pem"), 1)
    );
    assert!(!c.verify.transport.insecure && c.gate.transport.insecure);
    let notes = c.insecure_notes();
    assert_eq!(notes.len(), 1);
    assert!(notes[0].contains("gate.insecure"), "{notes:?}");
    // no TLS keys: nothing said
    assert!(parse(GOOD, &file).unwrap().insecure_notes().is_empty());

    let key_of = |verify: &str, gate: &str| parse(&with(verify, gate), &file).unwrap_err();
    let e = key_of("ca_file = \"nope.pem\"", "");
    assert_eq!(e.key, "verify.ca_file");
    assert!(e.message.contains("nope.pem"), "{e}");
    let e = key_of("", "ca_file = \"key.pem\"");
    assert_eq!(e.key, "gate.ca_file");
    assert!(e.message.contains("no certificate"), "{e}");
    for bad in ["127.0.0.1", "lb:https", "::1:443"] {
        let e = key_of(&format!("connect_to = \"{bad}\""), "");
        assert_eq!(e.key, "verify.connect_to", "{bad}: {e}");
        assert_eq!(
            key_of("", &format!("connect_to = \"{bad}\"")).key,
            "gate.connect_to"
        );
    }
    assert_eq!(key_of("insecure = \"yes\"", "").key, "verify.insecure");
}

// [nginx] write and dump_command (issue 10)
#[test]
fn write_mode_and_dump_command() {
    let c = parse(GOOD, Path::new("/etc/bgswitch/bgswitch.toml")).unwrap();
    assert_eq!(c.nginx.write, WriteMode::Replace);
    assert_eq!(c.nginx.dump_command, None);
    let with = |extra: &str| GOOD.replace("pid_file = \"\"", &format!("pid_file = \"\"\n{extra}"));
    let c = parse(
        &with("write = \"in-place\"\ndump_command = [\"./dump.sh\"]"),
        Path::new("/etc/bgswitch/bgswitch.toml"),
    )
    .unwrap();
    assert_eq!(c.nginx.write, WriteMode::InPlace);
    assert_eq!(
        c.nginx.dump_command,
        Some(vec!["/etc/bgswitch/./dump.sh".to_string()])
    );
    let c = parse(&with("dump_command = []"), Path::new("b.toml")).unwrap();
    assert_eq!(c.nginx.dump_command, Some(vec![]));
    assert_eq!(
        error_of(&with("write = \"inplace\"")),
        "b.toml: nginx.write: \"inplace\" is not one of replace, in-place"
    );
    assert!(error_of(&with("dump_command = [\"\"]")).starts_with("b.toml: nginx.dump_command:"));
}
