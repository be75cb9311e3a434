//! `bgswitch demo`: a real nginx and two app pools behind real sidecars on
//! loopback, switched blue to green and back under live traffic; prints
//! requests per pool, failures and step timings, then removes it all.

use std::time::{Duration, Instant};

use crate::config::{self, SwitchKind};
use crate::lab::load::{Load, LoadOptions};
use crate::lab::{find_binary, Lab, LabOptions};
use crate::report::Reporter;
use crate::switch::{self, SwitchOptions};

/// The lab options for this machine: nginx, health-sidecar and bgswitch
/// itself, found next to this binary or on PATH.
fn lab_options() -> Result<LabOptions, String> {
    let nginx = find_binary("nginx").ok_or(
        "bgswitch demo needs the nginx binary: apt-get install -y nginx (or put nginx on PATH)",
    )?;
    let sidecar = find_binary("health-sidecar").ok_or(
        "bgswitch demo needs the health-sidecar binary next to bgswitch or on PATH: cargo build --release -p health-sidecar",
    )?;
    let me = std::env::current_exe()
        .map_err(|e| format!("cannot find the bgswitch binary itself: {e}"))?;
    Ok(LabOptions {
        kind: SwitchKind::Map,
        nginx,
        sidecar,
        bgswitch: me,
        green_app_delay: None,
        green_answers_as: None,
        worker_processes: 2,
        tls: None,
    })
}

/// `bgswitch lab-up`: a lab that lives until stdin closes (for benchmarks).
pub fn lab_up() -> u8 {
    let lab = match lab_options().and_then(|o| Lab::start(&o)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("lab-up: {e}");
            return 1;
        }
    };
    println!("{}", lab.config.display());
    let _ = std::io::Write::flush(&mut std::io::stdout());
    let mut sink = Vec::new();
    let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
    drop(lab);
    0
}

pub fn run(switches: u32) -> u8 {
    let opts = match lab_options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return 2;
        }
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
        // (the next switch's gate brings the drained pool back)
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
