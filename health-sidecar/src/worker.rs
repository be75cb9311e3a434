//! One thread of its own for the blocking kernel reads (the connection
//! table, process stats).
//!
//! They take milliseconds, so they must not run on the thread that answers
//! `/health`; and they must not queue behind host-name lookups on tokio's
//! blocking pool, which can hang for seconds when DNS is down, exactly when
//! a drain still has to be counted.

use std::sync::mpsc;

type Job = Box<dyn FnOnce() + Send>;

/// A handle to the worker thread; cheap to clone.
#[derive(Debug, Clone)]
pub struct Worker {
    tx: mpsc::Sender<Job>,
}

impl Worker {
    /// Starts the thread. It ends when the last handle is dropped.
    pub fn start(name: &str) -> std::io::Result<Worker> {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name(name.to_string())
            // The reads need little stack; keep the footprint small.
            .stack_size(256 * 1024)
            .spawn(move || {
                for job in rx {
                    job();
                }
            })?;
        Ok(Worker { tx })
    }

    /// Runs `f` on the worker and waits for its result without blocking
    /// the caller's thread. `None` if the worker is gone.
    pub async fn run<R, F>(&self, f: F) -> Option<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let (reply, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = reply.send(f());
        });
        self.tx.send(job).ok()?;
        result.await.ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_jobs_off_the_calling_thread() {
        let w = Worker::start("test-worker").expect("thread");
        let caller = std::thread::current().id();
        let (name, id) = w
            .run(|| {
                let t = std::thread::current();
                (t.name().map(str::to_string), t.id())
            })
            .await
            .expect("result");
        assert_eq!(name.as_deref(), Some("test-worker"));
        assert_ne!(id, caller);
        assert_eq!(w.run(|| 6 * 7).await, Some(42));
    }
}
