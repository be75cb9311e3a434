//! Before anything changes: one request to `[verify] url` with the verify
//! client. When it gets no HTTP answer at all (a wrong CA, a certificate
//! for another name, TLS to a plain-HTTP port, nothing listening), every
//! later verify fails the same way, the rollback's too, and a switch would
//! end in exit 7 for a setting. So the run stops here: exit 2, nothing
//! changed, naming the key likely to fix it. Any HTTP answer passes,
//! whatever its status or pool: which pool answers is verify's job.

use crate::config::VerifyConfig;
use crate::http::{Failure, Url};
use crate::switch::context::{Ended, Failed, Run, StepResult};
use crate::switch::requests;
use crate::switch::undo::Cause;

/// Reported (as `read`) only when it fails. A dry run sends nothing.
pub fn preflight(run: &mut Run) -> StepResult {
    if run.opts.dry_run {
        return Ok(Ended::Skipped);
    }
    let v = &run.cfg.verify;
    let Some(url) = requests::verify_url(run.cfg).map_err(|e| Failed::new(Cause::Config, e))?
    else {
        return Ok(Ended::Skipped);
    };
    match requests::any_answer(&url, v) {
        Ok(_) => Ok(Ended::Skipped),
        Err(e) => Err(Failed::new(
            Cause::Config,
            format!(
                "verify.url {url}: no HTTP answer before the switch: {}; {}; nothing changed",
                e.reason,
                likely_fix(e.kind, &url, v)
            ),
        )),
    }
}

/// The setting a failure of this kind most likely comes from.
fn likely_fix(kind: Failure, url: &Url, v: &VerifyConfig) -> String {
    let at = match &v.transport.connect_to {
        Some(to) => format!("{to} (verify.connect_to)"),
        None => url.authority(),
    };
    match kind {
        Failure::Certificate => "set verify.ca_file to the CA that signed the load balancer's certificate (or verify.insecure = true to skip the check)".into(),
        Failure::CertificateName => format!(
            "the certificate is not for {}: write a name it is for in verify.url and set verify.connect_to to the address to connect to (or verify.insecure = true)",
            url.host
        ),
        Failure::NotTls => format!(
            "{at} does not speak TLS: write http:// in verify.url, or point verify.connect_to at the load balancer's TLS port"
        ),
        Failure::Tls => "check verify.ca_file and verify.insecure".into(),
        Failure::Connect | Failure::Timeout | Failure::Other => format!(
            "nothing answers HTTP at {at}: check verify.url, or set verify.connect_to to the load balancer's address"
        ),
    }
}
