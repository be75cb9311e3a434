//! `status` says what it cannot see and what the next run will do first:
//! a journal it cannot read, an in-place write a killed run left.

use bgswitch::config::SwitchKind;
use bgswitch::lab::Lab;

use e2e::lab::{bgswitch, code, green_of, lab, read, set_write, text};

/// `status --json` and `status`, both exit 0.
fn status(lab: &Lab) -> (serde_json::Value, String) {
    let o = bgswitch(lab, &["status", "--json"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let doc = serde_json::from_slice(&o.stdout).unwrap();
    let o = bgswitch(lab, &["status"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    (doc, text(&o))
}

fn notes(doc: &serde_json::Value) -> Vec<String> {
    doc["notes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|n| n.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_journal_that_cannot_be_read_is_named_with_the_reason() {
    let Some(lab) = lab(SwitchKind::Map) else {
        return;
    };
    let journal = lab.dir.join("state/journal.jsonl");
    let o = bgswitch(&lab, &["switch"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let (doc, _) = status(&lab);
    assert!(doc.get("notes").is_none(), "nothing to say: {doc}");
    // a journal that is not UTF-8, then one that is a directory
    let mut bytes = read(&journal);
    bytes.extend_from_slice(b"\xff\xfe\n");
    std::fs::write(&journal, bytes).unwrap();
    let (doc, said) = status(&lab);
    let shown = journal.display().to_string();
    let n = notes(&doc);
    assert!(
        n.len() == 1 && n[0].starts_with(&format!("{shown}: the journal cannot be read (")),
        "{doc}"
    );
    assert!(n[0].contains("UTF-8"), "says why: {n:?}");
    assert!(n[0].contains("deployed_version is unknown"), "{n:?}");
    assert!(doc["pools"]["green"]["deployed_version"].is_null());
    assert_eq!(doc["live"], "green", "the rest is still said");
    assert!(said.contains(&format!("note: {}", n[0])), "{said}");
    std::fs::remove_file(&journal).unwrap();
    std::fs::create_dir(&journal).unwrap();
    let (doc, said) = status(&lab);
    let n = notes(&doc);
    assert!(
        n[0].starts_with(&shown) && n[0].contains("directory"),
        "{n:?}"
    );
    assert!(said.contains(&format!("note: {}", n[0])), "{said}");
}

#[test]
fn an_unfinished_in_place_write_is_said_with_what_the_next_run_does() {
    let Some(lab) = lab(SwitchKind::Map) else {
        return;
    };
    set_write(&lab, "in-place");
    let blue = read(&lab.site);
    let green = green_of(&blue);
    // what a run killed in the middle of its write leaves: the record,
    // the backup, and the first half of the new version (which does not
    // parse: status cannot say more, but says why)
    let backups = lab.dir.join("state/backups");
    std::fs::create_dir_all(&backups).unwrap();
    let backup = backups.join("app.conf.killed");
    let (intent, _) = nginx_edit::write::Intent::begin(&lab.site, &green, &backup).unwrap();
    nginx_edit::write::write_in_place(&lab.site, &green[..green.len() / 2]).unwrap();
    let said_of = |n: &str| {
        for part in [
            lab.site.display().to_string(),
            intent.record.display().to_string(),
            backup.display().to_string(),
            "killed while writing it in place".into(),
            "the next switch, deploy or rollback first puts back its old bytes".into(),
            "`repair`".into(),
        ] {
            assert!(n.contains(&part), "{part}: {n}");
        }
    };
    for args in [&["status"][..], &["status", "--json"]] {
        let o = bgswitch(&lab, args);
        assert_eq!(code(&o), 2, "{}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("unexpected end of file"), "{err}");
        said_of(err.lines().find(|l| l.starts_with("note: ")).unwrap_or(""));
    }
    // killed right after the write: the file parses, and says green
    nginx_edit::write::write_in_place(&lab.site, &green).unwrap();
    let (doc, said) = status(&lab);
    assert_eq!(doc["live"], "green");
    let n = notes(&doc);
    assert_eq!(n.len(), 1, "{doc}");
    said_of(&n[0]);
    assert!(said.contains(&format!("note: {}", n[0])), "{said}");
    assert!(intent.record.exists(), "status changes nothing");
    // what it said happens: the next run repairs first
    let o = bgswitch(&lab, &["switch", "--to", "blue", "--json"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(text(&o).contains("\"step\":\"repair\""), "{}", text(&o));
    assert_eq!(read(&lab.site), blue);
    let (doc, _) = status(&lab);
    assert!(doc.get("notes").is_none(), "{doc}");
}

#[test]
fn serving_is_the_pool_answering_through_verify_url_and_null_when_nothing_answers() {
    let Some(lab) = lab(SwitchKind::Map) else {
        return;
    };
    let (doc, said) = status(&lab);
    assert_eq!(doc["serving"], "blue", "{doc}");
    assert!(
        said.contains("serving through the load balancer: blue"),
        "{said}"
    );
    // [verify] url at a port nothing listens on: the key stays, null
    let closed = bgswitch::lab::ports::free_loopback_port().unwrap();
    let config = String::from_utf8(read(&lab.config)).unwrap();
    let lb = format!("url = \"{}\"", lab.lb_url("/"));
    assert!(config.contains(&lb), "{config}");
    let gone = format!("url = \"http://127.0.0.1:{closed}/\"");
    std::fs::write(&lab.config, config.replace(&lb, &gone)).unwrap();
    let (doc, said) = status(&lab);
    assert!(
        doc.as_object().unwrap().contains_key("serving") && doc["serving"].is_null(),
        "{doc}"
    );
    assert_eq!(doc["live"], "blue", "the rest is still said");
    assert!(!said.contains("serving through"), "{said}");
}
