//! The API's one error type: a status, a stable code and a message for people. Internal
//! failures are logged in full and answered with a generic 500, never with their details.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into() }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::CONFLICT, "conflict", message)
    }

    pub fn unprocessable(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(serde_json::json!({ "error": self.code, "message": self.message }));
        let mut response = (self.status, body).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(axum::http::header::WWW_AUTHENTICATE, axum::http::HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// The one place a store failure becomes an HTTP answer.
impl From<crate::db::StoreError> for ApiError {
    fn from(error: crate::db::StoreError) -> Self {
        use crate::db::StoreError as E;
        use inflow_core::sync::MergeError;
        match error {
            E::Taken { .. } => ApiError::conflict(error.to_string()),
            E::Merge(e @ MergeError::UnknownTip(_)) => {
                ApiError::new(StatusCode::NOT_FOUND, "unknown_tip", e.to_string())
            }
            E::Merge(e) => ApiError::unprocessable(e.to_string()),
            E::Refused(crate::db::Refusal::NotAllowed(why)) => ApiError::forbidden(why),
            E::Refused(crate::db::Refusal::Invalid(why)) => ApiError::unprocessable(why),
            E::Encode(e) => ApiError::unprocessable(e.to_string()),
            E::Database(e) => ApiError::from_database(&e),
            E::Contended => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", error.to_string()),
            E::Unreadable(_) | E::NoRandomness(_) | E::WriterGone => {
                tracing::error!("{error}");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "the server could not complete the request; it was not applied",
                )
            }
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        ApiError::from_database(&error)
    }
}

impl ApiError {
    /// The answer to a database failure (logged in full here, never sent): two writes that
    /// waited for each other (PostgreSQL aborts one) or a database busy past its timeout is
    /// a 503 to send again, since nothing was applied; anything else a 500.
    pub fn from_database(error: &sqlx::Error) -> Self {
        let busy = error
            .as_database_error()
            .and_then(|e| e.code())
            .is_some_and(|code| matches!(code.as_ref(), "40P01" | "40001" | "55P03" | "5" | "6" | "261" | "517"));
        if busy {
            tracing::warn!("database busy: {error}");
            return ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "the database was busy with a conflicting write; nothing was applied; send the request again",
            );
        }
        tracing::error!("database error: {error}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the server could not complete the request; it was not applied",
        )
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(rejection: axum::extract::rejection::JsonRejection) -> Self {
        use axum::extract::rejection::JsonRejection as R;
        match rejection {
            R::MissingJsonContentType(_) => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send JSON with Content-Type: application/json",
            ),
            R::BytesRejection(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!("the request body is larger than {} bytes", crate::MAX_BODY_BYTES),
            ),
            other => ApiError::bad_request(other.body_text()),
        }
    }
}

/// Every error the server sends is JSON, also those axum answers before a handler runs (an
/// unknown path, a wrong method, a body over the limit, a path that is not UTF-8): their
/// plain-text or empty bodies are rewritten into `{"error", "message"}`, keeping the status
/// and headers such as `Allow`.
pub async fn json_errors(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let method = request.method().clone();
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // Framework rejections are one short sentence; anything longer is not worth reading.
    let said = axum::body::to_bytes(body, 4096).await.ok().and_then(|b| String::from_utf8(b.to_vec()).ok());
    let said = said.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let (code, message) = match status {
        StatusCode::NOT_FOUND => ("not_found", "there is no such endpoint; /v1/openapi.json lists them".to_owned()),
        StatusCode::METHOD_NOT_ALLOWED => {
            let allowed = parts.headers.get(axum::http::header::ALLOW).and_then(|v| v.to_str().ok()).unwrap_or("");
            ("method_not_allowed", format!("this endpoint does not take {method}; it takes {allowed}"))
        }
        StatusCode::PAYLOAD_TOO_LARGE => {
            ("too_large", format!("the request body is larger than {} bytes", crate::MAX_BODY_BYTES))
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ("unsupported_media_type", said.unwrap_or_else(|| "send JSON".to_owned()))
        }
        StatusCode::BAD_REQUEST => ("bad_request", said.unwrap_or_else(|| "the request could not be read".to_owned())),
        s if s.is_server_error() => {
            ("internal", "the server could not complete the request; it was not applied".to_owned())
        }
        s => ("error", said.unwrap_or_else(|| s.canonical_reason().unwrap_or("error").to_owned())),
    };
    let body = serde_json::json!({ "error": code, "message": message }).to_string();
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    parts.headers.insert(axum::http::header::CONTENT_TYPE, axum::http::HeaderValue::from_static("application/json"));
    Response::from_parts(parts, axum::body::Body::from(body))
}
