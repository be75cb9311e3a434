//! The few libc calls the sidecar needs, each behind a safe function.
//!
//! `unsafe` is denied workspace-wide; these wrappers are the only place it
//! is allowed, one call per function, so each SAFETY argument stays small.

/// Sends `sig` to process `pid`. Returns false when the process is gone (or
/// the pid does not fit a `pid_t`), which callers treat as "nothing to do".
#[allow(unsafe_code)]
pub fn kill(pid: u32, sig: libc::c_int) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        // 0 and negative pids address process groups; never by accident.
        return false;
    }
    // SAFETY: kill(2) takes plain integers and touches no memory of ours.
    unsafe { libc::kill(pid, sig) == 0 }
}

/// Sends `sig` to the process group led by `pgid` (a probe command started
/// with `process_group(0)`), so its children go too.
#[allow(unsafe_code)]
pub fn kill_group(pgid: u32, sig: libc::c_int) -> bool {
    let Ok(pgid) = libc::pid_t::try_from(pgid) else {
        return false;
    };
    if pgid <= 1 {
        return false;
    }
    // SAFETY: kill(2) with a negative pid signals that group; integers only.
    unsafe { libc::kill(-pgid, sig) == 0 }
}

/// Reaps `pid` if it is a zombie child of ours, without blocking. Returns
/// its raw wait status when it was reaped.
#[allow(unsafe_code)]
pub fn reap(pid: u32) -> Option<libc::c_int> {
    let pid = libc::pid_t::try_from(pid).ok().filter(|p| *p > 0)?;
    let mut status: libc::c_int = 0;
    // SAFETY: `status` is a valid, writable c_int for the duration of the
    // call; WNOHANG makes it return at once.
    let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
    (r == pid).then_some(status)
}
