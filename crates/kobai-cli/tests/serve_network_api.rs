//! The playground's networks over real HTTP: made from a JSON setup, trained
//! a step at a time or as a stream of server-sent events, downloaded as
//! `.npz`; the same setup gives the same bits; a diverging run stops and says
//! so; a stream whose page went away stops training; bad setups get a 4xx
//! with `{"error": …}`.

use std::io::{Cursor, Read};
use std::net::TcpStream;
use std::time::Duration;

use kobai::model::{load_npz_from_reader, read_architecture_from_reader};
use kobai::nets::Network;
use serde_json::{Value, json};

mod common;
use common::Server;
use common::http::{concurrent_gets, get, get_bytes, open, request};

fn post(server: &Server, path: &str, body: &str) -> (u16, Value) {
    let (status, text) = request(server, "POST", path, body);
    let value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON: {text}"));
    (status, value)
}

/// Makes a network; its id.
fn make_id(server: &Server, setup: &Value) -> String {
    make(server, setup)["id"]
        .as_str()
        .expect("an id")
        .to_string()
}

/// Makes a network; its answer.
fn make(server: &Server, setup: &Value) -> Value {
    let (status, answer) = post(server, "/api/net", &setup.to_string());
    assert_eq!(status, 200, "{answer}");
    answer
}

/// The events of a finished stream: `(name, data)`.
fn events(body: &str) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let mut name = String::new();
    for line in body.lines() {
        if let Some(n) = line.strip_prefix("event:") {
            name = n.trim().to_string();
        } else if let Some(data) = line.strip_prefix("data:") {
            out.push((
                name.clone(),
                serde_json::from_str(data.trim()).expect("JSON data"),
            ));
        }
    }
    out
}

fn circles() -> Value {
    json!({"data": "circles", "points": 200, "noise": 0.0, "seed": 3, "hidden": [4],
           "activation": "tanh", "optimizer": "sgd", "lr": 0.03, "batch": 10})
}

#[test]
fn a_network_is_made_trained_streamed_and_downloaded() {
    let server = Server::start();
    let made = make(&server, &circles());
    let id = made["id"].as_str().expect("an id");
    assert_eq!(made["classes"], 2);
    assert_eq!(made["architecture"], "affine(2,4) tanh affine(4,2)");
    assert_eq!(made["train"].as_array().expect("points").len(), 100);
    assert_eq!(made["test"].as_array().expect("points").len(), 100);
    let first = &made["frame"];
    assert_eq!(first["epoch"], 0);
    assert_eq!(
        first["heat"]["class"].as_array().expect("heat").len(),
        64 * 64
    );
    assert_eq!(first["units"].as_array().expect("units").len(), 4);

    let (status, stepped) = post(&server, &format!("/api/net/{id}/step"), "");
    assert_eq!((status, stepped["epoch"].as_u64()), (200, Some(1)));

    let (status, body) = get(&server, &format!("/api/net/{id}/train?every=7&until=120"));
    assert_eq!(status, 200);
    let events = events(&body);
    let (last, end) = (&events[events.len() - 2], &events[events.len() - 1]);
    assert_eq!(end.0, "end");
    assert_eq!(end.1["reason"], "training reached the epoch asked for");
    assert_eq!(last.1["epoch"], 120);
    let epochs: Vec<u64> = events[..events.len() - 1]
        .iter()
        .map(|(_, f)| f["epoch"].as_u64().expect("epoch"))
        .collect();
    assert_eq!(epochs[0], 8, "seven epochs a frame: {epochs:?}");
    assert!(epochs.windows(2).all(|w| w[1] > w[0]), "{epochs:?}");
    let loss = |f: &Value| f["train"]["loss"].as_f64().expect("a loss");
    assert!(
        loss(&last.1) < 0.5 * loss(first),
        "{} → {}",
        loss(first),
        loss(&last.1)
    );
    assert!(
        last.1["train"]["accuracy"].as_f64().expect("accuracy") > 0.9,
        "{}",
        last.1["train"]
    );
    assert!(
        last.1["test"]["accuracy"].as_f64().expect("accuracy") > 0.75,
        "{}",
        last.1["test"]
    );

    // The weights load into the network their architecture describes.
    let (status, head, npz) = get_bytes(&server, &format!("/api/net/{id}/weights.npz"));
    assert_eq!(status, 200, "{head}");
    assert!(head.contains("kobai-playground.npz"), "{head}");
    let text = read_architecture_from_reader(Cursor::new(npz.clone()))
        .expect("readable")
        .expect("an architecture");
    let mut net = Network::from_architecture(&text).expect("builds");
    load_npz_from_reader(&mut net, Cursor::new(npz)).expect("loads");

    let (status, _) = request(&server, "DELETE", &format!("/api/net/{id}"), "");
    assert_eq!(status, 200);
    let (status, gone) = post(&server, &format!("/api/net/{id}/step"), "");
    assert_eq!(status, 404);
    assert!(
        gone["error"]
            .as_str()
            .expect("a message")
            .contains("press reset")
    );
}

