//! `kobai train --checkpoint` and `--resume`, run as a user runs them: a run
//! killed with SIGKILL mid-way and resumed ends with the very weights of a run
//! that was never interrupted.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kobai::train::Checkpoint;
use serde_json::Value;

mod common;
use common::{json, kobai_in, scratch, stderr, weight_bits};

/// What two runs must agree on: the history, not the time or the files.
fn numbers(mut v: Value) -> Value {
    let object = v.as_object_mut().expect("an object");
    for key in ["seconds", "saved", "checkpoint"] {
        object.remove(key);
    }
    v
}

/// Starts a checkpointed run of `epochs`, waits for its first checkpoint and
/// a little more, and kills it with SIGKILL. The checkpoint it left, if the
/// kill came before the run's end.
fn kill_mid_run(dir: &Path, epochs: &str, network: &[&str]) -> Option<Checkpoint> {
    let path = dir.join("run.ckpt.npz");
    let _ = std::fs::remove_file(&path);
    let args = [
        "train",
        "--no-plots",
        "--epochs",
        epochs,
        "--checkpoint",
        "run.ckpt.npz",
    ];
    let mut child = Command::new(env!("CARGO_BIN_EXE_kobai"))
        .args(
            args.iter()
                .chain(&["--checkpoint-every", "10"])
                .chain(network),
        )
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the kobai binary starts");
    let started = Instant::now();
    while !path.exists() && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(150));
    let finished = child.try_wait().expect("status").is_some();
    child.kill().expect("SIGKILL sent (or the run had ended)");
    let status = child.wait().expect("the run ends");
    let checkpoint = Checkpoint::load(&path).expect("a whole checkpoint, however the kill fell");
    eprintln!(
        "killed after {:.2} s ({status}) at iteration {} of {}",
        started.elapsed().as_secs_f64(),
        checkpoint.iteration(),
        checkpoint.iterations()
    );
    (!finished && !checkpoint.is_complete()).then_some(checkpoint)
}

#[test]
fn a_run_killed_mid_way_resumes_to_the_same_weights_bit_for_bit() {
    killed_and_resumed("kill", &[]);
}

/// The same for a deep network with every kind of state: BatchNorm's running
/// statistics, Dropout's draw counter, Adam's moments.
#[test]
fn a_deep_network_killed_mid_way_resumes_to_the_same_bits() {
    killed_and_resumed(
        "kill-deep",
        &[
            "--hidden",
            "12,12",
            "--batchnorm",
            "--dropout",
            "0.1",
            "--weight-decay",
            "0.001",
            "--optimizer",
            "adam",
            "--lr",
            "0.01",
        ],
    );
}

