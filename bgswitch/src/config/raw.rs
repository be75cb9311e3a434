//! The file as written: every field optional, unknown keys refused.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFile {
    pub(super) nginx: Option<RawNginx>,
    pub(super) switch: Option<RawSwitch>,
    pub(super) pools: Option<BTreeMap<String, RawPool>>,
    pub(super) gate: Option<RawGate>,
    pub(super) verify: Option<RawVerify>,
    pub(super) smoke: Option<RawSmoke>,
    pub(super) soak: Option<RawSoak>,
    pub(super) drain: Option<RawDrain>,
    pub(super) state: Option<RawState>,
    pub(super) deploy: Option<super::deploy::RawDeploy>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNginx {
    pub(super) config: Option<String>,
    pub(super) main: Option<String>,
    pub(super) test_command: Option<Vec<String>>,
    pub(super) reload_command: Option<Vec<String>>,
    pub(super) pid_file: Option<String>,
    pub(super) reload_timeout: Option<String>,
    pub(super) write: Option<String>,
    pub(super) dump_command: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSwitch {
    pub(super) kind: Option<String>,
    pub(super) map: Option<String>,
    pub(super) upstream: Option<String>,
    // kind = "flag" (config/flag.rs)
    pub(super) flag_dir: Option<String>,
    pub(super) flag_dir_volatile: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPool {
    pub(super) target: Option<String>,
    pub(super) servers: Option<Vec<String>>,
    pub(super) health: Option<Vec<String>>,
    pub(super) expect: Option<String>,
    // deploy (config/deploy.rs)
    pub(super) start: Option<Vec<String>>,
    pub(super) stop: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGate {
    pub(super) timeout: Option<String>,
    pub(super) interval: Option<String>,
    pub(super) version_field: Option<String>,
    pub(super) connect_to: Option<String>,
    pub(super) ca_file: Option<String>,
    pub(super) insecure: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawVerify {
    pub(super) url: Option<String>,
    pub(super) header: Option<String>,
    pub(super) json_field: Option<String>,
    pub(super) consecutive: Option<i64>,
    pub(super) timeout: Option<String>,
    pub(super) connect_to: Option<String>,
    pub(super) ca_file: Option<String>,
    pub(super) insecure: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSmoke {
    // strings or tables (config/deploy.rs)
    pub(super) requests: Option<Vec<toml::Value>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSoak {
    pub(super) duration: Option<String>,
    pub(super) access_log: Option<String>,
    pub(super) max_5xx_ratio: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDrain {
    pub(super) enabled: Option<bool>,
    pub(super) old_workers_timeout: Option<String>,
    pub(super) wait_drained: Option<String>,
    pub(super) token_file: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawState {
    pub(super) journal: Option<String>,
    pub(super) lock: Option<String>,
}
