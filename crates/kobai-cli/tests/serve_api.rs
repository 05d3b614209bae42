//! `kobai serve`'s JSON API, over real HTTP on 127.0.0.1: the same JSON as
//! the CLI, 4xx with `{"error": …}` for every bad request, and a server that
//! stays responsive under a few hundred concurrent requests.

use std::time::Instant;

mod common;
use common::http::{concurrent_gets, encode, get};
use common::{Server, kobai, stdout};

fn error_of(body: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(body).expect("a JSON body");
    v["error"].as_str().expect("an error message").to_string()
}

#[test]
fn the_api_answers_with_the_clis_json_byte_for_byte() {
    let server = Server::start();
    let (status, body) = get(
        &server,
        &format!("/api/grad?f={}&at=1,-2", encode("x0^2 + sin(x1)")),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        stdout(&kobai(&[
            "grad",
            "x0^2 + sin(x1)",
            "--at",
            "1,-2",
            "--json"
        ]))
    );

    let (status, body) = get(
        &server,
        &format!(
            "/api/descend?f={}&from=-3,4&optimizer=adam&lr=0.3&steps=50",
            encode("x^2/20 + y^2")
        ),
    );
    assert_eq!(status, 200, "{body}");
    let cli = kobai(&[
        "descend",
        "x^2/20 + y^2",
        "--from",
        "-3,4",
        "--optimizer",
        "adam",
        "--lr",
        "0.3",
        "--steps",
        "50",
        "--json",
    ]);
    assert_eq!(body, stdout(&cli));
    let v: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let path = v["path"].as_array().expect("the path");
    assert_eq!(path.len(), 51, "the start and 50 steps");
    assert_eq!(path[0]["x"], serde_json::json!([-3.0, 4.0]));
    assert_eq!(path[0]["value"], 9.0 / 20.0 + 16.0);
    assert_eq!(path[50]["x"], v["x"]);
    assert!(path[50]["gradient_norm"].as_f64().expect("a number") < 8.0);

    let (status, body) = get(
        &server,
        &format!("/api/hsweep?f={}&at=0.7", encode("sin(x)")),
    );
    assert_eq!(status, 200, "{body}");
    let cli = kobai(&[
        "grad",
        "sin(x)",
        "--at",
        "0.7",
        "--h-sweep",
        "--no-plots",
        "--json",
    ]);
    assert_eq!(body, stdout(&cli));
    let v: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(v["steps"].as_array().map(Vec::len), Some(65));
    assert_eq!(v["schemes"][1]["name"], "central (the book's)");

    let (status, body) = get(
        &server,
        &format!("/api/surface?f={}&x0=0,1&x1=0,2&n=3", encode("x*y")),
    );
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(v["xs"], serde_json::json!([0.0, 0.5, 1.0]));
    assert_eq!(v["values"][8], 2.0, "x0 = 1, x1 = 2");
    assert_eq!(v["gradients"][8], serde_json::json!([2.0, 1.0]));

    let (status, body) = get(&server, "/");
    assert_eq!(status, 200);
    assert!(body.contains("kobai") && body.contains("/app.js"));
}

