//! What one request may ask of the server.

use std::time::Duration;

/// The bounds every request is checked against before any work.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The longest formula, in bytes.
    pub formula_bytes: usize,
    /// The most descent steps.
    pub steps: usize,
    /// The most grid points on one side of `/api/surface`.
    pub grid_side: usize,
    /// How long one request may compute.
    pub time: Duration,
    /// How many requests compute at once; the others wait (up to `time`).
    pub concurrent: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            formula_bytes: 10_000,
            steps: 100_000,
            grid_side: 1000,
            time: Duration::from_secs(10),
            concurrent: std::thread::available_parallelism().map_or(2, |n| n.get() * 2),
        }
    }
}
