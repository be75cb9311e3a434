//! `bgswitch demo`: a real nginx and two app pools behind real sidecars on
//! loopback, switched blue to green and back under live traffic; prints
//! requests per pool, failures and step timings, then removes it all.

use std::time::{Duration, Instant};

use crate::config::{self, SwitchKind};
use crate::lab::load::{Load, LoadOptions, LoadStats};
use crate::lab::{find_binary, Lab, LabBinaries, LabOptions};
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
    Ok(LabOptions::new(
        SwitchKind::Map,
        LabBinaries {
            nginx,
            sidecar,
            bgswitch: me,
        },
    ))
}

/// `bgswitch lab-up`: a lab that lives until stdin closes (for benchmarks).
pub fn lab_up(kind: &str) -> u8 {
    let kind = match kind {
        "map" => SwitchKind::Map,
        "upstream" => SwitchKind::Upstream,
        "replace" => SwitchKind::Replace,
        "flag" => SwitchKind::Flag,
        other => {
            eprintln!("lab-up: --kind {other}: not one of map, upstream, replace, flag");
            return 2;
        }
    };
    let lab = match lab_options().and_then(|o| Lab::start(&LabOptions { kind, ..o })) {
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

/// What one demo run saw.
#[derive(Debug)]
struct Seen {
    stats: LoadStats,
    /// Per switch that ended `switched`: ms to the verified switch (lock
    /// to verify) and ms of the drain.
    switch_ms: Vec<(u64, u64)>,
    code: u8,
}

/// `bgswitch demo`: one lab (`kind = "map"`), switched under traffic.
/// `--compare`: the same traffic through a map switch (reload) and a flag
/// switch (no reload), and what each client kind saw, side by side.
pub fn run(switches: u32, compare: bool) -> u8 {
    let opts = match lab_options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return 2;
        }
    };
    if !compare {
        return match run_kind(&opts, SwitchKind::Map, switches, true) {
            Ok(seen) => seen.code,
            Err(code) => code,
        };
    }
    let mut seen = Vec::new();
    for kind in [SwitchKind::Map, SwitchKind::Flag] {
        match run_kind(&opts, kind, switches, false) {
            Ok(s) => seen.push(s),
            Err(code) => return code,
        }
    }
    print_compare(&seen[0], &seen[1], switches);
    seen.iter().map(|s| s.code).max().unwrap_or(0)
}

fn kind_name(kind: SwitchKind) -> &'static str {
    match kind {
        SwitchKind::Map => "map",
        SwitchKind::Upstream => "upstream",
        SwitchKind::Replace => "replace",
        SwitchKind::Flag => "flag",
    }
}

fn print_compare(map: &Seen, flag: &Seen, switches: u32) {
    println!("\n== the same traffic through {switches} switches each");
    println!(
        "  {:<34} {:<30} kind = \"flag\" (no reload)",
        "", "kind = \"map\" (edit + reload)"
    );
    let rows = [
        ("keep-alive, never retries", "keepalive-noretry"),
        ("keep-alive, retries once", "keepalive"),
        ("a connection per request", "fresh"),
        ("1.5 s requests", "slow"),
    ];
    for (label, key) in rows {
        let cell = |s: &Seen| {
            let k = s.stats.per_kind.get(key).copied().unwrap_or_default();
            format!("{} failed of {}", k.failed, k.total)
        };
        println!("  {label:<34} {:<30} {}", cell(map), cell(flag));
    }
    let retried = |s: &Seen| format!("{}", s.stats.retried);
    println!(
        "  {:<34} {:<30} {}",
        "retries needed (RFC 9112 9.3.1)",
        retried(map),
        retried(flag)
    );
    for (label, pick) in [
        ("median time to a verified switch", 0),
        ("median drain of the old pool", 1),
    ] {
        let median = |s: &Seen| {
            let mut v: Vec<u64> = s
                .switch_ms
                .iter()
                .map(|m| if pick == 0 { m.0 } else { m.1 })
                .collect();
            v.sort_unstable();
            v.get(v.len() / 2)
                .map_or("-".to_string(), |m| format!("{m} ms"))
        };
        println!("  {label:<34} {:<30} {}", median(map), median(flag));
    }
    println!("  (flag: the drain waits for nginx to close its idle keep-alive connections to the old pool, upstream keepalive_timeout {})", crate::lab::FLAG_UPSTREAM_KEEPALIVE_TIMEOUT);
}

