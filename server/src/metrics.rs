//! `GET /metrics`: counters in the Prometheus text format, for the team that runs the server.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::AppState;

/// Counters since the process started.
#[derive(Default)]
pub struct Metrics {
    pub sync_requests: AtomicU64,
    pub sync_errors: AtomicU64,
    pub mutations_applied: AtomicU64,
    pub changes_pulled: AtomicU64,
    pub event_streams_opened: AtomicU64,
    pub identifiers_refused: AtomicU64,
}

impl Metrics {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

pub async fn render(State(state): State<AppState>) -> impl IntoResponse {
    let m = &state.metrics;
    let line = |name: &str, help: &str, value: &AtomicU64| {
        format!("# HELP {name} {help}\n# TYPE {name} counter\n{name} {}\n", value.load(Ordering::Relaxed))
    };
    let body = [
        line("inflow_sync_requests_total", "Requests to /v1/sync.", &m.sync_requests),
        line("inflow_sync_errors_total", "Requests to /v1/sync answered with an error.", &m.sync_errors),
        line("inflow_mutations_acked_total", "Mutations acknowledged (including retries).", &m.mutations_applied),
        line(
            "inflow_unreadable_rows_total",
            "Stored tips left out of pulls because they could not be read.",
            &state.db.unreadable_rows,
        ),
        line("inflow_changes_pulled_total", "Tip changes sent to clients.", &m.changes_pulled),
        line("inflow_event_streams_opened_total", "Event streams opened.", &m.event_streams_opened),
        line(
            "inflow_identifiers_refused_total",
            "Pushes refused because a shared text still held a patient identifier.",
            &m.identifiers_refused,
        ),
    ]
    .concat();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}
