//! # The bad-input catalogue
//!
//! What kobai does with input it cannot use: the library returns a typed
//! [`KobaiError`](crate::KobaiError) whose message says what was expected and
//! what was found; the `kobai` command prints one line `error: …` on stderr and
//! exits with 1 (2 for a usage error caught by its argument parser). Never a
//! panic, an abort, a hang, or an allocation sized by untrusted input. Each
//! case below is a test: the library's in `crates/kobai/tests/bad_input.rs`,
//! `data_files.rs`, `checkpoint_refused.rs`, `finite_diff.rs`; the command
//! line's in `crates/kobai-cli/tests/bad_input_commands.rs`,
//! `checkpoint_command.rs`, `formula_commands.rs`; for networks of any shape,
//! `crates/kobai/tests/network.rs`, `network_checkpoint.rs` and
//! `crates/kobai-cli/tests/network_commands.rs`.
//!
//! | input | example | what you get |
//! |---|---|---|
//! | empty array | a batch with no rows | `Empty` |
//! | shape mismatch | softmax scores vs targets, a gradient vs its parameter, images vs labels, `x` wider than `W1` | `Shape`, naming both shapes; an optimizer step changes nothing |
//! | NaN or ±inf | in `x`, in weights, in a gradient, returned by `f` at a probe point | `NonFinite`, naming the array and the index (`x is NaN at index [3, 2]`) |
//! | learning rate | `lr` ≤ 0 or not finite | `Hyperparameter` (`lr = 0 is invalid; expected a finite number above 0`) |
//! | sizes | hidden size 0, batch size 0, `--batch-size` above the training samples, `--steps 0`, `--iters 0`, `--directions 0` | `Hyperparameter` / one CLI line |
//! | step | `h` ≤ 0 or NaN, a negative relative step | `Hyperparameter` |
//! | labels | a label ≥ the number of classes | `LabelOutOfRange` |
//! | one-hot rows | a row that is not one 1 and zeros | `NotOneHot` |
//! | files | missing, unreadable, empty, truncated at each header field, wrong magic, wrong element type, a header claiming 2³² images, corrupt or truncated gzip, image/label count mismatch | `Io` / `Format`, naming the file; sizes are checked against the file before anything is allocated |
//! | weights and checkpoints | missing or misshapen arrays, NaN, a checkpoint of another run or network, one flipped bit | `Format` / `Shape` / `CheckpointMismatch`; the model and optimizer are unchanged |
//! | network options | a hidden size of 0, `--hidden 100,,0`, a dropout ratio outside [0, 1), a negative weight decay, an init that is not `he`, `xavier` or a positive number, `--train-size` 0 or above the data, a network of more than 2²⁸ parameters | `Hyperparameter` / one CLI line, before anything is allocated |
//! | layers | a layer of your own whose backward pass returns a gradient of the wrong shape (or the wrong number of them), a cache handed to the wrong layer, a network with no layers | `Layer` naming the layer (`layer broken1: the gradient of s has shape [3] but s has shape [2]`) / `Empty` |
//! | another network's weights | an `.npz` or a checkpoint written from another architecture (another activation, batch norm, sizes), a resume with another optimizer | `Format` (`holds the weights of the network …`) / `CheckpointMismatch`; nothing is loaded |
//! | formulas | unbalanced parentheses, an unknown name, the wrong number of arguments, a point with the wrong number of coordinates | `Formula` with the column; `Shape` |
//! | a formula that is NaN at the point | `log(x)` at −1 | `evaluate` returns NaN like `f64::ln`; its gradient is `NonFinite` naming the component |
//! | output | a folder that cannot be created or written (`/proc/…`) | `Io` naming the path; files are written to a temporary file and renamed, so a crash leaves the old file or the new one |
//!
//! Two documented non-errors: a shuffled batch larger than the data is one
//! batch of all of it ([`Batches::new`](crate::Batches::new)), and
//! `minimize(…, 0)` returns the start alone, like the book's `step_num=0`.
//! The command line refuses both (`--batch-size` above the data, `--steps 0`)
//! all the same, as likely mistakes.
