//! Where a `rollcall bench pipeline` run's time went, from the recognizer's own step timings.

use super::median;

/// Where a pipeline run's time went, from the recognizer's own step timings
/// (`rollcall_recognize_step_duration_seconds`): what explains a ratio below the worker count.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct StepTime {
    /// Detect+align+embed per frame, wall time inside the steps: above the raw figure's
    /// ms per frame when the workers' inference is slowed by what else runs on the cores.
    pub inference_ms_per_frame: f64,
    /// Decode per frame, on the blocking pool beside the engine.
    pub decode_ms_per_frame: f64,
    /// Share of the run (once loaded) each worker spent inside detect+align+embed: below
    /// 1 when a worker waits for frames or has finished its cameras before the other.
    pub worker_busy: f64,
}

/// Seconds spent so far in the engines' steps (what the raw figure times) and in decoding,
/// process-wide.
pub(super) fn step_seconds() -> (f64, f64) {
    let steps = &crate::metrics::metrics().recognize_step_duration;
    let sum = |step: &str| steps.with_label_values(&[step]).get_sample_sum();
    (sum("detect") + sum("align") + sum("embed"), sum("decode"))
}

/// Field by field, the median of the runs' step times.
pub(super) fn median_time(runs: impl Iterator<Item = StepTime> + Clone) -> StepTime {
    let of = |field: fn(&StepTime) -> f64| median(runs.clone().map(|t| field(&t)).collect());
    StepTime {
        inference_ms_per_frame: of(|t| t.inference_ms_per_frame),
        decode_ms_per_frame: of(|t| t.decode_ms_per_frame),
        worker_busy: of(|t| t.worker_busy),
    }
}

/// One line of the text report.
pub(super) fn time_line(name: &str, t: &StepTime) -> String {
    format!(
        "  {name}: inference {:.2} ms/frame, decode {:.2} ms/frame, each worker inside inference {:.0}% of the run",
        t.inference_ms_per_frame,
        t.decode_ms_per_frame,
        t.worker_busy * 100.0
    )
}
