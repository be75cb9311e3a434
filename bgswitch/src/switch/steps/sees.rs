//! Part of the edit step, after `nginx -t`: the nginx that `test_command`
//! tests must see the bytes just written ([`crate::nginx_sees`]). When its
//! dump still shows the old bytes, the edit fails as a failed nginx test
//! does (the exact old bytes go back, exit 3) and says why: a file
//! bind-mounted on its own into a container, which a rename never reaches.

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use crate::config::WriteMode;
use crate::nginx_sees::{self, Seen};
use crate::switch::context::{Failed, Run};
use crate::switch::undo::Cause;

/// How long the dump may take (as long as `nginx -t` may).
const DUMP_TIMEOUT: Duration = Duration::from_secs(60);

/// What the check found, for the edit step's line and JSON event.
#[derive(Debug)]
pub struct Checked {
    pub detail: String,
    /// `true`: seen; `null`: not checked (the detail says why).
    pub seen: Value,
}

/// Runs the dump command and looks for the written file in it. A dump
/// that cannot be had, or that shows neither the old nor the new bytes,
/// is said and does not fail the run.
pub fn check(run: &Run, path: &Path, old: &[u8], new: &[u8]) -> Result<Checked, Failed> {
    let skipped = |why: String| Checked {
        detail: format!("not checked that nginx sees the new bytes: {why}"),
        seen: Value::Null,
    };
    let n = &run.cfg.nginx;
    let argv = match &n.dump_command {
        Some(v) if v.is_empty() => return Ok(skipped("[nginx] dump_command = []".into())),
        Some(v) => v.clone(),
        None => match nginx_sees::dump_from_test(&n.test_command) {
            Some(v) => v,
            None => {
                return Ok(skipped(format!(
                    "test_command `{}` has no -t to make -T of; set [nginx] dump_command (a command that runs `nginx -T` where nginx runs)",
                    n.test_command.join(" ")
                )))
            }
        },
    };
    let shown = argv.join(" ");
    let dump = match nginx_sees::run_dump(&argv, DUMP_TIMEOUT) {
        Ok(d) => d,
        Err(e) => return Ok(skipped(e)),
    };
    if nginx_sees::sections(&dump).is_empty() {
        return Ok(skipped(format!(
            "`{shown}` printed no `# configuration file` sections"
        )));
    }
    match nginx_sees::find(&dump, path, old, new) {
        Seen::New { at } => Ok(Checked {
            detail: if at == path.to_string_lossy() {
                format!("`{shown}` shows the new bytes")
            } else {
                format!("`{shown}` shows the new bytes (as {at})")
            },
            seen: json!(true),
        }),
        Seen::NotFound => Ok(skipped(format!(
            "`{shown}` shows no file with the edited lines, old or new"
        ))),
        Seen::Old { at } => Err(Failed::new(
            Cause::NginxTest,
            not_seen(run, path, &shown, &at),
        )),
    }
}

/// Why nginx may not see the write, and what fixes it, for the mode used.
fn not_seen(run: &Run, path: &Path, shown: &str, at: &str) -> String {
    let file = path.display();
    let config = run.cfg.path.display();
    match run.cfg.nginx.write {
        WriteMode::Replace => format!(
            "nginx does not see the new bytes of {file}: `{shown}` still shows the old ones (as {at}). \
             The file is probably bind-mounted on its own into a container (-v FILE:{at}): \
             the container keeps the inode it mounted, and write = \"replace\" (the default) \
             writes a new inode by rename, which it never sees (moby/moby#15793). \
             Fix: set write = \"in-place\" under [nginx] in {config}"
        ),
        WriteMode::InPlace => format!(
            "nginx does not see the bytes written into {file}: `{shown}` still shows the old ones (as {at}), \
             although they were written into the file's own inode. nginx reads another file: \
             most likely a container mounted this file on its own and it has been replaced by a rename since \
             (an editor, sed -i, an earlier write = \"replace\"), so the container holds an older inode. \
             Fix: recreate the container (e.g. docker compose up -d --force-recreate) so it mounts the current file"
        ),
    }
}
