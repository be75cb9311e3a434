//! The lab's files: nginx.conf, the site in the seed style of the
//! switch kind (with an optional TLS listener), and the bgswitch.toml
//! that points at the lab's nginx, pools and state.

use super::{namespace, Lab, LabError, LabOptions, FLAG_UPSTREAM_KEEPALIVE_TIMEOUT};
use crate::config::SwitchKind;

impl Lab {
    /// Writes every file the lab's nginx and bgswitch read.
    pub(super) fn write_files(&self, opts: &LabOptions) -> Result<(), LabError> {
        let d = &self.dir;
        for sub in [
            "logs",
            "pids",
            "sites-available",
            "sites-enabled",
            "state",
            "tmp",
            "host",
            "container/conf.d",
            "flags",
        ] {
            std::fs::create_dir_all(d.join(sub)).map_err(|e| e.to_string())?;
        }
        let main = format!(
            "# bgswitch lab: a temporary nginx on loopback\n\
             worker_processes {workers};\n\
             pid {d}/nginx.pid;\n\
             error_log {d}/logs/error.log warn;\n\
             events {{ worker_connections 1024; }}\n\
             http {{\n\
             \x20   access_log {d}/logs/access.log;\n\
             \x20   client_body_temp_path {d}/tmp/body;\n\
             \x20   proxy_temp_path {d}/tmp/proxy;\n\
             \x20   fastcgi_temp_path {d}/tmp/fastcgi;\n\
             \x20   uwsgi_temp_path {d}/tmp/uwsgi;\n\
             \x20   scgi_temp_path {d}/tmp/scgi;\n\
             \x20   keepalive_timeout 30s;\n\
             \x20   include {include};\n\
             }}\n",
            workers = opts.worker_processes.max(1),
            d = d.display(),
            include = if opts.namespace {
                namespace::site_inside(d).display().to_string()
            } else {
                format!("{}/sites-enabled/*.conf", d.display())
            }
        );
        std::fs::write(&self.nginx_conf, main).map_err(|e| e.to_string())?;
        let (b, g, lb) = (self.blue.app, self.green.app, self.lb_port);
        let listen = match &opts.tls {
            None => format!("listen 127.0.0.1:{lb};"),
            Some(t) => format!(
                "listen 127.0.0.1:{lb} ssl;\n    ssl_certificate {};\n    ssl_certificate_key {};",
                t.cert.display(),
                t.key.display()
            ),
        };
        let site = match opts.kind {
            SwitchKind::Map => format!(
                "# seed style: a map whose default names the live pool\n\
                 upstream app_blue {{\n    server 127.0.0.1:{b};\n    keepalive 16;\n}}\n\n\
                 upstream app_green {{\n    server 127.0.0.1:{g};\n    keepalive 16;\n}}\n\n\
                 map $http_x_deploy_color $backend {{\n    # default app_green;  (a comment that looks like the switch)\n    default app_blue;\n    blue    app_blue;\n    green   app_green;\n}}\n\n\
                 server {{\n    {listen}\n    location / {{\n        proxy_pass http://$backend;\n        proxy_http_version 1.1;\n        proxy_set_header Connection \"\";\n        proxy_next_upstream off;\n    }}\n}}\n"
            ),
            SwitchKind::Upstream => format!(
                "# seed style: one upstream, the idle pool commented out\n\
                 upstream app {{\n    server 127.0.0.1:{b}; # blue\n    # server 127.0.0.1:{g}; # green\n    keepalive 16;\n}}\n\n\
                 server {{\n    {listen}\n    location / {{\n        proxy_pass http://app;\n        proxy_http_version 1.1;\n        proxy_set_header Connection \"\";\n        proxy_next_upstream off;\n    }}\n}}\n"
            ),
            SwitchKind::Flag => format!(
                "# live switch: nginx tests a flag file on every request (no reload)\n\
                 upstream app_blue {{\n    server 127.0.0.1:{b};\n    keepalive 16;\n    keepalive_timeout {ka};\n}}\n\n\
                 upstream app_green {{\n    server 127.0.0.1:{g};\n    keepalive 16;\n    keepalive_timeout {ka};\n}}\n\n\
                 server {{\n    {listen}\n    set $backend app_blue;\n    if (-f {flags}/green) {{ set $backend app_green; }}\n    location / {{\n        proxy_pass http://$backend;\n        proxy_http_version 1.1;\n        proxy_set_header Connection \"\";\n        proxy_next_upstream off;\n    }}\n    # nginx alone, for measuring what the selector costs\n    location = /nginx-only {{\n        return 200 \"nginx\\n\";\n    }}\n}}\n",
                ka = FLAG_UPSTREAM_KEEPALIVE_TIMEOUT,
                flags = self.flag_dir.display()
            ),
            SwitchKind::Replace => format!(
                "# seed style: a one-server upstream whose address is swapped\n\
                 upstream app {{\n    server 127.0.0.1:{b};\n    keepalive 16;\n}}\n\n\
                 server {{\n    {listen}\n    location / {{\n        proxy_pass http://app;\n        proxy_http_version 1.1;\n        proxy_set_header Connection \"\";\n        proxy_next_upstream off;\n    }}\n}}\n"
            ),
        };
        std::fs::write(&self.site, site).map_err(|e| e.to_string())?;
        let commands = if opts.namespace {
            namespace::write_mount_points(d)?;
            namespace::commands_placeholder(&opts.nginx, d)
        } else {
            // sites-enabled holds a symlink, as on Debian.
            std::os::unix::fs::symlink(
                "../sites-available/app.conf",
                d.join("sites-enabled/app.conf"),
            )
            .map_err(|e| e.to_string())?;
            let n = opts.nginx.display();
            let c = self.nginx_conf.display();
            format!(
                "config = \"sites-enabled/app.conf\"\n\
                 test_command = [\"{n}\", \"-q\", \"-t\", \"-p\", \"{d}\", \"-c\", \"{c}\"]\n\
                 reload_command = [\"{n}\", \"-p\", \"{d}\", \"-c\", \"{c}\", \"-s\", \"reload\"]\n\
                 pid_file = \"nginx.pid\"\n",
                d = d.display()
            )
        };
        // Sidecars in front of the apps, or the apps' own /health.
        let (bs, gs) = match opts.app_health {
            None => (self.blue.sidecar, self.green.sidecar),
            Some(_) => (self.blue.app, self.green.app),
        };
        let volatile = if crate::flag::dir::fs_type(d).is_some_and(|t| t == "tmpfs") {
            "# the lab lives in a temporary directory on tmpfs\nflag_dir_volatile = true\n"
        } else {
            ""
        };
        let pools = match opts.kind {
            SwitchKind::Flag => format!(
                "[switch]\nkind = \"flag\"\nmap = \"$backend\"\nflag_dir = \"flags\"\n{volatile}\n\
                 [pools.blue]\ntarget = \"app_blue\"\nhealth = [\"http://127.0.0.1:{bs}/health\"]\n\n\
                 [pools.green]\ntarget = \"app_green\"\nhealth = [\"http://127.0.0.1:{gs}/health\"]\n",
            ),
            SwitchKind::Map => format!(
                "[switch]\nkind = \"map\"\nmap = \"$backend\"\n\n\
                 [pools.blue]\ntarget = \"app_blue\"\nhealth = [\"http://127.0.0.1:{bs}/health\"]\n\n\
                 [pools.green]\ntarget = \"app_green\"\nhealth = [\"http://127.0.0.1:{gs}/health\"]\n",
            ),
            SwitchKind::Upstream | SwitchKind::Replace => format!(
                "[switch]\nkind = \"{kind}\"\nupstream = \"app\"\n\n\
                 [pools.blue]\nservers = [\"127.0.0.1:{b}\"]\nhealth = [\"http://127.0.0.1:{bs}/health\"]\n\n\
                 [pools.green]\nservers = [\"127.0.0.1:{g}\"]\nhealth = [\"http://127.0.0.1:{gs}/health\"]\n",
                kind = if opts.kind == SwitchKind::Upstream { "upstream" } else { "replace" },
            ),
        };
        let toml = format!(
            "# bgswitch for the lab in {d}\n\
             [nginx]\n{commands}reload_timeout = \"5s\"\n\n\
             {pools}\n\
             [gate]\ntimeout = \"10s\"\ninterval = \"100ms\"\n\n\
             [verify]\nurl = \"{verify}\"\nheader = \"X-Pool\"\nconsecutive = 3\ntimeout = \"5s\"\n\n\
             [smoke]\nrequests = [\"GET /health 200\"]\n\n\
             [soak]\naccess_log = \"logs/access.log\"\n\n\
             [drain]\nold_workers_timeout = \"30s\"\nwait_drained = \"30s\"\n\n\
             [state]\njournal = \"state/journal.jsonl\"\nlock = \"state/bgswitch.lock\"\n",
            d = d.display(),
            verify = self.lb_url("/"),
        );
        std::fs::write(&self.config, toml).map_err(|e| e.to_string())
    }
}
