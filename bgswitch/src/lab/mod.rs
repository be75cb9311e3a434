//! A real blue-green setup on loopback, for `bgswitch demo` and the
//! end-to-end tests: a temporary nginx (its own prefix, loopback ports),
//! two pools of the lab app, each behind a real `health-sidecar`, and a
//! `bgswitch.toml` that points at all of it. Everything is removed when
//! the `Lab` is dropped.

pub mod app;
mod conn;
mod files;
pub mod load;
pub mod namespace;
pub mod ports;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::config::SwitchKind;

/// What to build.
#[derive(Debug, Clone)]
pub struct LabOptions {
    pub kind: SwitchKind,
    /// The nginx binary.
    pub nginx: PathBuf,
    /// The `health-sidecar` binary.
    pub sidecar: PathBuf,
    /// The `bgswitch` binary (it runs the pools' app as `lab-app`).
    pub bgswitch: PathBuf,
    /// Start the green app this long after its sidecar (a pool that is not
    /// ready yet).
    pub green_app_delay: Option<Duration>,
    /// The green app answers as this pool (a pool wired to the wrong app).
    pub green_answers_as: Option<String>,
    pub worker_processes: u32,
    /// `Some(mode)`: no sidecars; the apps answer their own `/health`
    /// (`lab-app --health MODE`: `bare`, `healthy`) and the pools'
    /// `health` are those URLs.
    pub app_health: Option<String>,
    /// The lab starts no app: the test's `start` commands do (and record
    /// their pids in `DIR/pids/`, killed when the lab is dropped).
    pub scripted_apps: bool,
    /// nginx as in a container (see [`namespace`]): in its own mount
    /// namespace, the site file and `nginx.conf` bind-mounted one by one,
    /// test and reload through `nsenter`, no `pid_file`.
    pub namespace: bool,
    /// The load balancer listens only with TLS, with this certificate.
    pub tls: Option<LabTls>,
}

/// The programs a lab runs.
#[derive(Debug, Clone)]
pub struct LabBinaries {
    pub nginx: PathBuf,
    pub sidecar: PathBuf,
    pub bgswitch: PathBuf,
}

impl LabOptions {
    /// A lab of `kind` as the demo runs it and the tests start from: two
    /// nginx workers, a sidecar in front of each app, nothing faulty.
    pub fn new(kind: SwitchKind, bins: LabBinaries) -> Self {
        LabOptions {
            kind,
            nginx: bins.nginx,
            sidecar: bins.sidecar,
            bgswitch: bins.bgswitch,
            green_app_delay: None,
            green_answers_as: None,
            worker_processes: 2,
            app_health: None,
            scripted_apps: false,
            namespace: false,
            tls: None,
        }
    }
}

/// A PEM certificate (chain) and its key for the load balancer.
#[derive(Debug, Clone)]
pub struct LabTls {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Ports of one pool.
#[derive(Debug, Clone, Copy)]
pub struct PoolPorts {
    pub app: u16,
    pub sidecar: u16,
}

/// A running lab.
#[derive(Debug)]
pub struct Lab {
    pub dir: PathBuf,
    pub lb_port: u16,
    pub blue: PoolPorts,
    pub green: PoolPorts,
    /// The file that holds the switch.
    pub site: PathBuf,
    /// `bgswitch.toml` for this lab.
    pub config: PathBuf,
    pub nginx_conf: PathBuf,
    pub nginx: PathBuf,
    /// With [`LabOptions::namespace`]: the namespace and where nginx sees
    /// the files.
    pub namespace: Option<namespace::Namespace>,
    /// `kind = "flag"`: the directory of the flag files.
    pub flag_dir: PathBuf,
    /// Whether the load balancer speaks TLS (`https://` in [`Lab::lb_url`]).
    pub tls: bool,
    children: Vec<Child>,
    /// The app processes by pool name.
    apps: Vec<(String, Child)>,
    delayed_green: Option<std::thread::JoinHandle<()>>,
    /// Tells the thread that starts a delayed app to give up.
    cancel: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// The lab's upstream `keepalive_timeout` for `kind = "flag"`: nginx
/// closes an idle connection to the old pool after this long, so its
/// sidecar reaches `drained` (no reload closes them; see the drain step).
pub const FLAG_UPSTREAM_KEEPALIVE_TIMEOUT: &str = "3s";

/// Why a lab could not start.
pub type LabError = String;

impl Lab {
    pub fn start(opts: &LabOptions) -> Result<Lab, LabError> {
        let dir = unique_dir()?;
        let ports = ports::free_loopback_ports(5).map_err(|e| e.to_string())?;
        let (lb_port, blue, green) = (
            ports[0],
            PoolPorts {
                app: ports[1],
                sidecar: ports[2],
            },
            PoolPorts {
                app: ports[3],
                sidecar: ports[4],
            },
        );
        let (site, nginx_conf) = if opts.namespace {
            (dir.join("host/app.conf"), dir.join("host/nginx.conf"))
        } else {
            (dir.join("sites-available/app.conf"), dir.join("nginx.conf"))
        };
        let mut lab = Lab {
            site,
            config: dir.join("bgswitch.toml"),
            nginx_conf,
            nginx: opts.nginx.clone(),
            namespace: None,
            flag_dir: dir.join("flags"),
            tls: opts.tls.is_some(),
            dir,
            lb_port,
            blue,
            green,
            children: Vec::new(),
            apps: Vec::new(),
            delayed_green: None,
            cancel: Default::default(),
        };
        lab.write_files(opts)?;
        if !opts.scripted_apps {
            lab.start_pool(opts, "blue", blue, None, None)?;
            lab.start_pool(
                opts,
                "green",
                green,
                opts.green_app_delay,
                opts.green_answers_as.clone(),
            )?;
        }
        if opts.namespace {
            lab.namespace = Some(namespace::start(&mut lab)?);
        } else {
            lab.start_nginx()?;
        }
        lab.wait_ready(Duration::from_secs(20), opts)?;
        Ok(lab)
    }

