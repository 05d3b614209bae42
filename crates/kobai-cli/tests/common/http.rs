//! Plain HTTP/1.1 to a test server, over a `TcpStream`: what a script would send.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use super::Server;

/// `GET path` from `server`: the status and the body.
pub fn get(server: &Server, path: &str) -> (u16, String) {
    request(server, "GET", path, "")
}

/// `METHOD path` with `body` (JSON) from `server`: the status and the body.
pub fn request(server: &Server, method: &str, path: &str, body: &str) -> (u16, String) {
    let (status, head, bytes) = exchange(server, method, path, body);
    let body = String::from_utf8(bytes).expect("a text answer");
    let body = if head.contains("transfer-encoding: chunked") {
        unchunk(&body)
    } else {
        body
    };
    (status, body)
}

/// `GET path` from `server`, for a binary answer: the status, the head (in
/// lower case) and the body's bytes as sent.
pub fn get_bytes(server: &Server, path: &str) -> (u16, String, Vec<u8>) {
    exchange(server, "GET", path, "")
}

/// One request on its own connection: the status, the head in lower case,
/// and the body's bytes as sent.
fn exchange(server: &Server, method: &str, path: &str, body: &str) -> (u16, String, Vec<u8>) {
    let mut stream = TcpStream::connect(server.address()).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        server.address(),
        body.len()
    )
    .expect("request sent");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("an answer");
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("head and body");
    let head = String::from_utf8_lossy(&answer[..split]).to_ascii_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    (status, head, answer[split + 4..].to_vec())
}

/// The body of a chunked answer.
pub fn unchunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        body = &rest[n + 2..];
    }
    out
}

/// `text` percent-encoded for a query.
pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A `GET path` left open (a server-sent event stream, say): the connection,
/// with a 30 s read timeout, its request sent and nothing read yet.
pub fn open(server: &Server, path: &str) -> TcpStream {
    let mut stream = TcpStream::connect(server.address()).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    write!(stream, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").expect("request sent");
    stream
}

/// `GET path` from `n` threads at once: how many got 200 and how many 429
/// (the server is busy, retry), after checking that every answer is one of
/// those two.
pub fn concurrent_gets(server: &Server, path: &str, n: usize) -> (usize, usize) {
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..n)
            .map(|_| scope.spawn(|| get(server, path).0))
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("joined"))
            .collect()
    });
    let ok = statuses.iter().filter(|&&s| s == 200).count();
    let busy = statuses.iter().filter(|&&s| s == 429).count();
    assert_eq!(ok + busy, n, "only 200 and 429: {statuses:?}");
    (ok, busy)
}
