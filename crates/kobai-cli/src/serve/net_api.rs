//! Networks the page trains on the server:
//!
//! - `POST /api/net` (a JSON [`NetConfig`]) builds one and answers with its
//!   id, points, description and first frame;
//! - `GET /api/net/{id}/train[?every=N][&until=EPOCH]` trains it and streams
//!   a frame after every N epochs (default 1; fewer if they take over 80 ms),
//!   at most 30 frames a second, as server-sent events (`frame`, then `end`
//!   with the reason it stopped);
//! - `POST /api/net/{id}/step` trains one epoch and answers with the frame;
//! - `POST /api/net/{id}/pause` ends its stream and answers with the frame
//!   where training stopped (the page may not have seen the last one);
//! - `GET /api/net/{id}/weights.npz` downloads its weights;
//! - `DELETE /api/net/{id}` forgets it.
//!
//! Training runs on blocking threads, one slice at a time, never on the
//! server's own. A stream ends when its page goes away (the next frame cannot
//! be sent), when another stream or step of the same network starts, after
//! [`STREAM_TIME`], or when the server stops; a network nobody used for
//! [`IDLE_TIME`] is forgotten when the next one is made.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State as Shared};
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tokio::sync::{mpsc, watch};

use super::ApiError;
use super::api::{Params, State, params};
use super::net_config::NetConfig;
use super::net_session::{MAX_EPOCHS, Session};

/// How long one stream may train before it ends (the page can start another).
pub const STREAM_TIME: Duration = Duration::from_secs(10 * 60);
/// How long a network may go unused before it is forgotten.
pub const IDLE_TIME: Duration = Duration::from_secs(15 * 60);
/// The most networks kept at once.
pub const MAX_NETWORKS: usize = 32;
/// The most training between two frames of a stream.
const SLICE: Duration = Duration::from_millis(80);
/// The least time between two frames of a stream (30 a second).
const FRAME_GAP: Duration = Duration::from_millis(33);
/// The most epochs between two frames.
pub const MAX_EVERY: u64 = 10_000;

/// A network and who may train it now.
struct Entry {
    session: Mutex<Session>,
    /// Bumped by each stream or step: an older stream sees the change and ends.
    generation: AtomicU64,
    touched: Mutex<Instant>,
}

impl Entry {
    fn session(&self) -> MutexGuard<'_, Session> {
        *lock(&self.touched) = Instant::now();
        lock(&self.session)
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Every network the server keeps, by id, and the signal that it is stopping.
pub struct Networks {
    entries: Mutex<HashMap<String, Arc<Entry>>>,
    made: AtomicU64,
    stopping: watch::Receiver<bool>,
}

impl Networks {
    pub fn new(stopping: watch::Receiver<bool>) -> Self {
        Networks {
            entries: Mutex::new(HashMap::new()),
            made: AtomicU64::new(0),
            stopping,
        }
    }

    fn get(&self, id: &str) -> Result<Arc<Entry>, ApiError> {
        lock(&self.entries)
            .get(id)
            .cloned()
            .ok_or_else(|| missing(id))
    }

    /// Keeps `session` under a new id, first forgetting the networks unused
    /// for [`IDLE_TIME`].
    fn insert(&self, session: Session) -> Result<String, ApiError> {
        let mut entries = lock(&self.entries);
        entries.retain(|_, e| lock(&e.touched).elapsed() < IDLE_TIME);
        if entries.len() >= MAX_NETWORKS {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!("{MAX_NETWORKS} networks are open; close a page or reset one"),
            ));
        }
        let n = self.made.fetch_add(1, Ordering::Relaxed);
        // Unique per server; the random part keeps ids of a restarted server apart.
        let salt =
            std::hash::BuildHasher::hash_one(&std::collections::hash_map::RandomState::new(), n);
        let id = format!("{n}-{:08x}", salt as u32);
        entries.insert(
            id.clone(),
            Arc::new(Entry {
                session: Mutex::new(session),
                generation: AtomicU64::new(0),
                touched: Mutex::new(Instant::now()),
            }),
        );
        Ok(id)
    }
}

/// The 404 for a network the server does not keep.
fn missing(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!(
            "no network {id:?}: it was reset, or forgotten after {} minutes unused; \
             press reset to make a new one",
            IDLE_TIME.as_secs() / 60
        ),
    )
}

