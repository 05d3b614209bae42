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
mod net_api;
mod net_config;
mod net_session;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::watch;

pub use limits::Limits;

/// The page and its parts, as served.
const INDEX: &str = include_str!("page/index.html");
const SCRIPT: &str = include_str!("page/app.js");
const STYLE: &str = include_str!("page/style.css");
const NETWORK: &str = include_str!("page/network.html");
const NETWORK_SCRIPT: &str = include_str!("page/network.js");

/// Ends the training streams when the server stops (they would otherwise
/// hold a graceful shutdown open).
pub struct Stopper(watch::Sender<bool>);

impl Stopper {
    /// Ends every training stream at its next frame.
    pub fn stop(&self) {
        self.0.send_replace(true);
    }
}

/// Every route of the playground, and what stops its streams.
pub fn playground() -> (Router, Stopper) {
    let (stop, stopping) = watch::channel(false);
    let router = Router::new()
        .route(
            "/",
            get(|| async { page(INDEX, "text/html; charset=utf-8") }),
        )
        .route(
            "/app.js",
            get(|| async { page(SCRIPT, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/network",
            get(|| async { page(NETWORK, "text/html; charset=utf-8") }),
        )
        .route(
            "/network.js",
            get(|| async { page(NETWORK_SCRIPT, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/style.css",
            get(|| async { page(STYLE, "text/css; charset=utf-8") }),
        )
        .route("/api/grad", get(api::grad))
        .route("/api/descend", get(api::descend))
        .route("/api/surface", get(api::surface))
        .route("/api/hsweep", get(api::hsweep))
        .route("/api/net", post(net_api::create))
        .route("/api/net/{id}", axum::routing::delete(net_api::forget))
        .route("/api/net/{id}/train", get(net_api::train))
        .route("/api/net/{id}/step", post(net_api::step))
        .route("/api/net/{id}/pause", post(net_api::pause))
        .route("/api/net/{id}/weights.npz", get(net_api::weights))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such page").into_response() })
        .with_state(api::State::new(Limits::default(), stopping));
    (router, Stopper(stop))
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
