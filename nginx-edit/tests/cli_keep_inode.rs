//! `nginx-edit ... --in-place --keep-inode`: the write that a file
//! bind-mounted on its own into a container sees. The bind mounts are real
//! (`unshare -m` + `mount --bind`, as root); with `CI=true` a machine that
//! cannot make them fails these tests instead of skipping them.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_nginx-edit");

fn seed(name: &str) -> String {
    fs::read_to_string(format!(
        "{}/../fixtures/seed/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// `upstream only FILE app 127.0.0.1:3002` with extra flags.
fn flip(path: &Path, extra: &[&str]) -> Output {
    Command::new(BIN)
        .args(["upstream", "only", s(path), "app", "127.0.0.1:3002"])
        .args(extra)
        .output()
        .unwrap()
}

fn flipped() -> String {
    seed("upstream-commented.conf")
        .replace("    server 127.0.0.1:3001", "    # server 127.0.0.1:3001")
        .replace("    # server 127.0.0.1:3002", "    server 127.0.0.1:3002")
}

fn workdir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("upstream_target.conf");
    fs::write(&path, seed("upstream-commented.conf")).unwrap();
    (dir, path)
}

#[test]
fn keeps_the_inode_and_hard_links_and_the_backup() {
    let (dir, path) = workdir();
    let link = dir.path().join("hard-link");
    fs::hard_link(&path, &link).unwrap();
    let ino = fs::metadata(&path).unwrap().ino();
    let o = flip(&path, &["--in-place", "--keep-inode", "--backup", ".bak"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(fs::metadata(&path).unwrap().ino(), ino);
    assert_eq!(fs::read_to_string(&link).unwrap(), flipped());
    assert_eq!(
        fs::read_to_string(dir.path().join("upstream_target.conf.bak")).unwrap(),
        seed("upstream-commented.conf")
    );
    // no record of a write under way is left
    assert_eq!(
        names(dir.path()),
        vec![
            "hard-link",
            "upstream_target.conf",
            "upstream_target.conf.bak"
        ]
    );
}

#[test]
fn without_backup_the_hidden_backup_is_removed_afterwards() {
    let (dir, path) = workdir();
    let o = flip(&path, &["--in-place", "--keep-inode"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(fs::read_to_string(&path).unwrap(), flipped());
    assert_eq!(names(dir.path()), vec!["upstream_target.conf"]);
}

#[test]
fn writes_through_a_symlink_into_its_targets_inode() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("sites-available")).unwrap();
    fs::create_dir(dir.path().join("sites-enabled")).unwrap();
    let real = dir.path().join("sites-available/app.conf");
    fs::write(&real, seed("upstream-commented.conf")).unwrap();
    let ino = fs::metadata(&real).unwrap().ino();
    let link = dir.path().join("sites-enabled/app.conf");
    std::os::unix::fs::symlink("../sites-available/app.conf", &link).unwrap();
    let o = flip(&link, &["--in-place", "--keep-inode", "--backup", ".bak"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(fs::metadata(&real).unwrap().ino(), ino);
    assert_eq!(fs::read_to_string(&real).unwrap(), flipped());
    assert_eq!(names(&dir.path().join("sites-enabled")), vec!["app.conf"]);
}

#[test]
fn keep_inode_needs_in_place() {
    let (_d, path) = workdir();
    let o = flip(&path, &["--keep-inode"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--in-place"), "{}", stderr(&o));
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        seed("upstream-commented.conf")
    );
}

#[test]
fn an_interrupted_write_is_repaired_before_the_next_edit() {
    let (dir, path) = workdir();
    let backup = dir.path().join("upstream_target.conf.bak");
    // A run killed after the truncate: half the new bytes, record on disk.
    let new = flipped();
    let (intent, _) = nginx_edit::write::Intent::begin(&path, new.as_bytes(), &backup).unwrap();
    fs::write(&path, &new.as_bytes()[..new.len() / 2]).unwrap();
    assert!(intent.record.exists());

    let o = flip(&path, &["--in-place", "--keep-inode", "--backup", ".bak"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("an interrupted in-place write was found"),
        "{}",
        stderr(&o)
    );
    // the edit ran on the repaired whole old file
    assert_eq!(fs::read_to_string(&path).unwrap(), new);
    assert!(!intent.record.exists());
}

/// Runs `script` with `sh` in a new mount namespace. `None` when this
/// machine cannot make one (not root, no unshare) and `CI` is not `true`.
fn in_mount_namespace(script: &str) -> Option<Output> {
    let o = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-euc", script])
        .env("NGINX_EDIT", BIN)
        .output();
    let unavailable = match &o {
        Err(e) => Some(e.to_string()),
        Ok(o) if !o.status.success() && stderr(o).contains("unshare failed") => Some(stderr(o)),
        Ok(_) => None,
    };
    if let Some(why) = unavailable {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true: cannot make a mount namespace for the bind-mount test: {why}"
        );
        eprintln!("skipped: no mount namespace here ({why}); CI=true makes this a failure");
        return None;
    }
    o.ok()
}

#[test]
fn a_single_file_bind_mount_sees_the_in_place_write_and_not_the_rename() {
    // As `-v ./upstream_target.conf:/etc/nginx/conf.d/upstream_target.conf`:
    // MOUNTED is what the container reads; the host edits HOST.
    let (dir, host) = workdir();
    let mounted = dir.path().join("mounted.conf");
    fs::write(&mounted, "").unwrap();
    let script = format!(
        r#"mount --bind '{host}' '{mounted}'
"$NGINX_EDIT" upstream only '{host}' app 127.0.0.1:3002 --in-place
echo "rename: $(grep -c '^    server 127.0.0.1:3002' '{mounted}' || true)"
"$NGINX_EDIT" upstream only '{host}' app 127.0.0.1:3001 --in-place --keep-inode
umount '{mounted}'
mount --bind '{host}' '{mounted}'
"$NGINX_EDIT" upstream only '{host}' app 127.0.0.1:3002 --in-place --keep-inode
echo "keep-inode: $(grep -c '^    server 127.0.0.1:3002' '{mounted}' || true)"
"#,
        host = s(&host),
        mounted = s(&mounted),
    );
    let Some(o) = in_mount_namespace(&script) else {
        return;
    };
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{out}{}", stderr(&o));
    // After the rename the mount still shows the old inode: green is not
    // live inside; after the in-place write it is.
    assert!(out.contains("rename: 0\n"), "{out}");
    assert!(out.contains("keep-inode: 1\n"), "{out}");
    assert_eq!(fs::read_to_string(&host).unwrap(), flipped());
}

#[test]
fn a_file_that_cannot_be_opened_for_writing_is_exit_2_and_nothing_changes() {
    // A read-only bind mount of the file over itself: root cannot write it.
    let (dir, path) = workdir();
    let script = format!(
        r#"mount --bind '{p}' '{p}'
mount -o remount,bind,ro '{p}'
set +e
"$NGINX_EDIT" upstream only '{p}' app 127.0.0.1:3002 --in-place --keep-inode --backup .bak
echo "exit: $?"
"#,
        p = s(&path)
    );
    let Some(o) = in_mount_namespace(&script) else {
        return;
    };
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("exit: 2\n"), "{out}{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains(&format!("error: cannot write {}: ", s(&path)))
            && err.contains("Read-only file system"),
        "{err}"
    );
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        seed("upstream-commented.conf")
    );
    assert_eq!(names(dir.path()), vec!["upstream_target.conf"], "no backup");
}
