//! Inflow's sync server: one team's tips meet here. The HTTP layer ([`app`]) adapts
//! core's sync rules to axum; [`db`] keeps them in SQLite or PostgreSQL.

pub mod auth;
pub mod curation;
pub mod db;
pub mod error;
pub mod events;
pub mod me;
pub mod metrics;
pub mod sync;

use axum::routing::{get, post};
use axum::Router;

/// Everything a request handler needs.
#[derive(Clone)]
pub struct AppState {
    pub db: db::Db,
    pub hub: events::Hub,
    pub metrics: std::sync::Arc<metrics::Metrics>,
}

impl AppState {
    /// State for `db`. On PostgreSQL it also starts relaying other instances' changes.
    pub fn new(db: db::Db, database_url: &str) -> Self {
        let hub = events::Hub::default();
        if db.backend == db::Backend::Postgres {
            events::relay_postgres_notifications(database_url.to_owned(), hub.clone());
        }
        AppState { db, hub, metrics: Default::default() }
    }
}

/// The largest request body accepted, in bytes: 500 mutations of large notes fit.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// The OpenAPI description of the protocol, served at `/v1/openapi.json`.
pub const OPENAPI: &str = include_str!("openapi.json");

/// The server's routes, separate from `main` so tests drive them in-process.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health))
        .route("/metrics", get(metrics::render))
        .route(
            "/v1/openapi.json",
            get(|| async { ([(axum::http::header::CONTENT_TYPE, "application/json")], OPENAPI) }),
        )
        .route("/v1/sync", post(sync::sync))
        .route("/v1/me", get(me::me))
        .route("/v1/team/screen-rules", axum::routing::put(me::set_screen_rules))
        .route("/v1/team/identifying-fields", axum::routing::put(me::set_identifying_fields))
        .route("/v1/events", get(events::events))
        .route("/v1/collections", get(curation::list))
        .route("/v1/collections/{id}", axum::routing::put(curation::put).delete(curation::delete))
        .route("/v1/walkthroughs/{id}/record", axum::routing::put(curation::put_walkthrough_record))
        .route("/v1/walkthroughs/{id}/records", get(curation::walkthrough_records))
        .route("/v1/team/tags/rename", post(curation::rename))
        .route("/v1/import", post(curation::import_file))
        .fallback(|| async { axum::http::StatusCode::NOT_FOUND })
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(error::json_errors))
        .layer(cors())
        // Every request gets an id (`x-request-id`, kept when a proxy set one, and sent back)
        // and a span carrying it, so a logged failure names the request it failed.
        .layer(tower_http::request_id::PropagateRequestIdLayer::x_request_id())
        .layer(tower_http::trace::TraceLayer::new_for_http().make_span_with(request_span))
        .layer(tower_http::request_id::SetRequestIdLayer::x_request_id(tower_http::request_id::MakeRequestUuid))
        .with_state(state)
}

fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    let id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
    tracing::info_span!("request", id, method = %request.method(), path = %request.uri().path())
}

/// Browsers may call the API only from extension pages (the side panel, the worker), never
/// from web pages: a page on some site must not be able to use a member's token.
fn cors() -> tower_http::cors::CorsLayer {
    use axum::http::{header, HeaderValue, Method};
    tower_http::cors::CorsLayer::new()
        .allow_origin(tower_http::cors::AllowOrigin::predicate(|origin: &HeaderValue, _| {
            origin.to_str().is_ok_and(|o| o.starts_with("chrome-extension://") || o.starts_with("moz-extension://"))
        }))
        .allow_methods([Method::GET, Method::POST, Method::PUT])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .max_age(std::time::Duration::from_secs(3600))
}

async fn health(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> Result<axum::Json<serde_json::Value>, error::ApiError> {
    state.db.ping().await?;
    Ok(axum::Json(serde_json::json!({ "status": "ok" })))
}
