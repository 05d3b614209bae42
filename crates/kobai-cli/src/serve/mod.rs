//! The playground's server: the page (built into the binary) and the JSON
//! API it uses.
//!
//! `/api/grad` and `/api/descend` answer with exactly what `kobai grad --json`
//! and `kobai descend --json` print: the query becomes the command line (every
//! value bound to its option, the formula after `--`, so no value can become
//! an option), the command runs on a blocking thread with its output
//! captured. Every request is bounded in size and in time; a bad one gets a
//! 4xx answer with `{"error": …}`, never a 500.

mod api;
mod limits;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub use limits::Limits;

/// The page and its parts, as served.
const INDEX: &str = include_str!("page/index.html");
const SCRIPT: &str = include_str!("page/app.js");
const STYLE: &str = include_str!("page/style.css");

/// Every route of the playground.
pub fn router() -> Router {
    Router::new()
        .route(
            "/",
            get(|| async { page(INDEX, "text/html; charset=utf-8") }),
        )
        .route(
            "/app.js",
            get(|| async { page(SCRIPT, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/style.css",
            get(|| async { page(STYLE, "text/css; charset=utf-8") }),
        )
        .route("/api/grad", get(api::grad))
        .route("/api/descend", get(api::descend))
        .route("/api/surface", get(api::surface))
        .route("/api/hsweep", get(api::hsweep))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such page").into_response() })
        .with_state(api::State::new(Limits::default()))
}

fn page(body: &'static str, kind: &'static str) -> Response {
    ([(header::CONTENT_TYPE, kind)], body).into_response()
}

/// A refused request: its status (4xx) and the message the page shows.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// 400: the request itself is wrong.
    fn bad(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            axum::Json(serde_json::json!({ "error": self.message })),
        )
            .into_response()
    }
}
