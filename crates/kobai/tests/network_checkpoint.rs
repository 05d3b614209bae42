//! A network of any shape, saved and resumed: every parameter, every buffer
//! (BatchNorm's running statistics, Dropout's draw counter) and every
//! optimizer's state come back, and a resumed run ends with the very bits of
//! one that never stopped.

#![cfg(feature = "npz")]

mod support;

use kobai::data::Sampling;
use kobai::model::{load_npz, read_architecture, save_npz};
use kobai::nets::{Activation, MultiLayerNet, Network};
use kobai::train::{Checkpoint, Checkpoints};
use kobai::{AdaGrad, Adam, KobaiError, Momentum, Nesterov, Optimizer, Params, RmsProp, Sgd};
use kobai::{Result, Trainer};
use support::*;

type MakeOptimizer = fn() -> Box<dyn Optimizer>;

const OPTIMIZERS: [(&str, MakeOptimizer); 6] = [
    ("SGD", || Box::new(Sgd::new(0.2).expect("valid"))),
    ("Momentum", || {
        Box::new(Momentum::new(0.05, 0.9).expect("valid"))
    }),
    ("Nesterov", || {
        Box::new(Nesterov::new(0.05, 0.9).expect("valid"))
    }),
    ("AdaGrad", || Box::new(AdaGrad::new(0.05).expect("valid"))),
    ("RMSprop", || {
        Box::new(RmsProp::new(0.01, 0.99).expect("valid"))
    }),
    ("Adam", || {
        Box::new(Adam::new(0.02, 0.9, 0.999).expect("valid"))
    }),
];

fn network(seed: u64) -> Network {
    MultiLayerNet::new(2, &[8, 6], 3)
        .batch_norm(true)
        .dropout(0.2)
        .weight_decay(0.01)
        .seed(seed)
        .build()
        .expect("valid")
}

/// Parameters and buffers, as bits.
fn all_bits(net: &Network) -> Vec<(String, Vec<u64>)> {
    let mut all = bits(net);
    all.extend(
        net.buffers()
            .into_iter()
            .map(|(n, b)| (n, b.iter().map(|v| v.to_bits()).collect())),
    );
    all
}

fn run(
    trainer: &Trainer,
    net: &mut Network,
    make: MakeOptimizer,
    observer: &mut dyn kobai::Observer,
    checkpoints: &Checkpoints,
) -> Result<kobai::History> {
    let (train, test) = data();
    trainer.train_with_checkpoints(
        net,
        &mut *make(),
        &train,
        Some(&test),
        observer,
        checkpoints,
    )
}

#[test]
fn every_optimizer_resumes_a_deep_network_to_the_bit() -> Result<()> {
    let dir = scratch("network");
    let (train, test) = data();
    for (name, make) in OPTIMIZERS {
        for sampling in SAMPLINGS {
            let trainer = trainer(sampling);
            let mut whole = network(1);
            let expected = trainer.train(&mut whole, &mut *make(), &train, Some(&test), &mut ())?;
            assert!(
                whole.buffers()[0].1.iter().any(|&v| v != 0.0),
                "running mean moved"
            );

            let path = dir.join("run.ckpt.npz");
            let killed = dir.join("killed.ckpt.npz");
            let _ = std::fs::remove_file(&path);
            let mut interrupt = Interrupt {
                at: 17,
                keep: Some((path.clone(), killed.clone())),
            };
            let checkpoints = Checkpoints::new(&path, 5)?;
            run(
                &trainer,
                &mut network(1),
                make,
                &mut interrupt,
                &checkpoints,
            )?;
            // As a kill leaves it: the checkpoint of iteration 15.
            let from = Checkpoint::load(&killed)?;
            assert_eq!(from.iteration(), 15);
            assert_eq!(from.architecture(), network(1).architecture().as_deref());
            // The same architecture (its Dropout seeds included) with other
            // weights: everything must come from the file.
            let mut resumed = network(1);
            for (_, mut p) in resumed.params_mut() {
                p.fill(0.5);
            }
            let history = run(
                &trainer,
                &mut resumed,
                make,
                &mut (),
                &checkpoints.resume_from(from),
            )?;
            let case = format!("{name}, {sampling:?}");
            assert_eq!(all_bits(&resumed), all_bits(&whole), "{case}");
            assert_eq!(history_bits(&history), history_bits(&expected), "{case}");
        }
    }
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}

#[test]
fn a_checkpoint_resumes_only_into_its_own_architecture() -> Result<()> {
    let dir = scratch("network-arch");
    let path = dir.join("run.ckpt.npz");
    let trainer = trainer(Sampling::WithReplacement);
    let checkpoints = Checkpoints::new(&path, 5)?;
    let mut stop = Interrupt { at: 10, keep: None };
    run(
        &trainer,
        &mut network(1),
        OPTIMIZERS[5].1,
        &mut stop,
        &checkpoints,
    )?;
    // Same shapes, another activation: caught by the architecture, not the shapes.
    let mut tanh = MultiLayerNet::new(2, &[8, 6], 3)
        .activation(Activation::Tanh)
        .batch_norm(true)
        .dropout(0.2)
        .weight_decay(0.01)
        .build()?;
    let err = run(
        &trainer,
        &mut tanh,
        OPTIMIZERS[5].1,
        &mut (),
        &checkpoints.clone().resume_from(Checkpoint::load(&path)?),
    )
    .unwrap_err();
    assert!(
        matches!(err, KobaiError::CheckpointMismatch { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("the network"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}

#[test]
fn npz_files_hold_parameters_buffers_and_the_architecture() -> Result<()> {
    let dir = scratch("network-npz");
    let path = dir.join("w.npz");
    let mut net = network(3);
    // Move the buffers away from their initial values.
    let (train, _) = data();
    Trainer::new(kobai::train::Length::Iterations(5), 16, 0)?.train(
        &mut net,
        &mut Sgd::new(0.1)?,
        &train,
        None,
        &mut (),
    )?;
    save_npz(&net, &path)?;
    // NumPy reads the members by these names.
    let file = std::fs::File::open(&path).expect("written");
    let mut archive = zip::ZipArchive::new(file).expect("a zip archive");
    let mut members: Vec<String> = archive.file_names().map(str::to_string).collect();
    members.sort();
    for expected in [
        "affine1.W.npy",
        "batchnorm1.gamma.npy",
        "batchnorm1.running_mean.npy",
        "batchnorm2.running_var.npy",
        "dropout1.draws.npy",
        "architecture.npy",
    ] {
        assert!(
            members.iter().any(|m| m == expected),
            "{expected} in {members:?}"
        );
    }
    let _ = archive.by_name("architecture.npy").expect("present");

    let text = read_architecture(&path)?.expect("written");
    let mut copy = Network::from_architecture(&text)?;
    load_npz(&mut copy, &path)?;
    assert_eq!(all_bits(&copy), all_bits(&net));

    // Another shape or another architecture: a clear error, nothing loaded.
    let mut other = MultiLayerNet::new(2, &[8, 5], 3).batch_norm(true).build()?;
    let before = all_bits(&other);
    let err = load_npz(&mut other, &path).unwrap_err();
    assert!(
        err.to_string().contains("holds the weights of the network"),
        "{err}"
    );
    assert_eq!(all_bits(&other), before);
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}
