//! The two background loops: probing the app, and housekeeping (connection
//! counts, drain completion, the startup timeout, process stats).
//!
//! Both take their inputs as closures so tests can script them under paused
//! tokio time; the daemon passes the real probe and the kernel counter.

use std::future::Future;
use std::time::Duration;

use tokio::time::{Instant, MissedTickBehavior};

use crate::procstats::ProcSample;
use crate::shared::AppState;
use crate::state::Status;

/// How often connections are counted while draining: often enough that a
/// drain ends promptly, rarely enough to cost nothing.
pub const DRAIN_SAMPLE: Duration = Duration::from_millis(100);

/// How often process stats are refreshed (CPU% is averaged over this).
pub const STATS_EVERY: Duration = Duration::from_secs(1);

/// Runs `probe` every `interval`, forever. A probe that overruns the
/// interval delays the next one instead of stacking them.
pub async fn probe_loop<F, Fut>(state: AppState, interval: Duration, mut probe: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let started = Instant::now();
        let result = probe().await;
        state
            .metrics()
            .observe_probe(result.is_ok(), started.elapsed());
        state.update(|m| m.on_probe(result, Instant::now()));
    }
}

/// Counts connections and advances time-driven transitions, forever.
/// `count` resolves to `None` when there is no `--app-port`, `Some(Err)`
/// when the kernel could not be asked; `stats` to the app's process stats
/// when its pid is known. Both are futures so the daemon can run the kernel
/// reads (milliseconds each: the kernel walks its whole socket hash) on a
/// blocking thread instead of stalling the requests this thread serves.
pub async fn housekeeping_loop<C, CF, P, PF>(
    state: AppState,
    idle_every: Duration,
    mut count: C,
    mut stats: P,
) where
    C: FnMut() -> CF,
    CF: Future<Output = Option<std::io::Result<usize>>>,
    P: FnMut() -> PF,
    PF: Future<Output = Option<ProcSample>>,
{
    let mut last_stats: Option<Instant> = None;
    loop {
        // Taken before counting: a count started before a drain request
        // may miss the connections that request followed, so the machine
        // must know when the table was read, not when the answer came.
        let counted_at = Instant::now();
        let active = match count().await {
            None => None,
            Some(Ok(n)) => Some(n),
            Some(Err(_)) => None,
        };
        let now = Instant::now();
        state.set_connections(active);
        let status = state.update(|m| {
            m.tick(now);
            m.on_connections(active, counted_at);
            m.status()
        });
        if last_stats.is_none_or(|t| now.duration_since(t) >= STATS_EVERY) {
            if let Some(sample) = stats().await {
                state.set_process(Some(sample));
            }
            last_stats = Some(now);
        }
        let period = if status == Status::Draining {
            DRAIN_SAMPLE
        } else {
            idle_every
        };
        tokio::select! {
            _ = tokio::time::sleep(period) => {}
            _ = state.woken() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shared::{default_policy, Settings};
    use std::cell::RefCell;
    use std::collections::VecDeque;
    use std::rc::Rc;
    use tokio::time::advance;

    /// Lets spawned tasks run at the current (paused) instant.
    async fn settle() {
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn probe_loop_drives_the_machine() {
        let state = AppState::new(Settings::default(), default_policy());
        let script: Rc<RefCell<VecDeque<bool>>> = Rc::new(RefCell::new(
            [false, false, true, false, false, false, true].into(),
        ));
        let s2 = script.clone();
        let local = tokio::task::LocalSet::new();
        let st = state.clone();
        local.spawn_local(probe_loop(st, Duration::from_secs(1), move || {
            let next = s2.borrow_mut().pop_front().unwrap_or(true);
            async move {
                if next {
                    Ok(())
                } else {
                    Err("refused".to_string())
                }
            }
        }));
        local
            .run_until(async {
                let mut seen = Vec::new();
                for _ in 0..7 {
                    settle().await;
                    seen.push(state.read(|m| m.status()));
                    advance(Duration::from_secs(1)).await;
                }
                use Status::*;
                assert_eq!(
                    seen,
                    [Starting, Starting, Ready, Ready, Ready, Failing, Ready]
                );
            })
            .await;
        assert!(state
            .metrics()
            .render(&crate::metrics::Snapshot {
                status: Status::Ready,
                uptime: Duration::ZERO,
                connections: None,
                consecutive_failures: 0
            })
            .contains("health_sidecar_probes_total{result=\"failure\"} 5\n"));
    }

    #[tokio::test(start_paused = true)]
    async fn housekeeping_completes_a_drain_when_connections_close() {
        let mut policy = default_policy();
        policy.drain_min = Duration::from_secs(2);
        let state = AppState::new(Settings::default(), policy);
        state.update(|m| m.on_probe(Ok(()), Instant::now()));
        let open = Rc::new(RefCell::new(1usize));
        let o2 = open.clone();
        let local = tokio::task::LocalSet::new();
        local.spawn_local(housekeeping_loop(
            state.clone(),
            Duration::from_secs(1),
            move || {
                let n = *o2.borrow();
                async move { Some(Ok(n)) }
            },
            || async { None },
        ));
        local
            .run_until(async {
                settle().await;
                assert_eq!(state.connections(), Some(1));
                let mut rx = state.subscribe();
                assert_eq!(state.request_drain(), Status::Draining);
                advance(Duration::from_secs(5)).await;
                settle().await;
                // a connection is still open, past drain-min: still draining
                assert_eq!(state.read(|m| m.status()), Status::Draining);
                *open.borrow_mut() = 0;
                advance(DRAIN_SAMPLE).await;
                settle().await;
                assert_eq!(state.read(|m| m.status()), Status::Drained);
                assert_eq!(state.connections(), Some(0));
                rx.mark_changed();
                assert_eq!(*rx.borrow_and_update(), Status::Drained);
            })
            .await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_count_in_flight_when_the_drain_starts_does_not_end_it() {
        // The worker reads the table (no connection yet), then is slow to
        // answer; meanwhile a client connects and asks for the drain. That
        // stale zero once ended the drain at once (a CI flake that was a bug).
        let state = AppState::new(Settings::default(), default_policy());
        state.update(|m| m.on_probe(Ok(()), Instant::now()));
        let open = Rc::new(RefCell::new(0usize));
        let o2 = open.clone();
        let local = tokio::task::LocalSet::new();
        local.spawn_local(housekeeping_loop(
            state.clone(),
            Duration::from_secs(1),
            move || {
                let n = *o2.borrow();
                async move {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Some(Ok(n))
                }
            },
            || async { None },
        ));
        local
            .run_until(async {
                settle().await; // the first count is in flight, reading 0
                advance(Duration::from_millis(10)).await;
                *open.borrow_mut() = 1;
                assert_eq!(state.request_drain(), Status::Draining);
                advance(Duration::from_millis(40)).await;
                settle().await;
                assert_eq!(state.read(|m| m.status()), Status::Draining);
                advance(Duration::from_millis(50)).await;
                settle().await;
                assert_eq!(state.connections(), Some(1), "a fresh count ran");
                assert_eq!(state.read(|m| m.status()), Status::Draining);
                *open.borrow_mut() = 0;
                // the next sample after DRAIN_SAMPLE, answered 50 ms later
                for _ in 0..20 {
                    advance(Duration::from_millis(10)).await;
                    settle().await;
                }
                assert_eq!(state.read(|m| m.status()), Status::Drained);
            })
            .await;
    }

    #[tokio::test(start_paused = true)]
    async fn housekeeping_applies_the_startup_timeout() {
        let state = AppState::new(Settings::default(), default_policy());
        let local = tokio::task::LocalSet::new();
        local.spawn_local(housekeeping_loop(
            state.clone(),
            Duration::from_secs(1),
            || async { None },
            || async { None },
        ));
        local
            .run_until(async {
                advance(Duration::from_secs(59)).await;
                settle().await;
                assert_eq!(state.read(|m| m.status()), Status::Starting);
                advance(Duration::from_secs(2)).await;
                settle().await;
                assert_eq!(state.read(|m| m.status()), Status::Failing);
            })
            .await;
    }
}
