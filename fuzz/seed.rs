//! Writes the seed corpora under `fuzz/corpus/<target>/`: small valid inputs
//! that the fuzzer mutates from (`seed-*` files; found inputs sit beside them),
//! and the large valid 784-50-10 archive under `fuzz/seeds/npz/`.
//!
//! `cargo run --manifest-path fuzz/Cargo.toml --example seed`

use std::path::{Path, PathBuf};

use kobai::nets::{Activation, MultiLayerNet, SimpleConvNet};
use kobai::{Params, TwoLayerNet};
use kobai::data::write_idx_u8;
use kobai::model::save_npz;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let dir = |target: &str| -> std::io::Result<PathBuf> {
        let dir = corpus.join(target);
        std::fs::create_dir_all(&dir)?;
        Ok(dir)
    };

    let idx = dir("idx")?;
    let image: Vec<u8> = (0..2 * 3 * 4).map(|i| (i * 11) as u8).collect();
    let cases: [(&str, &[usize], &[u8]); 5] = [
        ("labels", &[5], &[0, 1, 2, 9, 7]),
        ("images", &[2, 3, 4], &image),
        ("matrix", &[2, 2], &[1, 2, 3, 4]),
        ("four-dims", &[1, 2, 1, 2], &[5, 6, 7, 8]),
        ("empty", &[0, 28, 28], &[]),
    ];
    for (name, dims, data) in cases {
        write_idx_u8(&idx.join(format!("seed-{name}")), dims, data)?;
        write_idx_u8(&idx.join(format!("seed-{name}.gz")), dims, data)?;
    }

    let npz = dir("npz")?;
    save_npz(
        &TwoLayerNet::new(4, 3, 2, 0.1, 0)?,
        &npz.join("seed-4-3-2.npz"),
    )?;
    save_npz(
        &TwoLayerNet::new(2, 2, 2, 0.1, 1)?,
        &npz.join("seed-2-2-2.npz"),
    )?;
    // 300 KB: replayed by run.sh rather than fuzzed from (see run.sh).
    let large = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/npz");
    std::fs::create_dir_all(&large)?;
    save_npz(
        &TwoLayerNet::new(784, 50, 10, 0.01, 0)?,
        &large.join("seed-784-50-10.npz"),
    )?;

    // Descriptions of every kind of layer, and archives of deep and conv nets.
    let architecture = dir("architecture")?;
    let nets = [
        MultiLayerNet::new(3, &[4, 2], 2).build()?,
        MultiLayerNet::new(2, &[3], 2)
            .activation(Activation::Tanh)
            .batch_norm(true)
            .dropout(0.25)
            .weight_decay(0.1)
            .build()?,
        MultiLayerNet::new(2, &[2, 2], 3)
            .activation(Activation::Sigmoid)
            .build()?,
        SimpleConvNet::new((1, 6, 6), 3)
            .filters(2)
            .filter_size(3)
            .hidden(4)
            .build()?,
    ];
    let network_npz = dir("network_npz")?;
    for (k, net) in nets.iter().enumerate() {
        let text = net.architecture().expect("a network describes itself");
        std::fs::write(architecture.join(format!("seed-{k}")), text)?;
        save_npz(net, &network_npz.join(format!("seed-{k}.npz")))?;
    }
    std::fs::write(
        architecture.join("seed-pool"),
        "conv(2,1x8x8,3x3,stride=1,pad=1) relu pool(avg,2x2,stride=2,pad=0) affine(32,2)",
    )?;

    let formula = dir("formula")?;
    let formulas = [
        "x0^2 + x1^2",
        "0.01*x^2 + 0.1*x",
        "(1 - x0)^2 + 100*(x1 - x0^2)^2",
        "sin(x) * y + e^x0",
        "-2^2 + 2^3^2 - 2**-1 + 2*-3",
        "exp(x0) / (1 + exp(x0)) + log(abs(x1) + 1)",
        "sqrt(x0*x0 + x1*x1) + tanh(x2) - cos(pi*x3) + tan(.5)",
        "pow(x0, 3) + min(x1, x2) * max(x0, 1e-3) - 2.5E+4",
        "x12 \u{2212} 3\u{d7}x2",
        "((((x))))",
    ];
    for (i, text) in formulas.iter().enumerate() {
        std::fs::write(formula.join(format!("seed-{i:02}")), text)?;
    }
    println!("seeds written under {}", corpus.display());
    Ok(())
}
