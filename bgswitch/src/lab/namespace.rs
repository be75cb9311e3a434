//! nginx as in a container, without Docker: nginx runs in its own mount
//! namespace (`unshare -m --propagation private`, nginx itself the
//! namespace's process, `daemon off`), with `host/nginx.conf` and
//! `host/app.conf` bind-mounted one by one onto the paths it reads
//! (`container/nginx.conf`, `container/conf.d/app.conf`), as
//! `-v ./app.conf:/etc/nginx/conf.d/app.conf` does. bgswitch edits the
//! host files and tests and reloads through `nsenter -t PID -m nginx ...`,
//! as `docker exec` would, with no `pid_file`.
//!
//! A rename of a host file is never seen inside (the mount holds the old
//! inode), a write into the same inode is: the layout of moby/moby#15793.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{Lab, LabError};

/// Where the namespace's pid goes in `bgswitch.toml` until it is known.
const PID_PLACEHOLDER: &str = "@NAMESPACE_PID@";

/// The running namespace.
#[derive(Debug, Clone)]
pub struct Namespace {
    /// nginx's master, the namespace's process: `nsenter -t PID -m`.
    pub pid: u32,
    /// The site file as nginx sees it (the host's is [`Lab::site`]).
    pub site: PathBuf,
    /// `nginx.conf` as nginx sees it.
    pub main: PathBuf,
}

/// Whether this machine lets us make a mount namespace with bind mounts
/// (root, or the capability): the error says what failed.
pub fn available() -> Result<(), String> {
    let out = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c"])
        .arg("f=$(mktemp) && mount --bind \"$f\" \"$f\"; r=$?; rm -f \"$f\"; exit $r")
        .output()
        .map_err(|e| format!("unshare: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "unshare -m and mount --bind failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The site file's path inside the namespace, under the lab's `dir`.
pub fn site_inside(dir: &Path) -> PathBuf {
    dir.join("container/conf.d/app.conf")
}

fn main_inside(dir: &Path) -> PathBuf {
    dir.join("container/nginx.conf")
}

/// The empty files the host files are mounted onto (a bind mount needs
/// its mount point to exist); outside the namespace they stay empty.
pub(super) fn write_mount_points(dir: &Path) -> Result<(), LabError> {
    for p in [site_inside(dir), main_inside(dir)] {
        std::fs::write(&p, b"").map_err(|e| format!("{}: {e}", p.display()))?;
    }
    Ok(())
}

/// The `[nginx]` lines of `bgswitch.toml`: the host file, and nginx's
/// commands entered into the namespace (its pid filled in by [`start`]).
pub(super) fn commands_placeholder(nginx: &Path, dir: &Path) -> String {
    let n = nginx.display();
    let d = dir.display();
    let c = main_inside(dir);
    let c = c.display();
    let enter = format!("\"nsenter\", \"-t\", \"{PID_PLACEHOLDER}\", \"-m\", \"{n}\"");
    format!(
        "config = \"host/app.conf\"\n\
         test_command = [{enter}, \"-q\", \"-t\", \"-p\", \"{d}\", \"-c\", \"{c}\"]\n\
         reload_command = [{enter}, \"-p\", \"{d}\", \"-c\", \"{c}\", \"-s\", \"reload\"]\n\
         # no pid_file: nginx runs in another namespace, as in a container\n"
    )
}

/// Starts nginx in its namespace with the two files bind-mounted, and
/// writes its pid into the lab's `bgswitch.toml`.
pub(super) fn start(lab: &mut Lab) -> Result<Namespace, LabError> {
    let d = &lab.dir;
    let (site, main) = (site_inside(d), main_inside(d));
    let q = |p: &Path| format!("'{}'", p.display());
    let script = format!(
        "mount --bind {} {} && mount --bind {} {} && exec {} -p {} -c {} -g 'daemon off;'",
        q(&lab.nginx_conf),
        q(&main),
        q(&lab.site),
        q(&site),
        q(&lab.nginx),
        q(d),
        q(&main),
    );
    let log = |name: &str| -> Result<Stdio, LabError> {
        let f = std::fs::File::create(d.join("logs").join(name)).map_err(|e| e.to_string())?;
        Ok(Stdio::from(f))
    };
    let mut child = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", &script])
        .stdin(Stdio::null())
        .stdout(log("namespace.log")?)
        .stderr(log("namespace-err.log")?)
        .spawn()
        .map_err(|e| format!("starting unshare: {e}"))?;
    let pid = child.id();
    // nginx has opened its files once the pid file names it.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            let err = std::fs::read_to_string(d.join("logs/namespace-err.log")).unwrap_or_default();
            return Err(format!(
                "nginx in a mount namespace exited ({status}): {}",
                err.trim()
            ));
        }
        let named =
            std::fs::read_to_string(d.join("nginx.pid")).is_ok_and(|t| t.trim() == pid.to_string());
        if named {
            break;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err("nginx in a mount namespace did not start within 10s".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    lab.children.push(child);
    let toml = std::fs::read_to_string(&lab.config).map_err(|e| e.to_string())?;
    std::fs::write(&lab.config, toml.replace(PID_PLACEHOLDER, &pid.to_string()))
        .map_err(|e| e.to_string())?;
    Ok(Namespace { pid, site, main })
}

impl Lab {
    /// The bytes of `path` as seen inside the namespace (`nsenter ... cat`,
    /// as `docker exec proxy cat` would show them).
    pub fn read_inside(&self, path: &Path) -> Result<Vec<u8>, String> {
        let ns = self.namespace.as_ref().ok_or("the lab has no namespace")?;
        let out = Command::new("nsenter")
            .args(["-t", &ns.pid.to_string(), "-m", "cat"])
            .arg(path)
            .output()
            .map_err(|e| format!("nsenter: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "nsenter ... cat {}: {}",
                path.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(out.stdout)
    }
}
