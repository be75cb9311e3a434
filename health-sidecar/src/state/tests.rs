//! The state machine under paused tokio time.

use super::*;
use tokio::time::advance;

fn policy() -> Policy {
    Policy {
        failure_threshold: 3,
        success_threshold: 2,
        startup_timeout: Some(Duration::from_secs(60)),
        drain_min: Duration::from_secs(5),
        drain_timeout: Duration::from_secs(30),
        counting: true,
    }
}

fn fail(m: &mut Machine) {
    m.on_probe(Err("connect refused".into()), Instant::now());
}
fn pass(m: &mut Machine) {
    m.on_probe(Ok(()), Instant::now());
}

#[tokio::test(start_paused = true)]
async fn starting_then_ready_on_first_success() {
    let mut m = Machine::new(policy(), Instant::now());
    assert_eq!(m.status(), Status::Starting);
    fail(&mut m);
    fail(&mut m);
    fail(&mut m);
    fail(&mut m);
    // failures while starting do not make it failing
    assert_eq!(m.status(), Status::Starting);
    advance(Duration::from_secs(3)).await;
    pass(&mut m);
    assert_eq!(m.status(), Status::Ready);
    assert_eq!(
        m.since().duration_since(m.started()),
        Duration::from_secs(3)
    );
    assert_eq!(m.consecutive_failures(), 0);
}

#[tokio::test(start_paused = true)]
async fn startup_timeout_goes_failing_with_reason() {
    let mut m = Machine::new(policy(), Instant::now());
    fail(&mut m);
    advance(Duration::from_secs(59)).await;
    m.tick(Instant::now());
    assert_eq!(m.status(), Status::Starting);
    advance(Duration::from_secs(1)).await;
    m.tick(Instant::now());
    assert_eq!(m.status(), Status::Failing);
    let reason = m.reason().unwrap_or_default();
    assert!(reason.starts_with("startup_timeout"), "{reason}");
    assert!(reason.contains("connect refused"), "{reason}");
    // recovers after success_threshold successes
    pass(&mut m);
    assert_eq!(m.status(), Status::Failing);
    pass(&mut m);
    assert_eq!(m.status(), Status::Ready);
}

#[tokio::test(start_paused = true)]
async fn zero_startup_timeout_waits_forever() {
    let mut p = policy();
    p.startup_timeout = None;
    let mut m = Machine::new(p, Instant::now());
    advance(Duration::from_secs(3600)).await;
    m.tick(Instant::now());
    assert_eq!(m.status(), Status::Starting);
}

#[tokio::test(start_paused = true)]
async fn failure_threshold_and_recovery() {
    let mut m = Machine::new(policy(), Instant::now());
    pass(&mut m);
    fail(&mut m);
    fail(&mut m);
    pass(&mut m); // resets the failure count
    fail(&mut m);
    fail(&mut m);
    assert_eq!(m.status(), Status::Ready);
    fail(&mut m);
    assert_eq!(m.status(), Status::Failing);
    assert_eq!(m.consecutive_failures(), 3);
    assert!(m.reason().unwrap_or_default().contains("3 times"));
    pass(&mut m);
    fail(&mut m); // breaks the success run
    pass(&mut m);
    assert_eq!(m.status(), Status::Failing);
    pass(&mut m);
    assert_eq!(m.status(), Status::Ready);
    assert_eq!(m.reason(), None);
}

#[tokio::test(start_paused = true)]
async fn drain_waits_for_min_and_connections() {
    let mut m = Machine::new(policy(), Instant::now());
    pass(&mut m);
    assert!(m.start_drain(Instant::now()));
    assert!(!m.start_drain(Instant::now()), "idempotent");
    assert_eq!(m.status(), Status::Draining);
    // zero connections but drain-min (5s) not yet passed
    m.on_connections(Some(0), Instant::now());
    assert_eq!(m.status(), Status::Draining);
    advance(Duration::from_secs(5)).await;
    m.on_connections(Some(2), Instant::now());
    assert_eq!(m.status(), Status::Draining);
    // probe results do not leave draining
    fail(&mut m);
    fail(&mut m);
    fail(&mut m);
    pass(&mut m);
    pass(&mut m);
    assert_eq!(m.status(), Status::Draining);
    advance(Duration::from_secs(1)).await;
    m.on_connections(Some(0), Instant::now());
    assert_eq!(m.status(), Status::Drained);
    let d = m.drain().cloned().expect("drain recorded");
    let (at, reason) = d.completed.expect("completed");
    assert_eq!(reason, DrainReason::ConnectionsClosed);
    assert_eq!(at.duration_since(d.started), Duration::from_secs(6));
    assert_eq!(
        d.deadline.duration_since(d.started),
        Duration::from_secs(30)
    );
    assert_eq!(m.reason(), Some("connections_closed"));
    // drained is sticky
    m.on_connections(Some(4), Instant::now());
    pass(&mut m);
    assert_eq!(m.status(), Status::Drained);
}