#[test]
fn the_same_setup_gives_the_same_bits_and_another_seed_does_not() {
    let server = Server::start();
    let run = |setup: &Value| -> Value {
        let id = make_id(&server, setup);
        let (_, body) = get(&server, &format!("/api/net/{id}/train?every=5&until=15"));
        events(&body).into_iter().rev().nth(1).expect("a frame").1
    };
    let a = run(&circles());
    let b = run(&circles());
    assert_eq!(
        a, b,
        "same setup, same frame (losses, heat map and unit maps)"
    );
    let mut other = circles();
    other["seed"] = json!(4);
    assert_ne!(run(&other)["train"], a["train"]);
}

#[test]
fn a_diverging_run_stops_and_says_so() {
    let server = Server::start();
    let mut setup = circles();
    setup["lr"] = json!(10);
    setup["l2"] = json!(10);
    let id = make_id(&server, &setup);
    let (status, body) = get(&server, &format!("/api/net/{id}/train"));
    assert_eq!(status, 200);
    let events = events(&body);
    let end = events.last().expect("an end");
    assert_eq!(end.1["reason"], "training diverged");
    let frame = &events[events.len() - 2].1;
    let message = frame["diverged"].as_str().expect("a message");
    assert!(
        message.contains("diverged at epoch") && message.contains("Lower the learning rate"),
        "{message}"
    );
    assert_eq!(frame["finished"], true);
    // A step after that changes nothing and still says why.
    let (status, again) = post(&server, &format!("/api/net/{id}/step"), "");
    assert_eq!((status, &again["epoch"]), (200, &frame["epoch"]));
    assert_eq!(again["diverged"], frame["diverged"]);
}

#[test]
fn a_stream_whose_page_went_away_stops_training() {
    let server = Server::start();
    let mut setup = circles();
    setup["points"] = json!(2000);
    let id = make_id(&server, &setup);
    let mut stream = open(&server, &format!("/api/net/{id}/train"));
    let mut seen = Vec::new();
    let mut buffer = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("event: frame") {
        let n = stream.read(&mut buffer).expect("frames come");
        assert!(n > 0, "the stream ended early");
        seen.extend_from_slice(&buffer[..n]);
    }
    drop(stream);
    std::thread::sleep(Duration::from_millis(500));
    let epoch = |f: &Value| f["epoch"].as_u64().expect("epoch");
    let (_, first) = post(&server, &format!("/api/net/{id}/step"), "");
    std::thread::sleep(Duration::from_millis(500));
    let (_, second) = post(&server, &format!("/api/net/{id}/step"), "");
    assert_eq!(
        epoch(&second),
        epoch(&first) + 1,
        "nothing trained in between"
    );
}

