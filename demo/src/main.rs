//! A small EMR-like internal web app ("Riverside General EMR") for trying and testing
//! Inflow: a patient list, charts with orders and notes, client-side routing, data that
//! arrives after the page loads, a unit worklist that never stops re-rendering, and a
//! strict Content-Security-Policy as real clinical apps send. Its data is made up.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use axum::extract::{Path, Query};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;

/// The policy a careful hospital IT department sends: no inline script or style, no
/// eval, no wasm in the page, nothing from other origins.
const STRICT_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                          connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'self'; form-action 'self'";

const SHELL: &str = include_str!("../static/index.html");
const APP_JS: &str = include_str!("../static/app.js");
const APP_CSS: &str = include_str!("../static/app.css");
const HANDBOOK: &str = include_str!("../static/claims-handbook.html");
const WORKLIST: &str = include_str!("../static/worklist.html");
const WORKLIST_JS: &str = include_str!("../static/worklist.js");
const CLAIM_FORM: &str = "<!doctype html><html lang=\"en\"><title>Sample claim</title><body>\
    <p>Box 22: Resubmission code 7, original reference number 4410-2291-07.</p></body></html>";
const PATIENTS: &str = include_str!("../static/patients.json");
const HOSTILE: &str = include_str!("../static/hostile.html");
const HOSTILE_JS: &str = include_str!("../static/hostile.js");
/// A page that forbids every frame (Inflow's frame loads anyway: see ARCHITECTURE.md).
const STRICT_CSP_NO_FRAMES: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                          connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'self'; form-action 'self'; \
                          frame-src 'none'; child-src 'none'";
/// The hostile page names the frames it allows, as some apps do: its own only.
const STRICT_CSP_FRAMES_SELF: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                          connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'self'; form-action 'self'; \
                          frame-src 'self'";

/// How long the chart's data takes to arrive, so that content lands after page load as it
/// does in real EMRs. Tests may shorten or lengthen it with `?delay_ms=`.
const DEFAULT_DATA_DELAY_MS: u64 = 250;

fn main() -> anyhow::Result<()> {
    let mut listen: SocketAddr = "127.0.0.1:8700".parse()?;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--listen" => {
                listen =
                    args.next().context("--listen needs an address")?.parse().context("--listen takes host:port")?
            }
            "--help" | "-h" => {
                println!("inflow-demo [--listen 127.0.0.1:8700]   (port 0 picks a free port; the address is printed)");
                return Ok(());
            }
            other => anyhow::bail!("unknown argument {other}; see --help"),
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("binding {listen}"))?;
        // Tests read this line to learn the port.
        println!("demo app listening on http://{}", listener.local_addr()?);
        axum::serve(listener, app()).await.context("serving the demo app")
    })
}

/// The demo app's routes.
pub fn app() -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/patients") }))
        .route("/patients", get(shell))
        .route("/patients/{id}", get(shell))
        .route("/patients/{id}/{tab}", get(shell))
        .route("/static/app.js", get(|| async { asset("text/javascript; charset=utf-8", APP_JS) }))
        .route("/static/app.css", get(|| async { asset("text/css; charset=utf-8", APP_CSS) }))
        .route("/worklist", get(|| async { html(WORKLIST, Some(STRICT_CSP)) }))
        .route("/static/worklist.js", get(|| async { asset("text/javascript; charset=utf-8", WORKLIST_JS) }))
        .route("/api/patients", get(patient_list))
        .route("/api/patients/{id}", get(patient_chart))
        .route("/frames/pharmacy/{id}", get(pharmacy_frame))
        .route("/intranet/claims-handbook", get(claims_handbook))
        .route("/intranet/claim-form-sample", get(|| async { html(CLAIM_FORM, None) }))
        // A page whose scripts try to read tips, for Inflow's tests (see hostile.js).
        .route("/hostile/{page}", get(|| async { html(HOSTILE, Some(STRICT_CSP_FRAMES_SELF)) }))
        .route("/static/hostile.js", get(|| async { asset("text/javascript; charset=utf-8", HOSTILE_JS) }))
        .route("/no-frames/{page}", get(|| async { html(HOSTILE, Some(STRICT_CSP_NO_FRAMES)) }))
}

/// The pharmacy verification panel, framed into the orders tab (same origin).
async fn pharmacy_frame(Path(id): Path<String>) -> Response {
    let body = match patients().into_iter().find(|p| p["id"].as_str() == Some(id.as_str())) {
        Some(patient) => format!(
            "<!doctype html><html lang=\"en\"><head><title>Pharmacy verification</title><link rel=\"stylesheet\" href=\"/static/app.css\"></head>\
             <body class=\"frame\"><p>Pharmacy verification for {name}: verified by M. Chen, PharmD at 11/02 09:14. \
             Renal dosing reviewed; no interactions flagged. Call pharmacy at extension 4402 before overriding a hold.</p></body></html>",
            name = escape_html(patient["name"].as_str().unwrap_or("this patient"))
        ),
        None => "<!doctype html><p>No such patient.</p>".to_owned(),
    };
    let mut response = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response();
    response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(STRICT_CSP));
    response
}

/// The handbook, with a frame from another origin (the same server under `localhost`), as
/// intranets embed other departments' pages.
async fn claims_handbook(headers: axum::http::HeaderMap) -> Response {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
    let port = host.rsplit_once(':').map_or("80", |(_, port)| port);
    let other_origin =
        format!("http://localhost:{}/intranet/claim-form-sample", port.trim_matches(|c: char| !c.is_ascii_digit()));
    html_owned(HANDBOOK.replace("{{OTHER_ORIGIN_FORM}}", &escape_html(&other_origin)))
}

fn html_owned(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

async fn shell() -> Response {
    html(SHELL, Some(STRICT_CSP))
}

fn html(body: &'static str, csp: Option<&'static str>) -> Response {
    let mut response = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response();
    if let Some(csp) = csp {
        response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
    }
    response
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-cache")], body).into_response()
}

fn patients() -> Vec<Value> {
    serde_json::from_str::<Value>(PATIENTS).ok().and_then(|v| v.as_array().cloned()).unwrap_or_default()
}

async fn patient_list() -> Json<Vec<Value>> {
    let summaries = patients()
        .into_iter()
        .map(|p| serde_json::json!({ "id": p["id"], "mrn": p["mrn"], "name": p["name"], "dob": p["dob"], "ward": p["ward"], "attending": p["attending"] }))
        .collect();
    Json(summaries)
}

#[derive(Deserialize)]
struct ChartQuery {
    delay_ms: Option<u64>,
}

async fn patient_chart(Path(id): Path<String>, Query(query): Query<ChartQuery>) -> Response {
    tokio::time::sleep(Duration::from_millis(query.delay_ms.unwrap_or(DEFAULT_DATA_DELAY_MS).min(10_000))).await;
    match patients().into_iter().find(|p| p["id"].as_str() == Some(id.as_str())) {
        Some(patient) => Json(patient).into_response(),
        None => (StatusCode::NOT_FOUND, Json(serde_json::json!({ "error": "no such patient" }))).into_response(),
    }
}