    fn start_pool(
        &mut self,
        opts: &LabOptions,
        name: &str,
        ports: PoolPorts,
        delay: Option<Duration>,
        answers_as: Option<String>,
    ) -> Result<(), LabError> {
        if opts.app_health.is_none() {
            self.start_sidecar(opts, name, ports)?;
        }
        let log = |what: &str| -> Result<Stdio, LabError> {
            let f = std::fs::File::create(self.dir.join(format!("logs/{name}-{what}.log")))
                .map_err(|e| e.to_string())?;
            Ok(Stdio::from(f))
        };
        let mut app = Command::new(&opts.bgswitch);
        app.args(["lab-app", "--listen", &format!("127.0.0.1:{}", ports.app)])
            .args(["--pool", answers_as.as_deref().unwrap_or(name)])
            .args(["--health", opts.app_health.as_deref().unwrap_or("sidecar")])
            .stdout(log("app")?)
            .stderr(log("app-err")?);
        self.spawn_app(name, app, delay)
    }

    fn start_sidecar(
        &mut self,
        opts: &LabOptions,
        name: &str,
        ports: PoolPorts,
    ) -> Result<(), LabError> {
        let log = |what: &str| -> Result<Stdio, LabError> {
            let f = std::fs::File::create(self.dir.join(format!("logs/{name}-{what}.log")))
                .map_err(|e| e.to_string())?;
            Ok(Stdio::from(f))
        };
        let sidecar = Command::new(&opts.sidecar)
            .args(["--listen", &format!("127.0.0.1:{}", ports.sidecar)])
            .args(["--probe", &format!("http://127.0.0.1:{}/health", ports.app)])
            .args(["--app-port", &ports.app.to_string()])
            .args(["--probe-interval", "100ms", "--drain-timeout", "30s"])
            .args(["--version-label", name])
            .stdout(log("sidecar")?)
            .stderr(log("sidecar-err")?)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", opts.sidecar.display()))?;
        self.children.push(sidecar);
        Ok(())
    }

