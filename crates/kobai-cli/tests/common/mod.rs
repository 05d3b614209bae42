//! Helpers shared by the CLI tests: run the real `kobai` binary.

#![allow(dead_code)] // each test file uses some of them

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
