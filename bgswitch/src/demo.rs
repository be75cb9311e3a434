//! `bgswitch demo`: a real nginx and two app pools behind real sidecars on
//! loopback, switched blue to green and back under live traffic; prints
//! requests per pool, failures and step timings, then removes it all.

use std::time::{Duration, Instant};

use crate::config::{self, SwitchKind};
use crate::lab::load::{Load, LoadOptions};
use crate::lab::{find_binary, Lab, LabOptions};
use crate::report::Reporter;
use crate::switch::{self, SwitchOptions};

pub fn run(switches: u32) -> u8 {
    let Some(nginx) = find_binary("nginx") else {
        eprintln!(
            "bgswitch demo needs the nginx binary: apt-get install -y nginx (or put nginx on PATH)"
        );
        return 2;
    };
    let Some(sidecar) = find_binary("health-sidecar") else {
        eprintln!("bgswitch demo needs the health-sidecar binary next to bgswitch or on PATH: cargo build --release -p health-sidecar");
        return 2;
    };
    let Ok(me) = std::env::current_exe() else {
        eprintln!("cannot find the bgswitch binary itself");
        return 2;
    };
    let opts = LabOptions {
        kind: SwitchKind::Map,
        nginx,
        sidecar,
        bgswitch: me,
        green_app_delay: None,
        green_answers_as: None,
        worker_processes: 2,
    };
    println!("starting a temporary nginx, two pools and their sidecars on 127.0.0.1 ...");
    let lab = match Lab::start(&opts) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("demo: {e}");
            return 1;
        }
    };
    println!(
        "  load balancer  http://127.0.0.1:{}/   (nginx, {}, map $backend)\n  blue   app :{}  sidecar :{}\n  green  app :{}  sidecar :{}",
        lab.lb_port,
        lab.site.display(),
        lab.blue.app,
        lab.blue.sidecar,
        lab.green.app,
        lab.green.sidecar
    );
    let cfg = match config::load(&lab.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("demo: {e}");
            return 1;
        }
    };
    let load = match Load::start(&LoadOptions {
        url: lab.lb_url("/"),
        fresh_clients: 2,
        keepalive_clients: 2,
        slow_clients: 1,
        slow_ms: 1500,
        pause: Duration::from_millis(2),
    }) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("demo: {e}");
            return 1;
        }
    };
    println!("traffic: 2 clients with a connection per request, 2 keep-alive clients, 1 client with 1.5 s requests\n");
    std::thread::sleep(Duration::from_millis(800));
    let started = Instant::now();
    let mut code = 0;
    for i in 0..switches {
        let to = if i % 2 == 0 { "green" } else { "blue" };
        println!("== switch {} -> {to}", i + 1);
        let mut out = Reporter::new(false);
        let outcome = switch::run(
            &cfg,
            &SwitchOptions {
                to: Some(to.into()),
                command: "switch".into(),
                ..SwitchOptions::default()
            },
            &mut out,
        );
        if outcome.code != 0 {
            code = outcome.code;
            break;
        }
        // the drained pool comes back for the next switch
        let back = if to == "green" { "blue" } else { "green" };
        let _ = crate::http::request(
            "POST",
            &crate::http::Url::parse(&format!("{}/undrain", lab.sidecar_url(back)))
                .unwrap_or_else(|_| unreachable_url()),
            &[],
            Duration::from_secs(2),
        );
        std::thread::sleep(Duration::from_millis(800));
        println!();
    }
    let stats = load.stop();
    println!("== traffic over {:.1} s", started.elapsed().as_secs_f64());
    for (pool, n) in &stats.per_pool {
        println!("  served by {pool:<6} {n}");
    }
    println!(
        "  requests {}, failed {}, keep-alive retries (RFC 9112 9.3.1) {}, slow requests completed {}",
        stats.total, stats.failed, stats.retried, stats.slow_done
    );
    for f in &stats.failures {
        println!("  failure: {f}");
    }
    println!("cleaning up {}", lab.dir.display());
    drop(lab);
    if stats.failed > 0 && code == 0 {
        code = 1;
    }
    code
}

fn unreachable_url() -> crate::http::Url {
    crate::http::Url {
        host: "127.0.0.1".into(),
        port: 9,
        path: "/".into(),
    }
}
