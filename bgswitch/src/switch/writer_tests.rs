#![allow(clippy::unwrap_used)]
use super::*;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

fn config(dir: &Path, write: &str) -> Config {
    let text = format!(
        "[nginx]\nconfig = \"app.conf\"\nwrite = \"{write}\"\n[switch]\nkind = \"map\"\nmap = \"$b\"\n\
         [pools.blue]\ntarget = \"a\"\n[pools.green]\ntarget = \"b\"\n\
         [state]\njournal = \"state/journal.jsonl\"\nlock = \"state/lock\"\n"
    );
    crate::config::parse(&text, &dir.join("bgswitch.toml")).unwrap()
}

/// A site file behind a symlink, mode 0640.
fn site(dir: &Path) -> (PathBuf, PathBuf) {
    fs::create_dir_all(dir.join("avail")).unwrap();
    let real = dir.join("avail/app.conf");
    fs::write(&real, b"old bytes\n").unwrap();
    fs::set_permissions(&real, fs::Permissions::from_mode(0o640)).unwrap();
    let link = dir.join("app.conf");
    std::os::unix::fs::symlink("avail/app.conf", &link).unwrap();
    (link, real)
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn in_place_writes_the_same_inode_through_the_link_and_restores_the_same_way() {
    let dir = tempfile::tempdir().unwrap();
    let (link, real) = site(dir.path());
    let ino = fs::metadata(&real).unwrap().ino();
    let mut w = Writer::new(&config(dir.path(), "in-place"));
    w.check_writable(&link).unwrap();
    assert_eq!(w.write_new(&link, b"old bytes\n", b"new\n").unwrap(), None);
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    let m = fs::metadata(&real).unwrap();
    assert_eq!((m.ino(), m.mode() & 0o777), (ino, 0o640));
    assert_eq!(fs::read(&real).unwrap(), b"new\n");
    // the backup holds the old bytes; no record of a write under way
    let backups = dir.path().join("state/backups");
    let kept = names(&backups);
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(fs::read(backups.join(&kept[0])).unwrap(), b"old bytes\n");
    w.restore(&link, b"old bytes\n").unwrap();
    assert_eq!(fs::metadata(&real).unwrap().ino(), ino);
    assert_eq!(fs::read(&real).unwrap(), b"old bytes\n");
    assert!(nginx_edit::write::find_intents(&backups)
        .unwrap()
        .is_empty());
    assert_eq!(names(&backups).len(), 2);
}

#[test]
fn replace_renames_and_a_restore_brings_the_old_inode_back() {
    let dir = tempfile::tempdir().unwrap();
    let (link, real) = site(dir.path());
    let ino = fs::metadata(&real).unwrap().ino();
    let mut w = Writer::new(&config(dir.path(), "replace"));
    w.write_new(&link, b"old bytes\n", b"new\n").unwrap();
    assert_ne!(fs::metadata(&real).unwrap().ino(), ino);
    assert_eq!(fs::read(&link).unwrap(), b"new\n");
    assert_eq!(names(&dir.path().join("avail")).len(), 2, "the kept link");
    w.restore(&link, b"old bytes\n").unwrap();
    let m = fs::metadata(&real).unwrap();
    assert_eq!((m.ino(), m.nlink()), (ino, 1));
    assert_eq!(fs::read(&real).unwrap(), b"old bytes\n");
    assert_eq!(names(&dir.path().join("avail")), ["app.conf"]);
    // a restore to other bytes than the kept inode's writes a new file
    w.write_new(&link, b"old bytes\n", b"new\n").unwrap();
    w.restore(&link, b"third\n").unwrap();
    assert_eq!(fs::read(&real).unwrap(), b"third\n");
    drop(w);
    assert_eq!(
        names(&dir.path().join("avail")),
        ["app.conf"],
        "links go with the run"
    );
}

#[test]
fn links_of_killed_runs_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let (link, real) = site(dir.path());
    // a pid above pid_max (2^22) never runs
    let stale = link_path(&fs::canonicalize(&real).unwrap(), 4_194_305);
    fs::hard_link(&real, &stale).unwrap();
    let mut w = Writer::new(&config(dir.path(), "replace"));
    w.write_new(&link, b"old bytes\n", b"new\n").unwrap();
    assert!(!stale.exists());
}

#[test]
fn a_file_that_cannot_be_opened_for_writing_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let w = Writer::new(&config(dir.path(), "in-place"));
    // root may write any file; a directory cannot be opened for writing
    let e = w.check_writable(dir.path()).unwrap_err();
    assert!(e.starts_with(&dir.path().display().to_string()), "{e}");
    assert!(
        e.contains("cannot be opened for writing") && e.contains("os error"),
        "{e}"
    );
    let e = w
        .check_writable(&dir.path().join("missing.conf"))
        .unwrap_err();
    assert!(e.contains("No such file"), "{e}");
    // replace mode renames: no such check
    assert!(Writer::new(&config(dir.path(), "replace"))
        .check_writable(dir.path())
        .is_ok());
}
