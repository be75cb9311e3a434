//! Edit commands: load, locate the target, edit in memory, then print,
//! diff, check or write in place. Nothing is written unless every step
//! before succeeded.

use std::io::{self, Write};
use std::path::Path;

use crate::includes::ConfigSet;
use crate::{Document, EditError};
use serde_json::json;

use super::args::{EditOutput, Source};
use super::keep_inode;
use super::{load, Exit, Failure};

/// What an edit looks for, to find the file that holds it.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    Upstream(&'a str),
    Map(&'a str),
}

/// The index of the file holding `target` (always 0 without includes).
pub fn locate(set: &ConfigSet, target: Target<'_>) -> Result<usize, Failure> {
    let found = match target {
        Target::Upstream(name) => set.locate(
            &format!("upstream {name}"),
            EditError::UpstreamNotFound(name.to_string()),
            |d| !matches!(d.upstream(name), Err(EditError::UpstreamNotFound(_))),
        ),
        Target::Map(var) => set.locate(
            &format!("map {var}"),
            EditError::MapNotFound(var.to_string()),
            |d| !matches!(d.map(var), Err(EditError::MapNotFound(_))),
        ),
    };
    Ok(found?)
}

pub fn run_edit(
    file: &Path,
    output: &EditOutput,
    target: Target<'_>,
    op: impl FnOnce(&Document) -> Result<Document, EditError>,
) -> Result<Exit, Failure> {
    if output.keep_inode {
        keep_inode::repair_before_load(file, output.backup.as_deref())?;
    }
    let mut set = load(file, &output.source)?;
    let index = locate(&set, target)?;
    let edited = op(set.files[index].doc())?;
    set.files[index].set_doc(edited);

    if output.check {
        return Ok(if set.changed().next().is_some() {
            Exit::Problems
        } else {
            Exit::Done
        });
    }
    if output.diff {
        let mut out = io::stdout().lock();
        for f in set.changed() {
            out.write_all(
                crate::edit::unified_diff(&f.path, f.original(), f.doc().as_bytes()).as_bytes(),
            )?;
        }
        return Ok(Exit::Done);
    }
    if output.in_place && output.keep_inode {
        keep_inode::write_all(&set, output.backup.as_deref())?;
        return Ok(Exit::Done);
    }
    if output.in_place {
        for f in set.changed() {
            let backup = match &output.backup {
                Some(suffix) => Some(crate::write::backup_path(&f.path, suffix).map_err(|e| {
                    Failure::new(Exit::Usage, format!("error: {}: {e}", f.path.display()))
                })?),
                None => None,
            };
            crate::write::write_atomic(&f.path, f.doc().as_bytes(), backup.as_deref()).map_err(
                |e| {
                    Failure::new(
                        Exit::Usage,
                        format!("error: cannot write {}: {e}", f.path.display()),
                    )
                },
            )?;
        }
        return Ok(Exit::Done);
    }
    let mut out = io::stdout().lock();
    out.write_all(set.files[index].doc().as_bytes())?;
    out.flush()?;
    Ok(Exit::Done)
}

pub fn list_upstreams(
    file: &Path,
    name: Option<&str>,
    as_json: bool,
    source: &Source,
) -> Result<Exit, Failure> {
    let set = load(file, source)?;
    if let Some(name) = name {
        locate(&set, Target::Upstream(name))?;
    }
    let mut rows = Vec::new();
    for f in &set.files {
        for up in f.doc().upstreams() {
            if name.is_some_and(|n| up.name() != n) {
                continue;
            }
            rows.push((f.path.clone(), up.name(), up.line(), up.servers()));
        }
    }
    let mut out = io::stdout().lock();
    if as_json {
        let v: Vec<_> = rows
            .iter()
            .map(|(path, name, line, servers)| {
                json!({
                    "upstream": name,
                    "file": path.display().to_string(),
                    "line": line,
                    "servers": servers.iter().map(|s| json!({
                        "address": s.address,
                        "state": s.state.as_str(),
                        "params": s.params,
                        "line": s.line,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        serde_json::to_writer_pretty(&mut out, &v).map_err(io::Error::other)?;
        writeln!(out)?;
    } else {
        for (_, name, _, servers) in &rows {
            for s in servers {
                let mut line = format!("{name} {} {}", s.address, s.state.as_str());
                for p in &s.params {
                    line.push(' ');
                    line.push_str(p);
                }
                writeln!(out, "{line}")?;
            }
        }
    }
    Ok(Exit::Done)
}