#[test]
fn bad_requests_get_a_4xx_and_one_message_never_a_500() {
    let server = Server::start();
    let long = "x+".repeat(6000) + "x";
    let cases: Vec<(String, u16, &str)> = vec![
        (
            format!("/api/grad?f={}&at=1", encode("x^")),
            400,
            "cannot read formula",
        ),
        ("/api/grad?f=x".into(), 400, "the query needs at="),
        ("/api/grad?at=1".into(), 400, "the query needs f="),
        (
            format!("/api/grad?f={}&at=1", encode(&long)),
            400,
            "over the limit of 10000",
        ),
        (
            "/api/grad?f=x&at=1&scheme=magic".into(),
            400,
            "invalid value 'magic'",
        ),
        ("/api/grad?f=x&at=%ZZ".into(), 400, ""),
        (
            "/api/descend?f=x&from=1&steps=100001".into(),
            400,
            "steps=100001 is over the limit of 100000",
        ),
        (
            "/api/descend?f=x&from=1&steps=many".into(),
            400,
            "not a whole number",
        ),
        (
            format!(
                "/api/descend?f=x&from={}",
                encode("--out=/tmp/kobai-serve-x")
            ),
            400,
            "",
        ),
        ("/api/descend?f=x&from=1,2".into(), 400, "--from has 2"),
        (
            "/api/surface?f=x&n=1001".into(),
            400,
            "n=1001 is outside 2 to 1000",
        ),
        ("/api/surface?f=x&x0=3,1".into(), 400, "MIN below MAX"),
        ("/api/surface?f=x0*x1*x2".into(), 400, "uses 3 variables"),
        ("/no/such/page".into(), 404, "no such page"),
    ];
    for (path, expected, needle) in cases {
        let (status, body) = get(&server, &path);
        assert_eq!(status, expected, "{path}: {body}");
        let message = error_of(&body);
        assert!(message.contains(needle), "{path}: {message}");
        assert!(!message.contains('\n'), "{path}: {message}");
    }
    assert!(!std::path::Path::new("/tmp/kobai-serve-x").exists());
    // Still up.
    assert_eq!(get(&server, "/api/grad?f=x&at=1").0, 200);
}

#[test]
fn a_few_hundred_concurrent_requests_leave_the_server_responsive() {
    let server = Server::start();
    let started = Instant::now();
    let path = format!(
        "/api/descend?f={}&from=-3,4&optimizer=momentum&lr=0.1&steps=2000",
        encode("(1 - x)^2 + 100*(y - x^2)^2")
    );
    let (ok, busy) = concurrent_gets(&server, &path, 300);
    assert!(ok > 0);
    // And it answers a new request at once afterwards.
    let after = Instant::now();
    assert_eq!(get(&server, "/api/grad?f=x&at=1").0, 200);
    eprintln!(
        "300 concurrent descents: {ok} answered, {busy} told to retry, in {:.2} s; then one in {:.3} s",
        after.duration_since(started).as_secs_f64(),
        after.elapsed().as_secs_f64()
    );
}

/// Any query, to any endpoint: a JSON answer with 200 or a 4xx status,
/// never a 5xx, a panic or a hang (random queries, percent-encoded).
#[test]
fn random_queries_get_json_and_never_a_5xx() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    let server = Server::start();
    let mut runner = TestRunner::new(Config::with_cases(48));
    let keys = prop_oneof![
        Just("f"),
        Just("at"),
        Just("from"),
        Just("steps"),
        Just("lr"),
        Just("optimizer"),
        Just("n"),
        Just("x0"),
        Just("scheme"),
        Just("h"),
    ];
    let values = prop_oneof![
        "\\PC{0,40}",
        "[-0-9.,e]{0,20}",
        Just("x0^2 + x1^2".to_string()),
        Just("1,2".to_string()),
    ];
    let endpoint = prop_oneof![
        Just("/api/grad"),
        Just("/api/descend"),
        Just("/api/surface"),
        Just("/api/hsweep"),
    ];
    let queries = (endpoint, proptest::collection::vec((keys, values), 0..6));
    runner
        .run(&queries, |(path, pairs)| {
            let query: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{k}={}", encode(v)))
                .collect();
            let (status, body) = get(&server, &format!("{path}?{}", query.join("&")));
            prop_assert!(
                status == 200 || (400..500).contains(&status),
                "{status}: {body}"
            );
            let v: serde_json::Value = serde_json::from_str(&body)
                .map_err(|e| TestCaseError::fail(format!("not JSON ({e}): {body}")))?;
            if status != 200 {
                prop_assert!(v["error"].is_string(), "{body}");
            }
            Ok(())
        })
        .expect("every query answered");
}