fn killed_and_resumed(name: &str, network: &[&str]) {
    let dir = scratch(name);
    // 300 epochs take about 3 s in a debug build; should the kill come after
    // the end on a fast machine, try again with a longer run.
    let (epochs, checkpoint) = ["300", "1200", "4800"]
        .into_iter()
        .find_map(|epochs| kill_mid_run(&dir, epochs, network).map(|c| (epochs, c)))
        .expect("a kill before the end of the run");
    assert!(checkpoint.iteration() >= 10 && !checkpoint.is_complete());

    let common = [
        &["train", "--no-plots", "--json", "--epochs", epochs][..],
        network,
    ]
    .concat();
    let resume = ["--resume", "run.ckpt.npz", "--save", "resumed.npz"];
    let resumed = json(&kobai_in(&dir, &[&common[..], &resume].concat()));
    assert_eq!(
        resumed["checkpoint"]["resumed_from"]["iteration"],
        checkpoint.iteration()
    );
    let whole = json(&kobai_in(
        &dir,
        &[&common[..], &["--save", "whole.npz"]].concat(),
    ));

    assert_eq!(
        weight_bits(&dir.join("resumed.npz")),
        weight_bits(&dir.join("whole.npz"))
    );
    let bytes = |name: &str| std::fs::read(dir.join(name)).expect("written");
    assert_eq!(bytes("resumed.npz"), bytes("whole.npz"), "the files too");
    assert_eq!(numbers(resumed), numbers(whole), "the same history");
    // The resumed run kept checkpointing to the end.
    let last = Checkpoint::load(&dir.join("run.ckpt.npz")).expect("a checkpoint");
    assert!(last.is_complete());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn checkpoints_are_written_and_a_finished_run_resumes_to_its_end() {
    let dir = scratch("finished");
    let args = [
        "train",
        "--no-plots",
        "--json",
        "--iters",
        "50",
        "--seed",
        "3",
    ];
    let fresh = json(&kobai_in(
        &dir,
        &[&args[..], &["--checkpoint", "c.npz", "--save", "a.npz"]].concat(),
    ));
    assert_eq!(fresh["checkpoint"]["path"], "c.npz");
    assert_eq!(fresh["checkpoint"]["every"], 24, "one epoch by default");
    assert_eq!(fresh["checkpoint"]["resumed_from"], Value::Null);
    let checkpoint = Checkpoint::load(&dir.join("c.npz")).expect("written");
    assert_eq!((checkpoint.iteration(), checkpoint.iterations()), (50, 50));
    assert_eq!((checkpoint.optimizer(), checkpoint.seed()), ("SGD", 3));
    assert_eq!(
        checkpoint.settings(),
        [
            ("weight_init_std".to_string(), 0.1),
            ("compute".to_string(), 2.0),
            ("train_size".to_string(), 720.0)
        ]
    );

    let again = json(&kobai_in(
        &dir,
        &[&args[..], &["--resume", "c.npz", "--save", "b.npz"]].concat(),
    ));
    assert_eq!(again["checkpoint"]["resumed_from"]["iteration"], 50);
    assert_eq!(numbers(again), numbers(fresh));
    assert_eq!(
        weight_bits(&dir.join("a.npz")),
        weight_bits(&dir.join("b.npz"))
    );

    // The text output says where the run resumes.
    let text = kobai_in(
        &dir,
        &[
            "train",
            "--no-plots",
            "--iters",
            "50",
            "--seed",
            "3",
            "--resume",
            "c.npz",
        ],
    );
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains(
            "Resuming: c.npz at iteration 50 of 50; checkpoints every 24 iterations to c.npz"
        ),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn missing_corrupt_and_mismatched_checkpoints_are_one_line_errors() {
    let dir = scratch("errors");
    let base = ["train", "--no-plots", "--iters", "30"];
    let out = kobai_in(&dir, &[&base[..], &["--checkpoint", "c.npz"]].concat());
    assert!(out.status.success(), "{}", stderr(&out));
    let good = std::fs::read(dir.join("c.npz")).expect("written");
    std::fs::write(dir.join("cut.npz"), &good[..good.len() / 2]).expect("written");
    std::fs::write(dir.join("junk.npz"), b"not a checkpoint").expect("written");

    let cases: &[(&[&str], &str)] = &[
        (&["--resume", "missing.npz"], "missing.npz"),
        (
            &["--resume", "cut.npz"],
            "cut.npz: not a readable .npz archive",
        ),
        (&["--resume", "junk.npz"], "junk.npz"),
        (
            &["--checkpoint-every", "0", "--checkpoint", "x.npz"],
            "--checkpoint-every",
        ),
        (&["--checkpoint-every", "5"], "needs --checkpoint"),
        (&["--checkpoint", "no-such-folder/x.npz"], "no-such-folder"),
        (
            &["--resume", "c.npz", "--batch-size", "20"],
            "batch size 30, but this run has 20",
        ),
        (
            &["--resume", "c.npz", "--lr", "0.5"],
            "lr = 1, but this run has lr = 0.5",
        ),
        (
            &["--resume", "c.npz", "--seed", "1"],
            "seed 0, but this run has 1",
        ),
        (
            &["--resume", "c.npz", "--hidden", "50"],
            "two_layer_net(2,100,3,relu), but this run has two_layer_net(2,50,3,relu)",
        ),
        (
            &["--resume", "c.npz", "--weight-init-std", "0.2"],
            "weight_init_std = 0.1",
        ),
        (
            &["--resume", "c.npz", "--compute", "layers"],
            "c.npz: the checkpoint was trained with --compute fused-f32, but this run has \
             --compute layers; resume with --compute fused-f32",
        ),
        (
            &["--resume", "c.npz", "--activation", "sigmoid"],
            "two_layer_net(2,100,3,relu), but this run has two_layer_net(2,100,3,sigmoid)",
        ),
        // A fresh run never overwrites a checkpoint, nor the weights one.
        (
            &["--checkpoint", "c.npz"],
            "--checkpoint c.npz already holds a run (iteration 30 of 30); to go on with it \
             add --resume c.npz, to start over add --start-over",
        ),
        (
            &["--checkpoint", "junk.npz"],
            "--checkpoint junk.npz already exists and is not a kobai checkpoint",
        ),
        (
            &["--resume", "c.npz", "--save", "./c.npz"],
            "--save ./c.npz is the checkpoint file too",
        ),
        (
            &["--checkpoint", "new.npz", "--save", "new.npz"],
            "--save new.npz is the checkpoint file too",
        ),
    ];
    for (extra, expected) in cases {
        let out = kobai_in(&dir, &[&base[..], extra].concat());
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{extra:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{extra:?}: {err}");
        assert!(
            err.starts_with("error: ") && err.contains(expected),
            "{extra:?}: {err}"
        );
        assert!(
            out.stdout.is_empty(),
            "{extra:?} printed {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    // Another length: the checkpoint's run had 30 iterations.
    let out = kobai_in(
        &dir,
        &["train", "--no-plots", "--iters", "40", "--resume", "c.npz"],
    );
    assert!(
        stderr(&out).contains("iterations 30, but this run has 40"),
        "{}",
        stderr(&out)
    );
    // Nothing was overwritten by the refused runs, nor made.
    assert_eq!(std::fs::read(dir.join("c.npz")).expect("still there"), good);
    assert_eq!(
        std::fs::read(dir.join("junk.npz")).expect("still there"),
        b"not a checkpoint"
    );
    assert!(!dir.join("new.npz").exists());
    // --start-over replaces it with a fresh run's; so does resuming it.
    let out = kobai_in(
        &dir,
        &[&base[..], &["--checkpoint", "junk.npz", "--start-over"]].concat(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read(dir.join("junk.npz")).expect("replaced"), good);
    let _ = std::fs::remove_dir_all(&dir);
}
