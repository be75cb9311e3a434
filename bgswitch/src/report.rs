//! How a switch tells what it does: one line (or one JSON object) per step
//! as it ends, and a last line with the result. Long waits show progress
//! on stderr when it is a terminal.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use serde_json::{json, Map, Value};

/// `println!` that ignores a closed stdout (`bgswitch switch | head`): a
/// switch must finish, and roll back if it has to, whoever reads its
/// output.
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// Where step events go.
#[derive(Debug)]
pub struct Reporter {
    json: bool,
    progress: bool,
    /// The events so far, for callers that want them (the demo, tests).
    pub events: Vec<Value>,
    quiet: bool,
}

impl Reporter {
    pub fn new(json: bool) -> Self {
        Reporter {
            json,
            progress: std::io::stderr().is_terminal(),
            events: Vec::new(),
            quiet: false,
        }
    }

    /// Records events without printing them (the demo prints its own).
    pub fn silent() -> Self {
        Reporter {
            json: true,
            progress: false,
            events: Vec::new(),
            quiet: true,
        }
    }

    /// A step ended: `ok`, how long it took, and details.
    pub fn step(&mut self, step: &str, ok: bool, took: Duration, detail: &str, extra: Value) {
        let mut event = Map::new();
        event.insert("step".into(), json!(step));
        event.insert("ok".into(), json!(ok));
        event.insert("ms".into(), json!(took.as_millis() as u64));
        if !detail.is_empty() {
            event.insert("detail".into(), json!(detail));
        }
        if let Value::Object(more) = extra {
            event.extend(more);
        }
        self.clear_progress();
        if !self.quiet {
            if self.json {
                say!("{}", Value::Object(event.clone()));
            } else {
                let mark = if ok { "ok  " } else { "FAIL" };
                say!("{mark} {step:<8} {:>6} ms  {detail}", took.as_millis());
            }
            let _ = std::io::stdout().flush();
        }
        self.events.push(Value::Object(event));
    }

    /// A note that is not a step (a warning, a plan).
    pub fn note(&mut self, text: &str) {
        self.clear_progress();
        if !self.quiet {
            if self.json {
                say!("{}", json!({ "note": text }));
            } else {
                say!("     {text}");
            }
        }
        self.events.push(json!({ "note": text }));
    }

    /// The last line.
    pub fn result(
        &mut self,
        result: &str,
        from: Option<&str>,
        to: Option<&str>,
        took: Duration,
        detail: &str,
    ) {
        let mut event = json!({
            "result": result,
            "from": from,
            "to": to,
            "ms": took.as_millis() as u64,
        });
        if !detail.is_empty() {
            event["detail"] = json!(detail);
        }
        self.clear_progress();
        if !self.quiet {
            if self.json {
                say!("{event}");
            } else {
                let arrow = match (from, to) {
                    (Some(f), Some(t)) => format!(" {f} -> {t}"),
                    (None, Some(t)) => format!(" -> {t}"),
                    _ => String::new(),
                };
                let tail = if detail.is_empty() {
                    String::new()
                } else {
                    format!(": {detail}")
                };
                say!("{result}{arrow} in {} ms{tail}", took.as_millis());
            }
        }
        self.events.push(event);
    }

    /// A progress line for a long wait (terminal only, overwritten).
    pub fn progress(&mut self, text: &str) {
        if self.progress && !self.quiet {
            let _ = write!(std::io::stderr(), "\r\x1b[2K  .. {text}");
            let _ = std::io::stderr().flush();
        }
    }

    fn clear_progress(&self) {
        if self.progress && !self.quiet {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        }
    }
}