    /// Starts an app now, or after `delay` from a thread (killed through
    /// its pid file).
    fn spawn_app(
        &mut self,
        name: &str,
        mut app: Command,
        delay: Option<Duration>,
    ) -> Result<(), LabError> {
        match delay {
            None => {
                let child = app
                    .spawn()
                    .map_err(|e| format!("starting the {name} app: {e}"))?;
                self.apps.push((name.to_string(), child));
            }
            Some(d) => {
                let pid_file = self.dir.join(format!("{name}-app.pid"));
                let cancel = self.cancel.clone();
                self.delayed_green = Some(std::thread::spawn(move || {
                    let start = Instant::now();
                    while start.elapsed() < d {
                        if cancel.load(std::sync::atomic::Ordering::SeqCst) {
                            return;
                        }
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    if let Ok(child) = app.spawn() {
                        let _ = std::fs::write(&pid_file, child.id().to_string());
                    }
                }));
            }
        }
        Ok(())
    }

    fn start_nginx(&mut self) -> Result<(), LabError> {
        let out = Command::new(&self.nginx)
            .args(["-p"])
            .arg(&self.dir)
            .arg("-c")
            .arg(&self.nginx_conf)
            .output()
            .map_err(|e| format!("starting {}: {e}", self.nginx.display()))?;
        if !out.status.success() {
            return Err(format!(
                "nginx did not start: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(())
    }

    /// Waits until nginx answers and blue is ready (its sidecar or its
    /// own /health); with scripted apps, until nginx answers at all.
    fn wait_ready(&self, timeout: Duration, opts: &LabOptions) -> Result<(), LabError> {
        let deadline = Instant::now() + timeout;
        let blue_health = match opts.app_health {
            None => self.blue.sidecar,
            Some(_) => self.blue.app,
        };
        let sidecar = format!("http://127.0.0.1:{blue_health}/health");
        let lb = crate::http::Url::parse(&self.lb_url("/")).map_err(|e| e.to_string())?;
        // the lab's own certificate is not checked here: the tests do that
        let client = crate::http::Client::new(&crate::http::Transport {
            insecure: self.tls,
            ..Default::default()
        });
        let plain = crate::http::Client::default();
        loop {
            let answer = client.request("GET", &lb, &[], None, Duration::from_secs(1));
            if opts.scripted_apps && answer.is_ok() {
                return Ok(());
            }
            let lb_ok = answer.is_ok_and(|r| r.status == 200);
            let ready = crate::health::probe(&plain, &sidecar, Duration::from_secs(1), None).ready;
            if lb_ok && ready {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "lab not ready after {timeout:?} (nginx answers: {lb_ok}, blue sidecar ready: {ready}); logs in {}{}",
                    self.dir.join("logs").display(),
                    self.log_tails()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The last lines of every non-empty log, for an error that has to be
    /// understood from a CI transcript after the lab's folder is gone.
    fn log_tails(&self) -> String {
        let Ok(entries) = std::fs::read_dir(self.dir.join("logs")) else {
            return String::new();
        };
        let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        let mut out = String::new();
        for path in paths {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            if lines.is_empty() || path.ends_with("access.log") {
                continue;
            }
            out.push_str(&format!("\n--- {}:", path.display()));
            for line in &lines[lines.len().saturating_sub(8)..] {
                out.push_str("\n  ");
                out.push_str(line);
            }
        }
        out
    }

    /// The pid of nginx's master.
    pub fn master_pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.dir.join("nginx.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// Runs the lab's own `nginx -s SIGNAL`.
    pub fn nginx_signal(&self, signal: &str) -> std::io::Result<std::process::Output> {
        Command::new(&self.nginx)
            .arg("-p")
            .arg(&self.dir)
            .arg("-c")
            .arg(&self.nginx_conf)
            .args(["-s", signal])
            .output()
    }

    /// Kills a pool's app (its sidecar stays): nginx then answers 502 for
    /// that pool, and the sidecar's probe fails.
    pub fn kill_app(&mut self, pool: &str) {
        for (name, child) in &mut self.apps {
            if name == pool {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }

    /// The URL of the load balancer.
    pub fn lb_url(&self, path: &str) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}{path}", self.lb_port)
    }

    /// The sidecar URL of a pool.
    pub fn sidecar_url(&self, pool: &str) -> String {
        let port = if pool == "blue" {
            self.blue.sidecar
        } else {
            self.green.sidecar
        };
        format!("http://127.0.0.1:{port}/health")
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(pid) = self.master_pid() {
            let _ = self.nginx_signal("stop");
            // wait for the master to go
            let deadline = Instant::now() + Duration::from_secs(5);
            while Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        self.cancel.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(h) = self.delayed_green.take() {
            let _ = h.join();
        }
        let scripted = std::fs::read_dir(self.dir.join("pids"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path());
        for pid_file in std::iter::once(self.dir.join("green-app.pid")).chain(scripted) {
            if let Ok(pid) = std::fs::read_to_string(&pid_file) {
                if let Ok(pid) = pid.trim().parse::<i32>() {
                    let _ = Command::new("kill").arg(pid.to_string()).status();
                }
            }
        }
        for c in self
            .children
            .iter_mut()
            .chain(self.apps.iter_mut().map(|(_, c)| c))
        {
            let _ = c.kill();
            let _ = c.wait();
        }
        if std::env::var_os("BGSWITCH_KEEP_LAB").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn unique_dir() -> Result<PathBuf, LabError> {
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("bgswitch-lab-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

/// A binary next to the running one (`target/debug/health-sidecar`), else
/// on `PATH`.
pub fn find_binary(name: &str) -> Option<PathBuf> {
    let beside = std::env::current_exe().ok().and_then(|exe| {
        let dir = exe.parent()?.to_path_buf();
        [dir.join(name), dir.parent()?.join(name)]
            .into_iter()
            .find(|p| p.is_file())
    });
    beside.or_else(|| {
        let path = std::env::var_os("PATH").unwrap_or_default();
        std::env::split_paths(&path)
            .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}
