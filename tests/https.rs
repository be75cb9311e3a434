//! bgswitch over HTTPS against a real nginx that listens only with TLS: a
//! private CA and a certificate for `lb.test` made with the `openssl` CLI
//! at test time, reached through `connect_to` with `ca_file`, or with
//! `insecure`; a wrong CA, a wrong name and a TLS handshake to a plain-HTTP
//! port fail, bounded, naming the URL: the verify URL's pre-flight stops
//! the run before anything changes (exit 2), naming the key to fix.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use bgswitch::config::SwitchKind;
use bgswitch::lab::{Lab, LabOptions, LabTls};
use e2e::lab::{bgswitch, text};

/// A CA, a second CA that signed nothing here, and a server certificate
/// for `lb.test` signed by the first.
struct Certs {
    _dir: tempfile::TempDir,
    ca: PathBuf,
    other_ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

fn openssl(dir: &Path, args: &[&str]) {
    let o = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the openssl CLI (apt-get install -y openssl)");
    assert!(
        o.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn make_certs() -> Certs {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    for (name, cn) in [("ca", "bgswitch test CA"), ("other-ca", "another CA")] {
        let (key, pem, subj) = (
            format!("{name}.key"),
            format!("{name}.pem"),
            format!("/CN={cn}"),
        );
        let mut args = vec!["req", "-x509"];
        args.extend(ec);
        args.extend(["-keyout", &key, "-out", &pem, "-days", "2", "-subj", &subj]);
        args.extend(["-addext", "basicConstraints=critical,CA:TRUE"]);
        args.extend(["-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
        openssl(d, &args);
    }
    let mut args = vec!["req"];
    args.extend(ec);
    args.extend([
        "-keyout",
        "lb.key",
        "-out",
        "lb.csr",
        "-subj",
        "/CN=lb.test",
    ]);
    openssl(d, &args);
    std::fs::write(
        d.join("ext.cnf"),
        "subjectAltName=DNS:lb.test\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        d,
        &[
            "x509",
            "-req",
            "-in",
            "lb.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "lb.pem",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ],
    );
    Certs {
        ca: d.join("ca.pem"),
        other_ca: d.join("other-ca.pem"),
        cert: d.join("lb.pem"),
        key: d.join("lb.key"),
        _dir: dir,
    }
}

fn tls_lab(certs: &Certs) -> Option<Lab> {
    let opts = LabOptions {
        worker_processes: 1,
        tls: Some(LabTls {
            cert: certs.cert.clone(),
            key: certs.key.clone(),
        }),
        ..LabOptions::new(SwitchKind::Map, e2e::lab_binaries()?)
    };
    Some(Lab::start(&opts).unwrap())
}

/// Rewrites the lab's `[verify]` section (and `[gate]` when given).
fn configure(lab: &Lab, verify: &str, gate: Option<&str>) {
    let text = std::fs::read_to_string(&lab.config).unwrap();
    let mut out = String::new();
    let mut skip = false;
    for line in text.lines() {
        if line.starts_with('[') {
            skip = false;
            if line == "[verify]" || (line == "[gate]" && gate.is_some()) {
                skip = true;
                let body = if line == "[verify]" {
                    verify
                } else {
                    gate.unwrap_or("")
                };
                out.push_str(&format!("{line}\n{body}\n\n"));
                continue;
            }
        }
        if !skip {
            out.push_str(line);
            out.push('\n');
        }
    }
    std::fs::write(&lab.config, out).unwrap();
}

/// The site file's bytes and inode: a write (even one undone) changes
/// the inode.
fn site(lab: &Lab) -> (Vec<u8>, u64) {
    use std::os::unix::fs::MetadataExt;
    let bytes = std::fs::read(&lab.site).unwrap();
    (bytes, std::fs::metadata(&lab.site).unwrap().ino())
}

/// A switch the verify URL's pre-flight stops: exit 2, `aborted`, the
/// site file untouched, nothing journaled, blue still serving; returns
/// the output.
fn stopped_before_anything_changed(lab: &Lab) -> String {
    let before = site(lab);
    let journal = std::fs::read(lab.dir.join("state/journal.jsonl")).unwrap_or_default();
    let o = bgswitch(lab, &["switch", "--to", "green", "--json"]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    let last: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&o.stdout).lines().last().unwrap()).unwrap();
    assert_eq!(last["result"], "aborted", "{t}");
    assert!(t.contains("nothing changed"), "{t}");
    assert!(
        !t.contains("\"step\":\"edit\"") && !t.contains("\"step\":\"reload\""),
        "{t}"
    );
    assert_eq!(site(lab), before, "the site file was written: {t}");
    assert_eq!(
        std::fs::read(lab.dir.join("state/journal.jsonl")).unwrap_or_default(),
        journal
    );
    assert_eq!(live(lab), "blue");
    t
}

fn live(lab: &Lab) -> String {
    let o = bgswitch(lab, &["status", "--json"]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    doc["live"].as_str().unwrap_or("").to_string()
}

#[test]
fn switches_verified_over_https() {
    let certs = make_certs();
    let Some(lab) = tls_lab(&certs) else { return };
    let lb = lab.lb_port;
    let ca = certs.ca.display().to_string();
    let verify = |extra: &str| {
        format!("url = \"https://lb.test/\"\nheader = \"X-Pool\"\nconsecutive = 3\ntimeout = \"10s\"\n{extra}")
    };

    // ca_file + connect_to + the name: status and a switch.
    configure(
        &lab,
        &verify(&format!(
            "connect_to = \"127.0.0.1:{lb}\"\nca_file = \"{ca}\""
        )),
        None,
    );
    let o = bgswitch(&lab, &["status", "--json"]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["serving"], "blue", "{}", text(&o));
    assert!(!text(&o).contains("insecure"), "{}", text(&o));
    let o = bgswitch(&lab, &["switch", "--to", "green"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("https://lb.test:443/ answered from green"),
        "{}",
        text(&o)
    );
    assert!(!text(&o).contains("insecure"), "{}", text(&o));

    // insecure: no CA, and the output says so.
    configure(
        &lab,
        &verify(&format!("connect_to = \"127.0.0.1:{lb}\"\ninsecure = true")),
        None,
    );
    let o = bgswitch(&lab, &["switch", "--to", "blue"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("insecure"), "{}", text(&o));
    let o = bgswitch(&lab, &["status"]);
    assert!(text(&o).contains("insecure"), "{}", text(&o));

    // A CA that did not sign the certificate: the verify URL's pre-flight
    // fails before anything changes (a switch would fail verify, and the
    // rollback's verify through the same settings too: exit 7), naming
    // the URL, why, and verify.ca_file.
    let other = certs.other_ca.display();
    configure(
        &lab,
        &verify(&format!(
            "connect_to = \"127.0.0.1:{lb}\"\nca_file = \"{other}\""
        )),
        None,
    );
    let t = stopped_before_anything_changed(&lab);
    assert!(
        t.contains("verify.url https://lb.test:443/") && t.contains("does not verify"),
        "{t}"
    );
    assert!(t.contains("set verify.ca_file"), "{t}");
    // deploy too: stopped before `start` runs
    let cfg = std::fs::read_to_string(&lab.config).unwrap();
    let started = lab.dir.join("started-green");
    std::fs::write(
        &lab.config,
        cfg.replace(
            "[pools.green]\n",
            "[pools.green]\nstart = [\"touch\", \"started-{pool}\"]\n",
        ),
    )
    .unwrap();
    let o = bgswitch(&lab, &["deploy", "v2", "--to", "green"]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(
        t.contains("verify.url https://lb.test:443/") && t.contains("nothing changed"),
        "{t}"
    );
    assert!(!started.exists(), "start ran: {t}");
    std::fs::write(&lab.config, cfg).unwrap();

    // The right CA, a name the certificate is not for.
    configure(
        &lab,
        &verify(&format!(
            "connect_to = \"127.0.0.1:{lb}\"\nca_file = \"{ca}\""
        ))
        .replace("lb.test", "other.test"),
        None,
    );
    let t = stopped_before_anything_changed(&lab);
    assert!(
        t.contains("verify.url https://other.test:443/") && t.contains("does not verify"),
        "{t}"
    );
    assert!(
        t.contains("not for other.test") && t.contains("verify.connect_to"),
        "{t}"
    );

    // the right settings again: the switch goes through
    configure(
        &lab,
        &verify(&format!(
            "connect_to = \"127.0.0.1:{lb}\"\nca_file = \"{ca}\""
        )),
        None,
    );
    let o = bgswitch(&lab, &["switch", "--to", "green"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(live(&lab), "green");
}

#[test]
fn https_to_a_plain_http_port_fails_naming_the_url() {
    let certs = make_certs();
    let Some(lab) = tls_lab(&certs) else { return };
    let (app, sidecar) = (lab.green.app, lab.green.sidecar);
    let ca = certs.ca.display().to_string();

    // verify through a port that speaks plain HTTP: stopped by the
    // pre-flight, naming the URL, TLS and what to change
    configure(
        &lab,
        &format!("url = \"https://127.0.0.1:{app}/\"\nheader = \"X-Pool\"\ntimeout = \"2s\"\nca_file = \"{ca}\""),
        None,
    );
    let t = stopped_before_anything_changed(&lab);
    assert!(
        t.contains(&format!("verify.url https://127.0.0.1:{app}/")) && t.contains("TLS"),
        "{t}"
    );
    assert!(
        t.contains("does not speak TLS")
            && t.contains("http://")
            && t.contains("verify.connect_to"),
        "{t}"
    );

    // nothing listening at connect_to: stopped the same way
    let closed = bgswitch::lab::ports::free_loopback_ports(1).unwrap()[0];
    configure(
        &lab,
        &format!("url = \"https://lb.test/\"\nheader = \"X-Pool\"\ntimeout = \"2s\"\nca_file = \"{ca}\"\nconnect_to = \"127.0.0.1:{closed}\""),
        None,
    );
    let t = stopped_before_anything_changed(&lab);
    assert!(
        t.contains(&format!("127.0.0.1:{closed} (verify.connect_to)")),
        "{t}"
    );

    // a health URL over https to the (plain) sidecar, the verify URL
    // right: the gate fails, nothing changed, and status names the URL
    // and the reason
    let lb = lab.lb_port;
    let text_cfg = std::fs::read_to_string(&lab.config).unwrap();
    let plain = format!("http://127.0.0.1:{sidecar}/health");
    let tls = format!("https://127.0.0.1:{sidecar}/health");
    std::fs::write(&lab.config, text_cfg.replace(&plain, &tls)).unwrap();
    configure(
        &lab,
        &format!("url = \"https://lb.test/\"\nheader = \"X-Pool\"\nconnect_to = \"127.0.0.1:{lb}\"\nca_file = \"{ca}\""),
        Some(&format!(
            "timeout = \"1s\"\ninterval = \"200ms\"\nca_file = \"{ca}\""
        )),
    );
    let o = bgswitch(&lab, &["switch", "--to", "green"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains(&tls) && t.contains("TLS"), "{t}");
    let o = bgswitch(&lab, &["status"]);
    let t = text(&o);
    assert!(t.contains(&tls) && t.contains("TLS"), "{t}");
    assert_eq!(live(&lab), "blue");
}

#[test]
fn a_missing_or_empty_ca_file_exits_2_naming_the_key() {
    let certs = make_certs();
    let Some(lab) = tls_lab(&certs) else { return };
    for (verify, gate, key) in [
        ("ca_file = \"/nonexistent/ca.pem\"", None, "verify.ca_file"),
        (
            "",
            Some(format!("ca_file = \"{}\"", certs.key.display())),
            "gate.ca_file",
        ),
        ("connect_to = \"lb.test\"", None, "verify.connect_to"),
    ] {
        configure(
            &lab,
            &format!("url = \"https://lb.test/\"\nheader = \"X-Pool\"\n{verify}"),
            Some(gate.as_deref().unwrap_or("")),
        );
        let before = std::fs::read(&lab.site).unwrap();
        let o = bgswitch(&lab, &["switch", "--to", "green"]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(text(&o).contains(key), "{key}: {}", text(&o));
        assert_eq!(std::fs::read(&lab.site).unwrap(), before);
    }
}
