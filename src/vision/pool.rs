//! A fixed set of face engines shared by blocking tasks: each piece of work takes a free engine
//! (waiting for one in turn), so analyses run in parallel up to the engines' number, and a panic
//! inside one is caught and reported instead of poisoning a lock or killing a worker.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;

use super::FaceEngine;

pub struct EnginePool {
    free: Mutex<Vec<FaceEngine>>,
    available: Semaphore,
    model_id: String,
    size: usize,
}

/// Work that panicked: the panic's message. The engine it ran on is kept (ONNX Runtime sessions
/// hold no state between calls).
#[derive(Debug, thiserror::Error)]
#[error("face analysis failed unexpectedly: {0}")]
pub struct AnalysisPanicked(pub String);

impl EnginePool {
    /// A pool of `engines`, which must all run the same models (at least one).
    pub fn new(engines: Vec<FaceEngine>) -> anyhow::Result<Self> {
        let model_id = engines
            .first()
            .map(|e| e.model_id().to_owned())
            .ok_or_else(|| anyhow::anyhow!("an engine pool needs at least one engine"))?;
        let size = engines.len();
        Ok(Self {
            free: Mutex::new(engines),
            available: Semaphore::new(size),
            model_id,
            size,
        })
    }

    pub fn model_id(&self) -> &str {
        &self.model_id
    }

    pub fn size(&self) -> usize {
        self.size
    }

    /// Runs `work` on a free engine in tokio's blocking pool, once one is free (callers wait in
    /// the order they came).
    pub async fn run<T, F>(self: &Arc<Self>, work: F) -> Result<T, AnalysisPanicked>
    where
        T: Send + 'static,
        F: FnOnce(&mut FaceEngine) -> T + Send + 'static,
    {
        let permit = self
            .available
            .acquire()
            .await
            .expect("the pool's semaphore is never closed");
        // The permit goes back with the engine, inside the blocking task.
        permit.forget();
        let pool = Arc::clone(self);
        let outcome = tokio::task::spawn_blocking(move || {
            let mut engine = pool.lock_free().pop().expect("a permit means a free engine");
            let outcome = catch_unwind(AssertUnwindSafe(|| work(&mut engine)));
            pool.lock_free().push(engine);
            pool.available.add_permits(1);
            outcome
        })
        .await;
        match outcome {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(panic)) => Err(AnalysisPanicked(panic_message(panic.as_ref()))),
            // The blocking task is only cancelled when the runtime shuts down.
            Err(join) => Err(AnalysisPanicked(join.to_string())),
        }
    }

    fn lock_free(&self) -> std::sync::MutexGuard<'_, Vec<FaceEngine>> {
        // The lock only guards a push or a pop, never user work: a poisoned one is still sound.
        self.free.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The text of a caught panic.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}