#[test]
fn bad_setups_and_requests_get_a_4xx_with_a_message() {
    let server = Server::start();
    let many: Vec<Value> = (0..10_001).map(|i| json!([i % 7, i % 5, i % 2])).collect();
    for (body, status, says) in [
        (
            json!({"points": 10_001}).to_string(),
            400,
            "outside 2 to 10000",
        ),
        (
            json!({"data": "custom", "custom": many}).to_string(),
            400,
            "over the limit of 10000",
        ),
        (json!({"hidden": [64, 65]}).to_string(), 400, "from 1 to 64"),
        (
            json!({"hidden": [8, 8, 8, 8, 8, 8, 8, 8, 8]}).to_string(),
            400,
            "9 hidden layers",
        ),
        (
            json!({"data": "custom", "custom": [[0, 0, 0], [1, 1, 1]], "test": 0.1}).to_string(),
            400,
            "add points",
        ),
        ("{\"lr\": 0.1".to_string(), 400, "not JSON"),
        (json!({"speed": 3}).to_string(), 400, "unknown key"),
    ] {
        let (got, answer) = post(&server, "/api/net", &body);
        let message = answer["error"].as_str().unwrap_or_default();
        assert_eq!(got, status, "{}: {answer}", &body[..body.len().min(60)]);
        assert!(message.contains(says), "{message}");
    }
    let id = make_id(&server, &circles());
    for (path, status) in [
        (format!("/api/net/{id}/train?every=0"), 400),
        (format!("/api/net/{id}/train?until=x"), 400),
        ("/api/net/nope/train".to_string(), 404),
        ("/api/net/nope/weights.npz".to_string(), 404),
    ] {
        let (got, text) = get(&server, &path);
        assert_eq!(got, status, "{path}: {text}");
        let answer: Value = serde_json::from_str(&text).expect("JSON");
        assert!(answer["error"].is_string(), "{text}");
    }
}

#[test]
fn the_number_of_networks_kept_is_bounded() {
    let server = Server::start();
    let small = json!({"points": 20, "hidden": [2]});
    for _ in 0..32 {
        make(&server, &small);
    }
    let (status, answer) = post(&server, "/api/net", &small.to_string());
    assert_eq!(status, 429, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .expect("message")
            .contains("32 networks are open")
    );
}

#[test]
fn ctrl_c_ends_open_training_streams_and_the_server() {
    let mut server = Server::start();
    let id = make_id(&server, &circles());
    let mut stream = open(&server, &format!("/api/net/{id}/train"));
    let mut first = [0u8; 256];
    assert!(stream.read(&mut first).expect("frames come") > 0);
    let status = std::process::Command::new("kill")
        .args(["-INT", &server.pid().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let exit = server.wait_exit(Duration::from_secs(10));
    assert!(
        exit.is_some(),
        "the server stopped, though a stream was open"
    );
    let mut rest = String::new();
    let _ = stream.read_to_string(&mut rest);
    assert!(
        rest.contains("the server is stopping"),
        "the stream said why it ended"
    );
}

#[test]
fn requests_are_answered_while_networks_train() {
    let server = Server::start();
    // Eight streams of big epochs (2 000 points, batch 1, 8 layers of 64).
    let heavy = json!({"points": 2000, "batch": 1, "hidden": [64, 64, 64, 64, 64, 64, 64, 64], "test": 0.1});
    let streams: Vec<TcpStream> = (0..8)
        .map(|_| {
            open(
                &server,
                &format!("/api/net/{}/train", make_id(&server, &heavy)),
            )
        })
        .collect();
    let started = std::time::Instant::now();
    let (ok, busy) = concurrent_gets(&server, "/api/grad?f=x0%5E2%2Bx1&at=1,2", 200);
    assert!(ok > 0);
    eprintln!(
        "200 concurrent gradients beside 8 training streams: {ok} answered, {busy} told to retry, in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    drop(streams);
}
