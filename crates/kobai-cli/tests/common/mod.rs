//! Helpers shared by the CLI tests: run the real `kobai` binary.

#![allow(dead_code)] // each test file uses some of them

pub mod browser;
pub mod http;

use std::path::Path;
use std::process::{Command, Output};

/// Runs `kobai ARGS` and waits for it.
pub fn kobai(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kobai"))
        .args(args)
        .output()
        .expect("the kobai binary runs")
}

/// Runs `kobai ARGS` in the folder `cwd` and waits for it.
pub fn kobai_in(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kobai"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the kobai binary runs")
}

/// Writes an IDX file of unsigned bytes (the MNIST format) with these
/// dimensions: `[n]` for labels, `[n, h, w]` or `[n, c, h, w]` for images.
pub fn write_idx(path: &Path, dims: &[u32], data: &[u8]) {
    let mut bytes = vec![0, 0, 0x08, dims.len() as u8];
    for d in dims {
        bytes.extend(d.to_be_bytes());
    }
    bytes.extend(data);
    std::fs::write(path, bytes).expect("idx written");
}

/// A fresh, empty folder for one test (under the system temp folder).
pub fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("kobai-cli-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

/// What a run printed on stderr.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// What a run printed on stdout.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The bits of every parameter and buffer in a weights file written by
/// `kobai train --save` (any network).
pub fn weight_bits(path: &Path) -> Vec<Vec<u64>> {
    use kobai::Params;
    fn bits(model: &impl Params) -> Vec<Vec<u64>> {
        let mut all = model.params();
        all.extend(model.buffers());
        all.iter()
            .map(|(_, p)| p.iter().map(|v| v.to_bits()).collect())
            .collect()
    }
    let text = kobai::model::read_architecture(path)
        .expect("a weights file")
        .expect("with its architecture");
    if text.starts_with("two_layer_net(") {
        let mut net = kobai::TwoLayerNet::from_architecture(&text).expect("valid");
        kobai::model::load_npz(&mut net, path).expect("a weights file");
        bits(&net)
    } else {
        let mut net = kobai::nets::Network::from_architecture(&text).expect("valid");
        kobai::model::load_npz(&mut net, path).expect("a weights file");
        bits(&net)
    }
}

/// The one JSON object a successful run printed.
pub fn json(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "failed: {}", stderr(out));
    serde_json::from_slice(&out.stdout).expect("one JSON object on stdout")
}

/// A path in a fresh scratch folder that does not exist yet (for checking
/// that a command creates it, or does not).
pub fn missing_folder(name: &str) -> std::path::PathBuf {
    scratch(name).join("out")
}

/// A running `kobai serve --port 0`, stopped when dropped.
pub struct Server {
    child: std::process::Child,
    /// The URL it printed first, e.g. `http://127.0.0.1:40123/`.
    pub url: String,
}

impl Server {
    /// Starts the server and waits for its URL.
    pub fn start() -> Self {
        use std::io::BufRead;
        let mut child = Command::new(env!("CARGO_BIN_EXE_kobai"))
            .args(["serve", "--port", "0"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("kobai serve starts");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("piped"))
            .read_line(&mut line)
            .expect("the first line");
        assert!(
            line.starts_with("http://"),
            "the first line is the URL: {line:?}"
        );
        Server {
            child,
            url: line.trim().to_string(),
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits up to `limit` for the server to exit; its status, if it did.
    pub fn wait_exit(&mut self, limit: std::time::Duration) -> Option<std::process::ExitStatus> {
        let started = std::time::Instant::now();
        while started.elapsed() < limit {
            if let Some(status) = self.child.try_wait().expect("waits") {
                return Some(status);
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        None
    }

    /// `host:port`.
    pub fn address(&self) -> &str {
        self.url.trim_start_matches("http://").trim_end_matches('/')
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
