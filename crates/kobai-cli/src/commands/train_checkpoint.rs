//! `kobai train --checkpoint FILE [--checkpoint-every N]` and `--resume FILE`:
//! a run that saves itself as it goes, and goes on after a kill with the very
//! weights it would have had.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail, ensure};

use crate::output_paths::check_file_path;
use kobai::train::{Checkpoint, Checkpoints};
use serde_json::{Value, json};

/// Checkpoint options of `kobai train`.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Checkpoints")]
pub struct CheckpointArgs {
    /// Save the run to FILE as it goes (weights, optimizer state, batch
    /// sampler, history; written atomically), so that a killed run can go on
    /// with --resume.
    #[arg(long, value_name = "FILE")]
    checkpoint: Option<PathBuf>,
    /// Iterations between checkpoints [default: one epoch]; one is also saved
    /// after the last iteration.
    #[arg(long, value_name = "N")]
    checkpoint_every: Option<usize>,
    /// Go on with the run saved in FILE, to the end of the same --iters or
    /// --epochs; give the options of the interrupted run (the file says which,
    /// and a mismatch is an error). Checkpoints keep going to FILE, or to
    /// --checkpoint if given.
    #[arg(long, value_name = "FILE")]
    resume: Option<PathBuf>,
    /// Let --checkpoint FILE replace a file that is already there (without
    /// it, a fresh run refuses to overwrite a checkpoint: resume it instead).
    #[arg(long)]
    start_over: bool,
}

/// Where checkpoints go and what the run starts from, checked.
pub struct Plan {
    save_to: PathBuf,
    every: Option<usize>,
    resume: Option<Checkpoint>,
}

/// The plan of `args`, if they ask for checkpoints; reads the checkpoint to
/// resume (so a missing or corrupt one stops everything before it starts).
pub fn plan(args: &CheckpointArgs) -> Result<Option<Plan>> {
    if args.checkpoint_every == Some(0) {
        bail!("--checkpoint-every must be at least 1, got 0");
    }
    let Some(save_to) = args.checkpoint.as_ref().or(args.resume.as_ref()) else {
        ensure!(
            args.checkpoint_every.is_none(),
            "--checkpoint-every needs --checkpoint FILE or --resume FILE"
        );
        return Ok(None);
    };
    if let Some(path) = &args.checkpoint {
        check_file_path("--checkpoint", path)?;
        let resumed_here = args.resume.as_deref().is_some_and(|r| same_file(r, path));
        if path.exists() && !resumed_here && !args.start_over {
            bail!("{}", refusal(path));
        }
    }
    let resume = match &args.resume {
        Some(path) => Some(Checkpoint::load(path).context("cannot resume")?),
        None => None,
    };
    Ok(Some(Plan {
        save_to: save_to.clone(),
        every: args.checkpoint_every,
        resume,
    }))
}

/// Why a fresh run does not overwrite the file at `path`, and what to do.
fn refusal(path: &Path) -> String {
    let shown = path.display();
    match Checkpoint::load(path) {
        Ok(c) => format!(
            "--checkpoint {shown} already holds a run (iteration {} of {}); \
             to go on with it add --resume {shown}, to start over add --start-over",
            c.iteration(),
            c.iterations()
        ),
        Err(_) => format!(
            "--checkpoint {shown} already exists and is not a kobai checkpoint; \
             pick another file, or add --start-over to replace it"
        ),
    }
}

/// Whether `a` and `b` name the same file (the same absolute path, or the
/// same file once links are resolved).
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (std::path::absolute(a), std::path::absolute(b)) {
        (Ok(a), Ok(b)) if a == b => true,
        _ => matches!(
            (a.canonicalize(), b.canonicalize()),
            (Ok(a), Ok(b)) if a == b
        ),
    }
}

impl Plan {
    /// The file checkpoints are written to.
    pub fn path(&self) -> &Path {
        &self.save_to
    }

    /// The file resumed and the value of its setting `name`, if it has one.
    pub fn resumed_setting(&self, name: &str) -> Option<(&Path, f64)> {
        let from = self.resume.as_ref()?;
        let value = from
            .settings()
            .iter()
            .find_map(|(n, v)| (n == name).then_some(*v))?;
        Some((from.path(), value))
    }

    /// Iterations between checkpoints, for a run of `per_epoch` iterations an epoch.
    fn every(&self, per_epoch: usize) -> usize {
        self.every.unwrap_or(per_epoch)
    }

    /// A line for the header: where checkpoints go, and where the run resumes.
    pub fn describe(&self, per_epoch: usize) -> String {
        let every = self.every(per_epoch);
        let unit = if every == 1 {
            "iteration"
        } else {
            "iterations"
        };
        let saving = format!("every {every} {unit} to {}", self.save_to.display());
        match &self.resume {
            Some(from) => format!(
                "Resuming: {} at iteration {} of {}; checkpoints {saving}\n",
                from.path().display(),
                from.iteration(),
                from.iterations()
            ),
            None => format!("Checkpoints: {saving}\n"),
        }
    }

    /// The checkpoint options as JSON.
    pub fn as_json(&self, per_epoch: usize) -> Value {
        json!({
            "path": self.save_to.display().to_string(),
            "every": self.every(per_epoch),
            "resumed_from": self.resume.as_ref().map(|from| json!({
                "path": from.path().display().to_string(),
                "iteration": from.iteration(),
            })),
        })
    }

    /// The library's checkpoint plan: the settings the trainer does not check
    /// on its own are stored, and checked when resuming.
    pub fn checkpoints(&self, per_epoch: usize, settings: &[(&str, f64)]) -> Result<Checkpoints> {
        let mut plan = Checkpoints::new(&self.save_to, self.every(per_epoch))?;
        for &(name, value) in settings {
            plan = plan.with_setting(name, value)?;
        }
        Ok(match &self.resume {
            Some(from) => plan.resume_from(from.clone()),
            None => plan,
        })
    }
}
