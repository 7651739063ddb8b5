//! Inflow's sync server: one team's tips meet here. The HTTP layer ([`app`]) adapts
//! core's sync rules to axum; [`db`] keeps them in SQLite or PostgreSQL.

pub mod auth;
pub mod db;
pub mod error;
pub mod events;
pub mod sync;

use axum::routing::{get, post};
use axum::Router;

/// Everything a request handler needs.
#[derive(Clone)]
pub struct AppState {
    pub db: db::Db,
    pub hub: events::Hub,
}

impl AppState {
    /// State for `db`. On PostgreSQL it also starts relaying other instances' changes.
    pub fn new(db: db::Db, database_url: &str) -> Self {
        let hub = events::Hub::default();
        if db.backend == db::Backend::Postgres {
            events::relay_postgres_notifications(database_url.to_owned(), hub.clone());
        }
        AppState { db, hub }
    }
}

/// The largest request body accepted, in bytes: 500 mutations of large notes fit.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// The server's routes, separate from `main` so tests drive them in-process.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health))
        .route("/v1/sync", post(sync::sync))
        .route("/v1/events", get(events::events))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

async fn health(axum::extract::State(state): axum::extract::State<AppState>) -> Result<axum::Json<serde_json::Value>, error::ApiError> {
    state.db.ping().await?;
    Ok(axum::Json(serde_json::json!({ "status": "ok" })))
}
