//! Which pool is live, and the edit that makes another one live, for the
//! three switch kinds. The nginx config is the source of truth: the live
//! pool is read from it every time, never from a state file. All reading
//! and editing goes through the `nginx-edit` library.

use std::path::PathBuf;

use nginx_edit::includes::{ConfigSet, LoadError, LoadOptions};
use nginx_edit::{Document, EditError, ServerState};

use crate::config::{Config, Pool, SwitchKind};
use crate::flag::FlagSwitch;

/// Whether two paths name the same file (through symlinks too).
fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Why the nginx side of a switch cannot be read or planned.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    #[error("{0}")]
    Load(#[from] LoadError),
    #[error("{file}: {source}")]
    Edit {
        file: String,
        #[source]
        source: EditError,
    },
    #[error("{0}")]
    Config(String),
}

/// The nginx files and the index of the one that holds the switch.
#[derive(Debug)]
pub struct NginxFiles {
    pub set: ConfigSet,
    pub index: usize,
    /// What was read around (files that do not parse), for the output.
    pub notes: Vec<String>,
}

impl NginxFiles {
    /// Reads `[nginx] config` (or, with `main`, the whole include tree)
    /// and finds the file that holds the map or upstream.
    ///
    /// Only the file that holds the switch must parse: a broken file
    /// elsewhere is `nginx -t`'s to report (exit 3, old bytes kept), so it
    /// is read around, and a `main` that does not parse falls back to
    /// `config` alone.
    pub fn load(cfg: &Config) -> Result<NginxFiles, PoolError> {
        let mut notes = Vec::new();
        let set = match &cfg.nginx.main {
            Some(main) => {
                let options = LoadOptions {
                    tolerate_parse_errors: true,
                    ..LoadOptions::default()
                };
                match ConfigSet::load_with(main, &options) {
                    Ok(set) => set,
                    Err(e @ LoadError::Parse { .. }) => {
                        notes.push(format!("{e}: reading nginx.config alone"));
                        ConfigSet::single(&cfg.nginx.config)?
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            None => ConfigSet::single(&cfg.nginx.config)?,
        };
        for (path, e) in &set.unparsable {
            notes.push(format!(
                "{}:{}:{}: {}: left to nginx -t",
                path.display(),
                e.line,
                e.column,
                e.message()
            ));
        }
        let (what, not_found) = match cfg.switch.kind {
            SwitchKind::Map | SwitchKind::Flag => {
                let var = cfg.switch.map.clone().unwrap_or_default();
                (format!("map {var}"), EditError::MapNotFound(var))
            }
            SwitchKind::Upstream | SwitchKind::Replace => {
                let name = cfg.switch.upstream.clone().unwrap_or_default();
                (
                    format!("upstream {name}"),
                    EditError::UpstreamNotFound(name),
                )
            }
        };
        // `config` names the file when it is one of the tree's and holds
        // the switch (another map of that name, say in `stream`, is not it).
        let named = set
            .files
            .iter()
            .position(|f| same_file(&f.path, &cfg.nginx.config) && holds_switch(cfg, f.doc()));
        if let Some(index) = named {
            return Ok(NginxFiles { set, index, notes });
        }
        let index = set
            .locate(&what, not_found, |doc| holds_switch(cfg, doc))
            .map_err(|source| PoolError::Edit {
                file: cfg
                    .nginx
                    .main
                    .as_ref()
                    .unwrap_or(&cfg.nginx.config)
                    .display()
                    .to_string(),
                source,
            })?;
        Ok(NginxFiles { set, index, notes })
    }

    pub fn doc(&self) -> &Document {
        self.set.files[self.index].doc()
    }

    pub fn path(&self) -> PathBuf {
        self.set.files[self.index].path.clone()
    }

    fn edit_error(&self, source: EditError) -> PoolError {
        PoolError::Edit {
            file: self.path().display().to_string(),
            source,
        }
    }

    /// Checks that every pool names something the nginx config has, before
    /// anything is touched.
    pub fn validate(&self, cfg: &Config) -> Result<(), PoolError> {
        let doc = self.doc();
        match cfg.switch.kind {
            SwitchKind::Map => {
                let map = doc.map(map_var(cfg)).map_err(|e| self.edit_error(e))?;
                let values: Vec<String> = map.entries().into_iter().map(|(_, v)| v).collect();
                let upstreams: Vec<String> = self
                    .set
                    .files
                    .iter()
                    .flat_map(|f| {
                        f.doc()
                            .upstreams()
                            .into_iter()
                            .map(|u| u.name())
                            .collect::<Vec<_>>()
                    })
                    .collect();
                for pool in cfg.pools.values() {
                    let target = pool.target.clone().unwrap_or_default();
                    let known = upstreams.contains(&target)
                        || values.contains(&target)
                        || map.default().as_deref() == Some(target.as_str());
                    if !known {
                        return Err(PoolError::Config(format!(
                            "pools.{}.target: \"{target}\" is neither an upstream nor a value of map {} in {}",
                            pool.name,
                            map_var(cfg),
                            self.path().display()
                        )));
                    }
                }
            }
            SwitchKind::Upstream => {
                let up = doc
                    .upstream(upstream_name(cfg))
                    .map_err(|e| self.edit_error(e))?;
                let servers = up.servers();
                for pool in cfg.pools.values() {
                    for s in &pool.servers {
                        if !servers.iter().any(|x| &x.address == s) {
                            return Err(PoolError::Config(format!(
                                "pools.{}.servers: \"{s}\" is not a server of upstream {} in {}",
                                pool.name,
                                upstream_name(cfg),
                                self.path().display()
                            )));
                        }
                    }
                }
            }
            SwitchKind::Replace => {
                doc.upstream(upstream_name(cfg))
                    .map_err(|e| self.edit_error(e))?;
            }
            SwitchKind::Flag => {
                let flags = self.flag(cfg)?;
                flags.check_dir().map_err(PoolError::Config)?;
            }
        }
        Ok(())
    }

    /// The live pool's name, or `None` when the config matches no pool (or
    /// both, half-switched by hand).
    pub fn live(&self, cfg: &Config) -> Result<Option<String>, PoolError> {
        let doc = self.doc();
        Ok(match cfg.switch.kind {
            SwitchKind::Flag => self.flag(cfg)?.live(cfg),
            SwitchKind::Map => {
                let default = doc
                    .map(map_var(cfg))
                    .map_err(|e| self.edit_error(e))?
                    .default();
                cfg.pools
                    .values()
                    .find(|p| p.target.is_some() && p.target == default)
                    .map(|p| p.name.clone())
            }
            SwitchKind::Upstream | SwitchKind::Replace => {
                let servers = doc
                    .upstream(upstream_name(cfg))
                    .map_err(|e| self.edit_error(e))?
                    .servers();
                let enabled = |a: &String| {
                    servers
                        .iter()
                        .any(|s| &s.address == a && s.state == ServerState::Enabled)
                };
                // Live: all of the pool's servers enabled and, for
                // `upstream`, none of the other pool's.
                let is_live = |p: &Pool| {
                    p.servers.iter().all(enabled)
                        && (cfg.switch.kind == SwitchKind::Replace
                            || cfg
                                .pools
                                .values()
                                .filter(|o| o.name != p.name)
                                .flat_map(|o| o.servers.iter())
                                .filter(|a| !p.servers.contains(a))
                                .all(|a| !enabled(a)))
                };
                let live: Vec<&Pool> = cfg.pools.values().filter(|p| is_live(p)).collect();
                match live.as_slice() {
                    [one] => Some(one.name.clone()),
                    _ => None,
                }
            }
        })
    }

    /// The document with `to` made live.
    pub fn plan(&self, cfg: &Config, from: Option<&str>, to: &str) -> Result<Document, PoolError> {
        let doc = self.doc();
        let pool = &cfg.pools[to];
        let result = match cfg.switch.kind {
            // Nothing in the nginx config changes (see `flag`).
            SwitchKind::Flag => Ok(doc.clone()),
            SwitchKind::Map => {
                doc.map_set_default(map_var(cfg), pool.target.as_deref().unwrap_or_default())
            }
            SwitchKind::Upstream => {
                let name = upstream_name(cfg);
                // The style the upstream uses now (comment or down), fixed
                // before the edit changes what there is to detect.
                let style = doc
                    .upstream(name)
                    .map_err(|e| self.edit_error(e))?
                    .detected_style();
                // Enable the target's servers first, so the upstream never
                // has no enabled server in between.
                let mut next = doc.clone();
                for s in &pool.servers {
                    next = next
                        .upstream_enable(name, s)
                        .map_err(|e| self.edit_error(e))?;
                }
                for other in cfg.pools.values().filter(|p| p.name != to) {
                    for s in other.servers.iter().filter(|s| !pool.servers.contains(s)) {
                        next = next
                            .upstream_disable(name, s, style, false)
                            .map_err(|e| self.edit_error(e))?;
                    }
                }
                Ok(next)
            }
            SwitchKind::Replace => {
                let name = upstream_name(cfg);
                let from = from.ok_or_else(|| {
                    PoolError::Config("kind = \"replace\" needs a live pool to replace".into())
                })?;
                let mut next = doc.clone();
                for (old, new) in cfg.pools[from].servers.iter().zip(&pool.servers) {
                    next = next
                        .upstream_replace(name, old, new)
                        .map_err(|e| self.edit_error(e))?;
                }
                Ok(next)
            }
        };
        result.map_err(|e| self.edit_error(e))
    }

    /// The flag selector of every server that proxies with the switch's
    /// variable, checked against the pools (`kind = "flag"`).
    pub fn flag(&self, cfg: &Config) -> Result<FlagSwitch, PoolError> {
        FlagSwitch::read(&self.set, cfg).map_err(PoolError::Config)
    }

    /// The addresses that serve `pool`: its `servers`, or for a map switch
    /// the servers of the upstream its target names.
    pub fn pool_addresses(&self, cfg: &Config, pool: &str) -> Vec<String> {
        let p = &cfg.pools[pool];
        if !p.servers.is_empty() {
            return p.servers.clone();
        }
        let Some(target) = &p.target else {
            return Vec::new();
        };
        self.set
            .files
            .iter()
            .find_map(|f| f.doc().upstream(target).ok().map(|u| u.servers()))
            .unwrap_or_default()
            .into_iter()
            .filter(|s| s.state != ServerState::Commented)
            .map(|s| s.address)
            .collect()
    }
}

fn holds_switch(cfg: &Config, doc: &Document) -> bool {
    match cfg.switch.kind {
        SwitchKind::Flag => crate::init::servers::virtual_servers(doc)
            .into_iter()
            .any(|s| {
                crate::init::servers::proxied_targets(&crate::init::servers::descendants(s))
                    .iter()
                    .any(|t| t == map_var(cfg))
            }),
        SwitchKind::Map => !matches!(doc.map(map_var(cfg)), Err(EditError::MapNotFound(_))),
        SwitchKind::Upstream | SwitchKind::Replace => !matches!(
            doc.upstream(upstream_name(cfg)),
            Err(EditError::UpstreamNotFound(_))
        ),
    }
}

fn map_var(cfg: &Config) -> &str {
    cfg.switch.map.as_deref().unwrap_or_default()
}

fn upstream_name(cfg: &Config) -> &str {
    cfg.switch.upstream.as_deref().unwrap_or_default()
}