/// Starts a lab of `kind`, switches it `switches` times under traffic,
/// stops it. `Err`: the exit code of a lab that did not start.
fn run_kind(opts: &LabOptions, kind: SwitchKind, switches: u32, verbose: bool) -> Result<Seen, u8> {
    let name = kind_name(kind);
    println!(
        "starting a temporary nginx ({name} switch), two pools and their sidecars on 127.0.0.1 ..."
    );
    let lab = match Lab::start(&LabOptions {
        kind,
        ..opts.clone()
    }) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("demo: {e}");
            return Err(1);
        }
    };
    let selector = match kind {
        SwitchKind::Flag => "flag selector $backend",
        _ => "map $backend",
    };
    println!(
        "  load balancer  http://127.0.0.1:{}/   (nginx, {}, {selector})\n  blue   app :{}  sidecar :{}\n  green  app :{}  sidecar :{}",
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
            return Err(1);
        }
    };
    let load = match Load::start(&LoadOptions {
        url: lab.lb_url("/"),
        fresh_clients: 2,
        keepalive_clients: 2,
        keepalive_noretry_clients: 2,
        slow_clients: 1,
        slow_ms: 1500,
        pause: Duration::from_millis(2),
    }) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("demo: {e}");
            return Err(1);
        }
    };
    println!("traffic: 2 clients with a connection per request, 2 keep-alive clients that retry once, 2 that never retry, 1 client with 1.5 s requests\n");
    std::thread::sleep(Duration::from_millis(800));
    let started = Instant::now();
    let mut code = 0;
    let mut switch_ms = Vec::new();
    for i in 0..switches {
        let to = if i % 2 == 0 { "green" } else { "blue" };
        println!("== {name} switch {} -> {to}", i + 1);
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
        let ms_of = |names: &[&str]| -> u64 {
            out.events
                .iter()
                .filter(|e| e["step"].as_str().is_some_and(|n| names.contains(&n)))
                .filter_map(|e| e["ms"].as_u64())
                .sum()
        };
        switch_ms.push((
            ms_of(&[
                "lock", "read", "gate", "smoke", "edit", "reload", "flag", "verify",
            ]),
            ms_of(&["drain"]),
        ));
        // (the next switch's gate brings the drained pool back)
        std::thread::sleep(Duration::from_millis(800));
        println!();
    }
    let stats = load.stop();
    println!(
        "== traffic over {:.1} s ({name})",
        started.elapsed().as_secs_f64()
    );
    for (pool, n) in &stats.per_pool {
        println!("  served by {pool:<6} {n}");
    }
    println!(
        "  requests {}, failed {}, keep-alive retries (RFC 9112 9.3.1) {}, slow requests completed {}",
        stats.total, stats.failed, stats.retried, stats.slow_done
    );
    for (kind, k) in &stats.per_kind {
        println!("  {kind:<18} {} failed of {}", k.failed, k.total);
    }
    if verbose {
        for f in &stats.failures {
            println!("  failure: {f}");
        }
    }
    println!("cleaning up {}\n", lab.dir.display());
    drop(lab);
    // Map: a keep-alive client that never retries may see a reload's
    // closed connection (DESIGN.md); every other failure counts.
    let counted = match kind {
        SwitchKind::Flag => stats.failed,
        _ => {
            stats.failed
                - stats
                    .per_kind
                    .get("keepalive-noretry")
                    .map_or(0, |k| k.failed)
        }
    };
    if counted > 0 && code == 0 {
        code = 1;
    }
    Ok(Seen {
        stats,
        switch_ms,
        code,
    })
}