/// `POST /api/net`: builds the network the body describes.
pub async fn create(Shared(state): Shared<State>, body: Result<Bytes, BytesRejection>) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(e) => return ApiError::new(e.status(), e.body_text()).into_response(),
    };
    let answer = state
        .compute(move || {
            let config = NetConfig::from_json(&body)?;
            let session = Session::new(config)?;
            let mut answer = session.description();
            answer["frame"] = session.frame();
            Ok((session, answer))
        })
        .await;
    let (session, mut answer) = match answer {
        Ok(made) => made,
        Err(e) => return e.into_response(),
    };
    match state.networks.insert(session) {
        Ok(id) => {
            answer["id"] = json!(id);
            axum::Json(answer).into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// `POST /api/net/{id}/step`: one epoch, then its frame.
pub async fn step(Shared(state): Shared<State>, Path(id): Path<String>) -> Response {
    now(state, id, true).await
}

/// `POST /api/net/{id}/pause`: ends the stream; the frame where it stopped.
pub async fn pause(Shared(state): Shared<State>, Path(id): Path<String>) -> Response {
    now(state, id, false).await
}

/// Ends any stream of network `id` and answers with its frame, after one
/// more epoch if `epoch`.
async fn now(state: State, id: String, epoch: bool) -> Response {
    let entry = match state.networks.get(&id) {
        Ok(e) => e,
        Err(e) => return e.into_response(),
    };
    entry.generation.fetch_add(1, Ordering::SeqCst);
    let answer = state
        .compute(move || {
            // Waits for a slice in progress: the frame is where training is.
            let mut session = entry.session();
            if epoch {
                session.run_epoch();
            }
            Ok(session.frame())
        })
        .await;
    match answer {
        Ok(frame) => axum::Json(frame).into_response(),
        Err(e) => e.into_response(),
    }
}

/// `DELETE /api/net/{id}`: forgets the network (ending its stream).
pub async fn forget(Shared(state): Shared<State>, Path(id): Path<String>) -> Response {
    match lock(&state.networks.entries).remove(&id) {
        Some(entry) => {
            entry.generation.fetch_add(1, Ordering::SeqCst);
            axum::Json(json!({ "forgotten": id })).into_response()
        }
        None => missing(&id).into_response(),
    }
}

/// `GET /api/net/{id}/weights.npz`: the weights as NumPy's `.npz`, with the
/// architecture inside.
pub async fn weights(Shared(state): Shared<State>, Path(id): Path<String>) -> Response {
    let entry = match state.networks.get(&id) {
        Ok(e) => e,
        Err(e) => return e.into_response(),
    };
    let answer = state
        .compute(move || {
            let session = entry.session();
            kobai::model::npz_bytes(session.network()).map_err(|e| ApiError::bad(e.to_string()))
        })
        .await;
    match answer {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, "application/octet-stream"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"kobai-playground.npz\"",
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

/// `GET /api/net/{id}/train[?every=N][&until=EPOCH]`: trains and streams frames.
pub async fn train(
    Shared(state): Shared<State>,
    Path(id): Path<String>,
    query: Params,
) -> Response {
    let prepared = || -> Result<(Arc<Entry>, Pace), ApiError> {
        let q = params(query)?;
        let whole = |key: &str, default: u64, most: u64| -> Result<u64, ApiError> {
            match q.get(key) {
                None => Ok(default),
                Some(text) => text
                    .parse::<u64>()
                    .ok()
                    .filter(|n| (1..=most).contains(n))
                    .ok_or_else(|| {
                        ApiError::bad(format!(
                            "{key}={text} is not a whole number from 1 to {most}"
                        ))
                    }),
            }
        };
        let pace = Pace {
            every: whole("every", 1, MAX_EVERY)?,
            until: whole("until", MAX_EPOCHS, MAX_EPOCHS)?,
        };
        Ok((state.networks.get(&id)?, pace))
    };
    let (entry, pace) = match prepared() {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let generation = entry.generation.fetch_add(1, Ordering::SeqCst) + 1;
    let (sender, receiver) = mpsc::channel::<Event>(1);
    tokio::spawn(stream_frames(state, entry, generation, pace, sender));
    let events = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver
            .recv()
            .await
            .map(|event| (Ok::<_, Infallible>(event), receiver))
    });
    Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// How a stream trains: epochs per frame, and the epoch to stop at.
#[derive(Debug, Clone, Copy)]
struct Pace {
    every: u64,
    until: u64,
}

/// Trains `entry` slice by slice, sending a frame after each, until one of
/// the reasons in the module's docs ends it; the last event says why.
async fn stream_frames(
    state: State,
    entry: Arc<Entry>,
    generation: u64,
    pace: Pace,
    sender: mpsc::Sender<Event>,
) {
    let started = Instant::now();
    let stopping = state.networks.stopping.clone();
    let reason = loop {
        if sender.is_closed() {
            return;
        }
        if entry.generation.load(Ordering::SeqCst) != generation {
            break "another run of this network started";
        }
        if *stopping.borrow() {
            break "the server is stopping";
        }
        if started.elapsed() >= STREAM_TIME {
            break "this run reached its time limit; press start to go on";
        }
        let slice_started = Instant::now();
        let Ok(permit) = Arc::clone(&state.permits).acquire_owned().await else {
            break "the server is stopping";
        };
        let slice = Arc::clone(&entry);
        let frame = tokio::task::spawn_blocking(move || {
            let mut session = slice.session();
            session.train_for(pace.every, SLICE, pace.until);
            drop(permit);
            let done = session.finished() || session.epoch() >= pace.until;
            (session.frame(), done)
        })
        .await;
        let Ok((frame, done)) = frame else {
            break "training failed";
        };
        let diverged = !frame["diverged"].is_null();
        if sender
            .send(Event::default().event("frame").data(frame.to_string()))
            .await
            .is_err()
        {
            return;
        }
        if diverged {
            break "training diverged";
        }
        if done {
            break "training reached the epoch asked for";
        }
        tokio::time::sleep(FRAME_GAP.saturating_sub(slice_started.elapsed())).await;
    };
    let end = json!({ "reason": reason });
    let _ = sender
        .send(Event::default().event("end").data(end.to_string()))
        .await;
}