#[tokio::test(start_paused = true)]
async fn a_count_started_before_the_drain_cannot_end_it() {
    let mut p = policy();
    p.drain_min = Duration::ZERO;
    let mut m = Machine::new(p, Instant::now());
    pass(&mut m);
    let before = Instant::now();
    advance(Duration::from_millis(1)).await;
    m.start_drain(Instant::now());
    // the table was read before the drain began: its zero may predate the
    // connections the drain waits for
    m.on_connections(Some(0), before);
    assert_eq!(m.status(), Status::Draining);
    m.on_connections(Some(1), Instant::now());
    assert_eq!(m.status(), Status::Draining);
    m.on_connections(Some(0), Instant::now());
    assert_eq!(m.status(), Status::Drained);
}

#[tokio::test(start_paused = true)]
async fn drain_timeout_wins_over_open_connections() {
    let mut m = Machine::new(policy(), Instant::now());
    pass(&mut m);
    m.start_drain(Instant::now());
    advance(Duration::from_millis(29_999)).await;
    m.on_connections(Some(1), Instant::now());
    assert_eq!(m.status(), Status::Draining);
    advance(Duration::from_millis(1)).await;
    m.on_connections(Some(1), Instant::now());
    assert_eq!(m.status(), Status::Drained);
    assert_eq!(
        m.drain().and_then(|d| d.completed).map(|c| c.1),
        Some(DrainReason::Timeout)
    );
}

#[tokio::test(start_paused = true)]
async fn drain_without_app_port_ends_after_min() {
    let mut m = Machine::new(policy(), Instant::now());
    m.start_drain(Instant::now());
    advance(Duration::from_secs(10)).await;
    // counting, but the table was unreadable: only the timeout ends it
    m.on_connections(None, Instant::now());
    assert_eq!(m.status(), Status::Draining);

    let mut p = policy();
    p.counting = false;
    let mut m = Machine::new(p, Instant::now());
    m.start_drain(Instant::now());
    advance(Duration::from_secs(4)).await;
    m.on_connections(None, Instant::now());
    assert_eq!(m.status(), Status::Draining);
    advance(Duration::from_secs(1)).await;
    m.on_connections(None, Instant::now());
    assert_eq!(m.status(), Status::Drained);
    assert_eq!(m.reason(), Some("no_app_port"));
}

#[tokio::test(start_paused = true)]
async fn undrain_follows_the_probe() {
    // never passed: back to starting
    let mut m = Machine::new(policy(), Instant::now());
    m.start_drain(Instant::now());
    assert_eq!(m.undrain(Instant::now()), Ok(Status::Starting));
    // last probe passed: ready
    pass(&mut m);
    m.start_drain(Instant::now());
    advance(Duration::from_secs(40)).await;
    m.on_connections(Some(3), Instant::now());
    assert_eq!(m.status(), Status::Drained);
    assert_eq!(m.undrain(Instant::now()), Ok(Status::Ready));
    assert!(m.drain().is_none());
    // last probe failed: failing until success_threshold passes
    m.start_drain(Instant::now());
    fail(&mut m);
    assert_eq!(m.undrain(Instant::now()), Ok(Status::Failing));
    pass(&mut m);
    pass(&mut m);
    assert_eq!(m.status(), Status::Ready);
    // undrain while not draining changes nothing
    assert_eq!(m.undrain(Instant::now()), Ok(Status::Ready));
}

#[tokio::test(start_paused = true)]
async fn undrain_refused_once_stopping() {
    let mut m = Machine::new(policy(), Instant::now());
    pass(&mut m);
    m.start_drain(Instant::now());
    m.mark_stopping();
    assert_eq!(m.undrain(Instant::now()), Err(UndrainError::Stopping));
    assert_eq!(m.status(), Status::Draining);
}

#[tokio::test(start_paused = true)]
async fn wall_clock_follows_paused_time() {
    let m = Machine::new(policy(), Instant::now());
    advance(Duration::from_secs(90)).await;
    let d = m.wall(Instant::now()).duration_since(m.wall(m.started()));
    assert_eq!(d.ok(), Some(Duration::from_secs(90)));
}
