#![allow(clippy::unwrap_used)]
use super::*;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

const OLD: &[u8] = b"upstream app {\n    server blue:8000;\n}\n";
const NEW: &[u8] = b"upstream app {\n    server green:8000;\n}\n";

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn keeps_inode_mode_owner_and_hard_links() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.conf");
    fs::write(&path, OLD).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
    // As root, hand the file to `nobody`, as /etc/nginx files often are.
    let _ = std::os::unix::fs::chown(&path, Some(65534), Some(65534));
    let link = dir.path().join("hard.conf");
    fs::hard_link(&path, &link).unwrap();
    let before = fs::metadata(&path).unwrap();

    let backup = dir.path().join("app.conf.bak");
    write_in_place_guarded(&path, NEW, &backup).unwrap();

    let after = fs::metadata(&path).unwrap();
    assert_eq!(after.ino(), before.ino());
    assert_eq!(after.mode(), before.mode());
    assert_eq!((after.uid(), after.gid()), (before.uid(), before.gid()));
    assert_eq!(after.nlink(), 2);
    assert_eq!(fs::read(&link).unwrap(), NEW, "the hard link sees it too");
    assert_eq!(fs::read(&backup).unwrap(), OLD);
    assert!(!intent_path(&backup).exists(), "record removed after");
}

#[test]
fn writes_through_a_symlink_to_its_targets_inode() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real.conf");
    fs::write(&real, OLD).unwrap();
    let ino = fs::metadata(&real).unwrap().ino();
    let link = dir.path().join("link.conf");
    std::os::unix::fs::symlink("real.conf", &link).unwrap();

    let written = write_in_place(&link, NEW).unwrap();
    assert_eq!(written, fs::canonicalize(&real).unwrap());
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(fs::metadata(&real).unwrap().ino(), ino);
    assert_eq!(fs::read(&real).unwrap(), NEW);
}

#[test]
fn backup_and_record_are_on_disk_before_the_bytes_change() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.conf");
    fs::write(&path, OLD).unwrap();
    let backups = dir.path().join("backups");
    fs::create_dir(&backups).unwrap();
    let backup = backups.join("app.conf.1");

    let (intent, old) = Intent::begin(&path, NEW, &backup).unwrap();
    assert_eq!(old, OLD);
    assert_eq!(fs::read(&path).unwrap(), OLD, "begin changes nothing");
    assert_eq!(fs::read(&backup).unwrap(), OLD);
    assert_eq!(find_intents(&backups).unwrap(), vec![intent.record.clone()]);
    let read = Intent::read(&intent.record).unwrap();
    assert_eq!(read, intent);
    assert_eq!(read.target, fs::canonicalize(&path).unwrap());
    assert_eq!(read.old, Fingerprint::of(OLD));
    assert_eq!(read.new, Fingerprint::of(NEW));

    write_in_place(&path, NEW).unwrap();
    intent.finish().unwrap();
    assert!(find_intents(&backups).unwrap().is_empty());
    assert_eq!(names(&backups), vec!["app.conf.1"], "the backup stays");
    assert_eq!(fs::read(&path).unwrap(), NEW);
}

#[test]
fn repair_restores_the_old_bytes_after_a_kill_at_any_length() {
    // A kill after the truncate leaves any prefix of the new bytes; each
    // one is repaired to the exact old bytes, in the same inode.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.conf");
    let backup = dir.path().join("app.conf.bak");
    for cut in 0..NEW.len() {
        fs::write(&path, OLD).unwrap();
        let ino = fs::metadata(&path).unwrap().ino();
        let (intent, _) = Intent::begin(&path, NEW, &backup).unwrap();
        write_in_place(&path, &NEW[..cut]).unwrap();
        assert_eq!(repair(&intent.record).unwrap(), Repair::RestoredFromPartial);
        assert_eq!(fs::read(&path).unwrap(), OLD, "cut at {cut}");
        assert_eq!(fs::metadata(&path).unwrap().ino(), ino);
        assert!(!intent.record.exists());
    }
}

#[test]
fn repair_undoes_an_unconfirmed_complete_write_and_leaves_an_untouched_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.conf");
    let backup = dir.path().join("app.conf.bak");
    fs::write(&path, OLD).unwrap();
    let (intent, _) = Intent::begin(&path, NEW, &backup).unwrap();
    write_in_place(&path, NEW).unwrap();
    assert_eq!(repair(&intent.record).unwrap(), Repair::RestoredFromNew);
    assert_eq!(fs::read(&path).unwrap(), OLD);

    let (intent, _) = Intent::begin(&path, NEW, &backup).unwrap();
    assert_eq!(repair(&intent.record).unwrap(), Repair::Untouched);
    assert_eq!(fs::read(&path).unwrap(), OLD);
    assert!(!intent.record.exists());
}

#[test]
fn repair_refuses_a_backup_that_is_not_the_old_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.conf");
    let backup = dir.path().join("app.conf.bak");
    fs::write(&path, OLD).unwrap();
    let (intent, _) = Intent::begin(&path, NEW, &backup).unwrap();
    write_in_place(&path, &NEW[..5]).unwrap();
    fs::write(&backup, b"something else").unwrap();
    let e = repair(&intent.record).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    assert_eq!(fs::read(&path).unwrap(), &NEW[..5], "nothing changed");
    assert!(intent.record.exists(), "the record stays for a later look");
}

#[test]
fn a_missing_file_is_an_error_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nope.conf");
    let e = write_in_place(&path, NEW).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::NotFound);
    let e = write_in_place_guarded(&path, NEW, &dir.path().join("nope.bak")).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::NotFound);
    assert!(names(dir.path()).is_empty());
}

#[test]
fn a_damaged_record_is_invalid_data() {
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join(".x.intent");
    fs::write(&record, b"{").unwrap();
    let e = repair(&record).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    assert!(e.to_string().contains(".x.intent"), "{e}");
}

#[test]
fn record_names_stay_out_of_include_globs() {
    let p = intent_path(Path::new("/var/lib/bgswitch/backups/app.conf.17"));
    assert_eq!(
        p,
        Path::new("/var/lib/bgswitch/backups/.app.conf.17.intent")
    );
}

#[test]
fn a_restore_keeps_the_inode_and_its_backup_is_what_repair_returns_to() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.conf");
    fs::write(&path, NEW).unwrap();
    let ino = fs::metadata(&path).unwrap().ino();
    let backup = dir.path().join("app.conf.restore");
    restore_in_place_guarded(&path, OLD, &backup).unwrap();
    assert_eq!(fs::read(&path).unwrap(), OLD);
    assert_eq!(fs::metadata(&path).unwrap().ino(), ino);
    assert_eq!(fs::read(&backup).unwrap(), OLD);
    assert!(find_intents(dir.path()).unwrap().is_empty());
    // killed mid-restore (the file cut short): repair finishes the restore
    write_in_place(&path, &NEW[..5]).unwrap();
    let intent = Intent {
        target: fs::canonicalize(&path).unwrap(),
        backup: backup.clone(),
        old: Fingerprint::of(OLD),
        new: Fingerprint::of(NEW),
        record: intent_path(&backup),
    };
    fs::write(&intent.record, serde_json::to_vec(&intent).unwrap()).unwrap();
    assert_eq!(repair(&intent.record).unwrap(), Repair::RestoredFromPartial);
    assert_eq!(fs::read(&path).unwrap(), OLD);
}
