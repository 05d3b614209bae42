#!/usr/bin/env python3
"""kobai next to its peers, in one run, on the same work.

Runs kobai (bench/kobai-side), the book's algorithms in NumPy (bench/numpy)
with the default BLAS threads and with one, and candle (bench/candle) with the
default rayon threads and with one; collects the JSON lines every program
prints; prints a markdown table of medians and ratios (kobai / peer: below 1
means kobai is faster) and writes it to bench/results/latest.md, the raw
results to bench/results/latest.json.

Usage (bash bench/run.sh builds everything first and passes its arguments on):
    python bench/side_by_side.py [--quick] [--only ITEM,...] [--repeat N]

Items: train_step, train_epoch, numgrad_bruteforce, numgrad_structured, sumsq,
notebook, train_run, deep_run, conv_run (--only takes these names or their
prefixes: --only numgrad,sumsq). train_run, deep_run and conv_run are whole
runs a user waits for, each program a process timed whole; train_run and
deep_run: 6000 iterations and the accuracy on the whole training and test
sets after every epoch; conv_run: 200 iterations, then that accuracy once.
The programs take turns (run 1 of each, then run 2 of each, ...), 5 rounds
(--quick: 1; --repeat N: N). train_run is the book's train_neuralnet.py (784-50-10, SGD): kobai's CLI
(`kobai train`), NumPy (bench/numpy/train_run.py), JAX
(bench/jax/train_run.py) and candle (`candle-bench run`). deep_run is
784-100-100-100-10 with ReLU, He init and Adam lr 0.001: `kobai train
--hidden 100,100,100 ...`, the book's MultiLayerNetExtend and Adam in NumPy
(bench/numpy/deep_run.py), JAX (bench/jax/deep_run.py) and candle
(`candle-bench deep`). conv_run is the book's SimpleConvNet (chapter 7: conv
30x5x5, ReLU, max pool 2x2, Affine 100, ReLU, Affine 10) with Adam lr 0.001:
`kobai train --model conv ...`, the book's im2col layers in NumPy in float64
(the book's) and in float32 (bench/numpy/conv_run.py --dtype float32, its own
peer `numpy-f32`), JAX (bench/jax/conv_run.py) and candle (`candle-bench
conv`). WHOLE_RUNS holds each item's commands, iterations and kobai's target
against each peer.
A --quick or --only run writes bench/results/partial.{md,json} instead, so a
smoke test never replaces the full table (--out PREFIX to choose).

Needs nothing but the Python standard library itself; the NumPy programs run
under bench/.venv/bin/python when it exists."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
DATA_DIR = os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")

GROUPS = ["train_step", "train_epoch", "numgrad_bruteforce", "numgrad_structured", "sumsq", "notebook", "train_run",
          "deep_run", "conv_run"]
SUMSQ_N = ["10", "1000", "40000"]
ONE_THREAD = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "RAYON_NUM_THREADS": "1",
}
# Thread variables cleared for the "default" runs, so that the caller's
# environment cannot turn a default run into a one-thread one.
THREAD_VARS = list(ONE_THREAD)
# Variables that force OpenBLAS onto older, slower kernels (an older core
# type, a smaller cache): cleared for every run, so NumPy uses the kernels it
# picks for this processor; the header records which ran (threadpoolctl).
BLAS_KERNEL_VARS = ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"]
PROCESS_TIMEOUT_S = 3600
# train_run and deep_run: 6000 iterations (10 epochs of batch 100); conv_run
# sets its own (WholeRunItem.iters). --run-iters overrides them all.
RUN_ITERS = 6000
CONV_RUN_ITERS = 200
RUN_SEED = 1
# JAX's one-thread setting (XLA reads XLA_FLAGS; the BLAS and rayon variables
# mean nothing to it).
JAX_ONE_THREAD = {"XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"}


@dataclass(frozen=True)
class Target:
    """What kobai's whole run must reach against one peer: kobai / peer (the
    ratio of the median wall times) at most `ratio`, or below it if
    `strict`."""

    ratio: float
    strict: bool = False

    def met(self, r: float) -> bool:
        return r < self.ratio if self.strict else r <= self.ratio

    def text(self) -> str:
        return f"{'<' if self.strict else '≤'} {self.ratio:g}"

    def words(self) -> str:
        if self.ratio == 1 and self.strict:
            return "faster"
        if not self.strict and self.ratio > 0:
            return f"at least {1 / self.ratio:g}× faster"
        return f"kobai / peer {self.text()}"


@dataclass(frozen=True)
class WholeRunItem:
    """A whole-run item: what the programs run, the kobai CLI's options and
    each peer's subcommand or script, and kobai's target against each peer
    (by the peer's name: numpy, numpy-f32, jax, candle). `numpy_variants`:
    the NumPy script's runs, each (impl name, extra arguments); the script
    prints that impl name, so each variant is its own peer with its own
    target. `iters`: the item's iterations (--run-iters overrides)."""

    name: str
    what: str
    kobai_options: tuple[str, ...]
    numpy_script: str  # under bench/numpy/
    jax_script: str  # under bench/jax/
    candle_command: str  # candle-bench's subcommand
    targets: dict[str, Target]
    numpy_variants: tuple[tuple[str, tuple[str, ...]], ...] = (("numpy", ()),)
    iters: int = RUN_ITERS


TWICE_AS_FAST = Target(0.5)
FASTER = Target(1.0, strict=True)
WHOLE_RUNS = {
    # The book's ch05/train_neuralnet.py: the target is kobai at least
    # 2x faster than every peer.
    "train_run": WholeRunItem(
        "train_run", "the book's train_neuralnet.py, 784-50-10, SGD lr 0.1",
        ("--hidden", "50", "--batch-size", "100", "--lr", "0.1"),
        "train_run.py", "train_run.py", "run",
        {"numpy": TWICE_AS_FAST, "jax": TWICE_AS_FAST, "candle": TWICE_AS_FAST}),
    # 784-100-100-100-10, ReLU, He init, Adam lr 0.001 (the book's
    # MultiLayerNetExtend with its Adam): the target is kobai at least
    # 2x faster than NumPy and faster than JAX and candle.
    "deep_run": WholeRunItem(
        "deep_run", "784-100-100-100-10, ReLU, He init, Adam lr 0.001",
        ("--hidden", "100,100,100", "--init", "he", "--optimizer", "adam", "--lr", "0.001",
         "--batch-size", "100"),
        "deep_run.py", "deep_run.py", "deep",
        {"numpy": TWICE_AS_FAST, "jax": FASTER, "candle": FASTER}),
    # The book's SimpleConvNet (ch07/simple_convnet.py) with the book's Adam,
    # 200 iterations then one evaluation on the whole training and test sets:
    # the target is kobai at least 2x faster than every peer, NumPy in
    # float64 (the book's) and in float32 each a peer of its own.
    "conv_run": WholeRunItem(
        "conv_run", "the book's SimpleConvNet, conv 30x5x5 - pool 2 - 100 - 10, Adam lr 0.001, "
                    f"{CONV_RUN_ITERS} iterations, one full evaluation",
        ("--model", "conv", "--optimizer", "adam", "--lr", "0.001", "--batch-size", "100"),
        "conv_run.py", "conv_run.py", "conv",
        {"numpy": TWICE_AS_FAST, "numpy-f32": TWICE_AS_FAST, "jax": TWICE_AS_FAST, "candle": TWICE_AS_FAST},
        numpy_variants=(("numpy", ("--dtype", "float64")), ("numpy-f32", ("--dtype", "float32"))),
        iters=CONV_RUN_ITERS),
}


def venv_python() -> str:
    py = BENCH / ".venv" / "bin" / "python"
    return str(py) if py.exists() else sys.executable


def kobai_cli() -> Path:
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    if not target.is_absolute():
        target = ROOT / target
    return target / "release" / "kobai"


@dataclass
class Peer:
    """One program in one thread setting, and the subcommand it runs per item group."""

    impl: str
    argv: list[str]
    threads: str
    env: dict[str, str]
    commands: dict[str, list[str]]
    missing: str | None = None  # why it cannot run, if it cannot


@dataclass
class Run:
    wall_s: float
    rss_kib: int
    rc: int
    stdout: str
    stderr: str


@dataclass
class Harness:
    quick: bool
    epoch_repeat: int
    notebook_repeat: int
    run_repeat: int = 5
    run_iters: int | None = None  # None: each whole-run item's own (WholeRunItem.iters)
    rows: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        print(f"note: {text}", file=sys.stderr, flush=True)
        self.notes.append(text)


def peers(args) -> list[Peer]:
    kobai_bench = Path(args.kobai_bench)
    candle = Path(args.candle_bin)
    py = venv_python()
    numpy_prog = [py, str(BENCH / "numpy" / "bench_numpy.py")]
    kobai_cmds = {
        "train_step": ["step"],
        "train_epoch": ["epoch"],
        "numgrad_bruteforce": ["numgrad-brute"],
        "numgrad_structured": ["numgrad-structured"],
        "sumsq": ["sumsq", *SUMSQ_N],
    }
    numpy_cmds = {
        "train_step": ["step"],
        "train_epoch": ["epoch"],
        "numgrad_bruteforce": ["numgrad"],
        "sumsq": ["sumsq", *SUMSQ_N],
    }
    # np.sum uses no BLAS: its one-thread run would repeat the default one.
    numpy_one = {k: v for k, v in numpy_cmds.items() if k != "sumsq"}
    # candle-bench (bench/candle) has `step` and `epoch`; if it gains more of
    # kobai-bench's subcommands, name them here.
    candle_cmds = {
        "train_step": ["step"],
        "train_epoch": ["epoch"],
    }
    missing_kobai = None if kobai_bench.exists() else (
        f"{kobai_bench} is missing (cargo build --release --manifest-path bench/kobai-side/Cargo.toml)")
    missing_candle = None if candle.exists() else (
        f"{candle} is missing (cargo build --release --manifest-path bench/candle/Cargo.toml): no candle rows")
    return [
        Peer("kobai", [str(kobai_bench)], "default", {}, kobai_cmds, missing_kobai),
        Peer("kobai", [str(kobai_bench)], "1", ONE_THREAD,
             {k: kobai_cmds[k] for k in ("train_step", "train_epoch")}, missing_kobai),
        # The book's f64 layers, for comparison with kobai's default fused f32 engine.
        Peer("kobai-layers", [str(kobai_bench)], "default", {"KOBAI_COMPUTE": "layers"},
             {k: kobai_cmds[k] for k in ("train_step", "train_epoch")}, missing_kobai),
        Peer("numpy", numpy_prog, "default", {}, numpy_cmds),
        Peer("numpy", numpy_prog, "1", ONE_THREAD, numpy_one),
        Peer("candle", [str(candle)], "default", {}, candle_cmds, missing_candle),
        Peer("candle", [str(candle)], "1", ONE_THREAD, candle_cmds, missing_candle),
    ]


def environment(extra: dict[str, str], quick: bool) -> dict[str, str]:
    # XLA_FLAGS too: it sets JAX's threads (the jax rows of train_run and deep_run).
    cleared = {*THREAD_VARS, *BLAS_KERNEL_VARS, "BENCH_QUICK", "XLA_FLAGS"}
    env = {k: v for k, v in os.environ.items() if k not in cleared}
    env["FASHION_MNIST_DIR"] = DATA_DIR
    env["PYTHONHASHSEED"] = "0"
    if quick:
        env["BENCH_QUICK"] = "1"
    env.update(extra)
    return env


def run_process(argv: list[str], env: dict[str, str], cwd: Path = ROOT) -> Run:
    """Runs argv to the end: wall time, peak RSS (ru_maxrss of this child
    alone, KiB on Linux), exit code, output."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env, cwd=cwd)
        timer = threading.Timer(PROCESS_TIMEOUT_S, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped: tell Popen
        out.seek(0)
        err.seek(0)
        return Run(wall, usage.ru_maxrss, proc.returncode, out.read(), err.read())


def parse_lines(text: str) -> list[dict]:
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if {"item", "impl", "median_s"} <= row.keys():
                rows.append(row)
    return rows


def describe_failure(run: Run) -> str:
    tail = (run.stderr.strip().splitlines() or ["(no output)"])[-1]
    return f"exit code {run.rc}: {tail[:200]}"


def run_peer(h: Harness, peer: Peer, group: str) -> None:
    """One process of `peer` for `group`; its JSON lines become rows."""
    args = peer.commands[group]
    print(f"--- {peer.impl} (threads={peer.threads}): {' '.join(args)}", file=sys.stderr, flush=True)
    run = run_process(peer.argv + args, environment(peer.env, h.quick))
    rows = parse_lines(run.stdout)
    if run.rc != 0 or not rows:
        h.note(f"{peer.impl} (threads={peer.threads}) `{' '.join(args)}` gave no result for {group}, "
               f"{describe_failure(run)}")
        if run.rc != 0:
            return
    for row in rows:
        row["threads"] = peer.threads
        row["group"] = group
        h.rows.append(row)
        print(json.dumps(row), flush=True)


def run_epoch(h: Harness, peer: Peer) -> None:
    """train_epoch: one process per repetition, so that each process's peak
    RSS (loading included) is that of one epoch of training."""
    args = peer.commands["train_epoch"]
    print(f"--- {peer.impl} (threads={peer.threads}): {' '.join(args)} x{h.epoch_repeat}",
          file=sys.stderr, flush=True)
    medians, rss, extras = [], [], []
    for _ in range(h.epoch_repeat):
        run = run_process(peer.argv + args, environment(peer.env, h.quick))
        rows = [r for r in parse_lines(run.stdout) if r["item"] == "train_epoch"]
        if run.rc != 0 or not rows:
            h.note(f"{peer.impl} (threads={peer.threads}) `{' '.join(args)}` gave no result, "
                   f"{describe_failure(run)}")
            return
        medians.append(rows[0]["median_s"])
        extras.append(rows[0].get("extra", {}))
        rss.append(run.rss_kib)
    extra = dict(extras[0])
    extra["peak_rss_mib"] = max(rss) / 1024
    extra["peak_rss_mib_each"] = [r / 1024 for r in rss]
    extra["epoch_s_each"] = medians
    accuracies = {e.get("test_accuracy") for e in extras}
    if len(accuracies) > 1:
        extra["test_accuracy_each"] = [e.get("test_accuracy") for e in extras]
    row = {"item": "train_epoch", "impl": rows[0]["impl"], "median_s": statistics.median(medians),
           "runs": len(medians), "extra": extra, "threads": peer.threads, "group": "train_epoch"}
    h.rows.append(row)
    print(json.dumps(row), flush=True)


def run_notebook(h: Harness) -> None:
    """The whole notebook as a process, wall time: kobai's CLI against NumPy +
    matplotlib. One untimed run each first (matplotlib builds its font cache
    on its first run; the OS caches both programs)."""
    kobai = kobai_cli()
    programs = [("kobai", [str(kobai), "notebook"]),
                ("numpy", [venv_python(), str(BENCH / "numpy" / "notebook.py")])]
    if not kobai.exists():
        h.note(f"{kobai} is missing (cargo build --release --bin kobai): no kobai notebook row")
        programs = programs[1:]
    for impl, argv in programs:
        print(f"--- {impl}: {' '.join(argv)} --out DIR x{h.notebook_repeat}", file=sys.stderr, flush=True)
        walls, rss = [], []
        for i in range(h.notebook_repeat + 1):
            with tempfile.TemporaryDirectory(prefix="bench-notebook-") as out:
                run = run_process(argv + ["--out", out], environment({}, h.quick))
                pictures = sorted(p.name for p in Path(out).iterdir())
            if run.rc != 0:
                h.note(f"{impl} notebook failed, {describe_failure(run)}")
                break
            if i > 0:
                walls.append(run.wall_s)
                rss.append(run.rss_kib)
        if not walls:
            continue
        row = {"item": "notebook", "impl": impl, "median_s": statistics.median(walls), "runs": len(walls),
               "extra": {"peak_rss_mib": max(rss) / 1024, "pictures": pictures},
               "threads": "default", "group": "notebook"}
        h.rows.append(row)
        print(json.dumps(row), flush=True)


@dataclass
class WholeRun:
    """One program of a whole-run item (train_run, deep_run, conv_run) in one thread
    setting: a command run as a whole process, timed from outside."""

    impl: str
    argv: list[str]
    threads: str
    env: dict[str, str]
    missing: str | None = None


def whole_run_programs(spec: WholeRunItem, args, iters: int) -> list[WholeRun]:
    """The programs of a whole-run item, each in its two thread settings
    (NumPy: each of `spec.numpy_variants` in both)."""
    py = venv_python()
    kobai = kobai_cli()
    candle = Path(args.candle_bin)
    common = ["--iters", str(iters), "--seed", str(RUN_SEED)]
    kobai_argv = [str(kobai), "train", "--data", DATA_DIR, *spec.kobai_options, *common, "--no-plots", "--json"]
    numpy_argvs = [(impl, [py, str(BENCH / "numpy" / spec.numpy_script), *common, *extra])
                   for impl, extra in spec.numpy_variants]
    jax_argv = [py, str(BENCH / "jax" / spec.jax_script), *common]
    candle_argv = [str(candle), spec.candle_command, *common]
    missing_kobai = None if kobai.exists() else (
        f"{kobai} is missing (cargo build --release --bin kobai): no kobai {spec.name} rows")
    missing_candle = None if candle.exists() else (
        f"{candle} is missing (cargo build --release --manifest-path bench/candle/Cargo.toml): "
        f"no candle {spec.name} rows")
    missing_jax = None
    if command_output([py, "-c", "import jax; print(jax.__version__)"], env=environment({}, False)) is None:
        missing_jax = (f"JAX does not import in {py} ({py} -m pip install 'jax[cpu]'): "
                       f"no jax {spec.name} rows")
    return [
        WholeRun("kobai", kobai_argv, "default", {}, missing_kobai),
        WholeRun("kobai", kobai_argv, "1", ONE_THREAD, missing_kobai),
        *(WholeRun(impl, argv, threads, env) for impl, argv in numpy_argvs
          for threads, env in (("default", {}), ("1", ONE_THREAD))),
        WholeRun("jax", jax_argv, "default", {}, missing_jax),
        WholeRun("jax", jax_argv, "1", {**ONE_THREAD, **JAX_ONE_THREAD}, missing_jax),
        WholeRun("candle", candle_argv, "default", {}, missing_candle),
        WholeRun("candle", candle_argv, "1", ONE_THREAD, missing_candle),
    ]


def whole_run_result(stdout: str, item: str) -> dict | None:
    """What a whole-run program reports: its impl, own time and accuracies.
    The peers print the harness's JSON line for `item`; kobai's CLI prints one
    JSON object (`kobai train --json`) with `final_test_accuracy`,
    `epoch_reports` and the network it built (`network.shape`, `.init`,
    `.engine`)."""
    for row in parse_lines(stdout):
        if row["item"] == item:
            extra = row.get("extra", {})
            return {"impl": row["impl"], "program_s": row["median_s"],
                    "test_accuracy": extra.get("test_accuracy"), "train_accuracy": extra.get("train_accuracy"),
                    "epochs": len(extra.get("epochs", [])), "step_ms_median": extra.get("step_ms_median")}
    for line in reversed(stdout.strip().splitlines()):
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict) and ("final_test_accuracy" in obj or "epoch_reports" in obj):
            reports = obj.get("epoch_reports") or [{}]
            network = obj.get("network") or {}
            return {"impl": "kobai", "program_s": obj.get("seconds"),
                    "test_accuracy": obj.get("final_test_accuracy", reports[-1].get("test_accuracy")),
                    "train_accuracy": obj.get("final_train_accuracy", reports[-1].get("train_accuracy")),
                    "epochs": len(obj.get("epoch_reports", [])),
                    "network": {k: network[k] for k in ("shape", "init", "engine") if k in network}}
    return None


def run_whole_run(h: Harness, args, spec: WholeRunItem) -> None:
    """A whole-run item (train_run, deep_run, conv_run): every program's whole run as a
    process, wall clock and peak RSS from outside. The programs take turns,
    run 1 of each, then run 2 of each, ..., so that a slow spell of the
    machine hits them all alike; row i of one program and row i of another
    ran next to each other (the per-pair ratios)."""
    item = spec.name
    iters = h.run_iters or spec.iters
    programs = whole_run_programs(spec, args, iters)
    for prog in programs:
        if prog.missing and prog.missing not in h.notes:
            h.note(prog.missing)
    live = [p for p in programs if not p.missing]
    walls: dict[int, list] = {id(p): [None] * h.run_repeat for p in live}
    results: dict[int, list] = {id(p): [None] * h.run_repeat for p in live}
    rss: dict[int, list] = {id(p): [None] * h.run_repeat for p in live}
    failed: set[int] = set()
    for i in range(h.run_repeat):
        for prog in live:
            if id(prog) in failed:
                continue
            print(f"--- {item} {i + 1}/{h.run_repeat}: {prog.impl} (threads={prog.threads}): "
                  f"{' '.join(prog.argv)}", file=sys.stderr, flush=True)
            run = run_process(prog.argv, environment(prog.env, h.quick))
            result = whole_run_result(run.stdout, item) if run.rc == 0 else None
            if result is None:
                h.note(f"{prog.impl} (threads={prog.threads}) {item} gave no result, {describe_failure(run)}")
                failed.add(id(prog))
                continue
            walls[id(prog)][i] = run.wall_s
            results[id(prog)][i] = result
            rss[id(prog)][i] = run.rss_kib
            print(f"    {run.wall_s:.2f} s, test acc {result['test_accuracy']}, "
                  f"peak RSS {run.rss_kib / 1024:.0f} MiB", file=sys.stderr, flush=True)
    for prog in live:
        done = [w for w in walls[id(prog)] if w is not None]
        if not done:
            continue
        res = [r for r in results[id(prog)] if r is not None]
        peaks = [r for r in rss[id(prog)] if r is not None]
        accuracies = [r["test_accuracy"] for r in res]
        extra = {
            "test_accuracy": statistics.median(accuracies),
            "train_accuracy": statistics.median(r["train_accuracy"] for r in res),
            "min_s": min(done),
            "max_s": max(done),
            "peak_rss_mib": max(peaks) / 1024,
            "wall_s_each": walls[id(prog)],
            "program_s_each": [r["program_s"] if r else None for r in results[id(prog)]],
            "peak_rss_mib_each": [r / 1024 if r is not None else None for r in rss[id(prog)]],
            "iterations": iters,
            "evaluations": res[-1]["epochs"],
            "command": prog.argv,
        }
        if len(set(accuracies)) > 1:
            extra["test_accuracy_each"] = [r["test_accuracy"] if r else None for r in results[id(prog)]]
        steps = [r["step_ms_median"] for r in res if r.get("step_ms_median") is not None]
        if steps:
            # the program's own median time per training step, the median over the runs
            extra["step_ms_median"] = statistics.median(steps)
        if res[0].get("network"):
            extra["network"] = res[0]["network"]
        if prog.env:
            extra["env"] = prog.env
        row = {"item": item, "impl": res[0]["impl"], "median_s": statistics.median(done), "runs": len(done),
               "extra": extra, "threads": prog.threads, "group": item}
        h.rows.append(row)
        print(json.dumps(row), flush=True)


def selected(only: list[str] | None, group: str) -> bool:
    return only is None or any(group.startswith(t) or t.startswith(group) for t in only)


# ---- the report --------------------------------------------------------------


def fmt_time(s: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if abs(s) >= scale or unit == "ns":
            v = s / scale
            return f"{v:.3g} {unit}" if v < 1000 else f"{v:.0f} {unit}"
    return str(s)


def fmt_extra(extra: dict) -> str:
    return ", ".join(extra_parts(extra)).replace("|", "\\|")


def extra_parts(extra: dict) -> list[str]:
    parts = []
    if "test_accuracy" in extra:
        parts.append(f"test acc {extra['test_accuracy']:.4f}")
    if "step_ms_median" in extra:
        parts.append(f"step {extra['step_ms_median']:.3g} ms")
    if "train_loss_last" in extra:
        parts.append(f"last loss {extra['train_loss_last']:.3f}")
    if "min_s" in extra and "max_s" in extra and extra["min_s"] != extra["max_s"]:
        parts.append(f"range {fmt_time(extra['min_s'])} – {fmt_time(extra['max_s'])}")
    if "peak_rss_mib" in extra:
        parts.append(f"peak RSS {extra['peak_rss_mib']:.0f} MiB")
    if "max_abs_diff_vs_backprop" in extra:
        parts.append(f"max diff from backprop {extra['max_abs_diff_vs_backprop']:.1e}")
    if "calls_per_sample" in extra:
        parts.append(f"{extra['calls_per_sample']} calls per sample")
    if "dtype" in extra:
        parts.append(str(extra["dtype"]))
    return parts


IMPL_ORDER = {"kobai": 0, "kobai-par": 1, "kobai-layers": 2, "numpy": 3, "numpy-f32": 4, "jax": 5, "candle": 6}


def impl_rank(impl: str) -> int:
    """kobai first, then the peers; "candle 0.11.1" ranks as "candle"."""
    return IMPL_ORDER.get(impl.split()[0] if impl else impl, 9)


def item_key(item: str) -> tuple:
    group = next((i for i, g in enumerate(GROUPS) if item == g or item.startswith(g + "_")), len(GROUPS))
    # sumsq: by n, then the gradient before the call
    if item.startswith("sumsq_"):
        kind, n = item[len("sumsq_"):].split("_n")
        return (group, int(n), kind != "grad", item)
    return (group, 0, False, item)


def row_key(row: dict) -> tuple:
    return (*item_key(row["item"]), impl_rank(row["impl"]), row["impl"], row["threads"] != "default")


def ratio(num: float | None, den: float | None) -> str:
    if not num or not den:
        return "—"
    r = num / den
    return f"{r:.2f}" if r >= 0.1 else f"{r:.2g}"


def table(rows: list[dict]) -> str:
    kobai = {}
    for r in rows:
        if r["impl"] == "kobai":
            kobai.setdefault(r["item"], r["median_s"])
    lines = ["| item | impl | threads | median | runs | kobai / this | extra |",
             "|---|---|---|---:|---:|---:|---|"]
    for r in sorted(rows, key=row_key):
        lines.append(f"| {r['item']} | {r['impl']} | {r['threads']} | {fmt_time(r['median_s'])} | {r['runs']} "
                     f"| {ratio(kobai.get(r['item']), r['median_s'])} | {fmt_extra(r.get('extra', {}))} |")
    return "\n".join(lines)


def derived(rows: list[dict]) -> str:
    """Ratios within a run: the numerical gradient's overhead over 2n calls of
    f, and the structured numerical gradient against each brute force."""
    out = []
    by = {(r["item"], r["impl"], r["threads"]): r["median_s"] for r in rows}
    sumsq = []
    for (item, impl, threads), grad in sorted(by.items(), key=lambda kv: (item_key(kv[0][0]), kv[0][1:])):
        if item.startswith("sumsq_grad_n"):
            n = int(item[len("sumsq_grad_n"):])
            call = by.get((f"sumsq_call_n{n}", impl, threads))
            probes = by.get((f"sumsq_probes_n{n}", impl, threads))
            stripped = f"{fmt_time(probes)} | {probes / (2 * n * call):.3f}" if probes and call else "— | —"
            if call:
                sumsq.append(f"| {n} | {impl} | {threads} | {fmt_time(grad)} | {fmt_time(call)} "
                             f"| {grad / (2 * n * call):.3f} | {stripped} |")
    if sumsq:
        out += ["Numerical gradient of f(x) = Σx² against 2n calls of f alone (the issue's target: ≤ 1.5). "
                "Stripped: the same 2n calls, each on its own probe copy of x written just before, "
                "with no other work (kobai-bench's `sumsq_probes`, n ≤ 16):", "",
                "| n | impl | threads | gradient | one call of f | gradient / (2n × call) | stripped "
                "| stripped / (2n × call) |",
                "|---:|---|---|---:|---:|---:|---:|---:|", *sumsq, ""]
    structured = by.get(("numgrad_structured", "kobai", "default"))
    brute = [(k, v) for k, v in by.items() if k[0] == "numgrad_bruteforce"]
    if structured and brute:
        out += ["kobai's structure-aware numerical gradient (`layered_numerical_gradient_par`, "
                f"{fmt_time(structured)}) against each brute force:", "",
                "| brute force | threads | median | brute / structured |", "|---|---|---:|---:|"]
        for (_, impl, threads), t in sorted(brute, key=lambda kv: (impl_rank(kv[0][1]), kv[0][2] != "default")):
            out.append(f"| {impl} | {threads} | {fmt_time(t)} | {t / structured:.0f}× |")
        out.append("")
    for spec in WHOLE_RUNS.values():
        out += whole_run_derived(rows, spec)
    return "\n".join(out)


def and_list(names: list[str]) -> str:
    """"a", "a and b", "a, b and c"."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def whole_run_derived(rows: list[dict], spec: WholeRunItem) -> list[str]:
    """A whole-run item: kobai (its default row) against each peer, by the
    medians and run by run (kobai's run i against the peer's run i, from the
    same round), and whether kobai meets its target against that peer
    (`spec.targets`: for train_run and conv_run at least twice as fast as
    each, ≤ 0.5; for deep_run ≤ 0.5 against NumPy, < 1 against JAX and
    candle)."""
    runs = [r for r in rows if r["item"] == spec.name]
    kobai = next((r for r in runs if r["impl"] == "kobai" and r["threads"] == "default"), None)
    peers = sorted((r for r in runs if not r["impl"].startswith("kobai")),
                   key=lambda r: (impl_rank(r["impl"]), r["threads"] != "default"))
    if not kobai or not peers:
        return []

    def target(r: dict) -> Target | None:
        return spec.targets.get(r["impl"].split()[0])

    by_target: dict[Target, list[str]] = {}
    for name, t in spec.targets.items():
        by_target.setdefault(t, []).append(name)
    goals = ", ".join(f"{t.words()} than {and_list(names)} (`kobai / peer` {t.text()})"
                      for t, names in by_target.items())
    k_each = kobai["extra"].get("wall_s_each", [])
    out = [f"Whole training run `{spec.name}` ({spec.what}): kobai (`threads` default, "
           f"{fmt_time(kobai['median_s'])}) against each peer; the target: kobai {goals}:", "",
           "| peer | threads | peer median | kobai / peer (medians) | kobai / peer, run by run: median | range "
           "| pairs | target | met |",
           "|---|---|---:|---:|---:|---|---:|---|---|"]
    fastest: dict[str, dict] = {}
    for r in peers:
        p_each = r["extra"].get("wall_s_each", [])
        pairs = [k / p for k, p in zip(k_each, p_each) if k is not None and p is not None]
        med = kobai["median_s"] / r["median_s"]
        per = (f"{statistics.median(pairs):.2f} | {min(pairs):.2f} – {max(pairs):.2f}" if pairs else "— | —")
        t = target(r)
        goal, met = (t.text(), "yes" if t.met(med) else "no") if t else ("—", "—")
        out.append(f"| {r['impl']} | {r['threads']} | {fmt_time(r['median_s'])} | {med:.2f} | {per} "
                   f"| {len(pairs)} | {goal} | {met} |")
        name = r["impl"].split()[0]
        if name not in fastest or r["median_s"] < fastest[name]["median_s"]:
            fastest[name] = r
    out.append("")
    verdicts = []
    every = True
    for r in fastest.values():
        med = kobai["median_s"] / r["median_s"]
        t = target(r)
        if t is None:
            continue
        every = every and t.met(med)
        verdicts.append(f"- against {r['impl']} at its fastest setting (threads {r['threads']}): "
                        f"kobai / peer = {med:.2f}, target {t.text()} ({t.words()}): "
                        f"{'meets' if t.met(med) else 'misses'} it")
    out += verdicts + [f"- kobai meets its target against every peer: {'yes' if every else 'no'}", ""]
    return out


# ---- the header ----------------------------------------------------------------


def command_output(argv: list[str], cwd: Path = ROOT, env: dict[str, str] | None = None) -> str | None:
    try:
        return subprocess.run(argv, capture_output=True, text=True, cwd=cwd, timeout=60,
                              env=env).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def simd_level() -> str:
    """The widest x86 vector extension the processor reports: what kobai's
    run-time dispatch and OpenBLAS's kernel choice can use."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                for level in ("avx512f", "avx2", "avx", "sse4_2"):
                    if level in flags:
                        return level.upper().replace("_", ".").replace("AVX512F", "AVX-512")
                return "none of SSE4.2/AVX"
    except OSError:
        pass
    return "unknown"


NUMPY_INFO = """
import json, numpy
info = {"numpy": numpy.__version__, "blas": None}
try:
    from threadpoolctl import threadpool_info
    blas = [p for p in threadpool_info() if p.get("user_api") == "blas"]
    info["blas"] = ", ".join(f"{p.get('internal_api')} {p.get('version')} ({p.get('architecture')}, "
                             f"{p.get('num_threads')} threads, {p.get('threading_layer')})" for p in blas) or None
except ImportError:
    pass
if info["blas"] is None:
    try:
        b = numpy.show_config(mode="dicts")["Build Dependencies"]["blas"]
        info["blas"] = f"{b.get('name')} {b.get('version')} (threadpoolctl not installed)"
    except Exception:
        info["blas"] = "unknown"
print(json.dumps(info))
"""


def header() -> dict:
    # In the benchmarks' own environment: the kernel OpenBLAS picks there.
    numpy_info = command_output([venv_python(), "-c", NUMPY_INFO], env=environment({}, False))
    info = json.loads(numpy_info) if numpy_info else {"numpy": "not installed", "blas": "—"}
    commit = command_output(["git", "rev-parse", "--short", "HEAD"])
    dirty = command_output(["git", "status", "--porcelain", "--untracked-files=no"])
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": platform.machine(),
        "simd": simd_level(),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "numpy": info["numpy"],
        "blas": info["blas"],
        "python": platform.python_version(),
        "rustc": command_output(["rustc", "--version"]),
        "commit": (commit or "unknown") + (" (uncommitted changes)" if dirty else ""),
        "load_average_start": os.getloadavg(),
    }


def header_text(hd: dict, quick: bool) -> str:
    load = lambda la: " ".join(f"{v:.2f}" for v in la)  # noqa: E731
    lines = [
        f"- date: {hd['date']}; kobai commit {hd['commit']}",
        f"- machine: {hd['machine']}, {hd['cpu']}, {hd['cores']} cores, widest SIMD {hd.get('simd', 'unknown')}"
        + (f" ({hd['cores_usable']} usable)" if hd["cores_usable"] not in (None, hd["cores"]) else ""),
        f"- NumPy {hd['numpy']}, BLAS: {hd['blas']}; Python {hd['python']}; {hd['rustc']}",
        f"- load average at start: {load(hd['load_average_start'])}"
        + (f", at end: {load(hd['load_average_end'])}" if "load_average_end" in hd else ""),
        "- threads: `default` = the library's own choice (OpenBLAS and rayon: one per core); `1` = "
        "OPENBLAS_NUM_THREADS=OMP_NUM_THREADS=MKL_NUM_THREADS=RAYON_NUM_THREADS=1. kobai's fused "
        "training step stays on one thread below 16M multiply-adds, so on this batch both kobai rows "
        "run the same code; `kobai-par` is the same brute force on rayon's threads; `kobai-layers` "
        "is the book's f64 layers.",
    ]
    if "run_iters" in hd:
        lines.append(f"- train_run, deep_run, conv_run: JAX {hd.get('jax') or 'not installed'}; its `1` row sets "
                     f"XLA_FLAGS=\"{JAX_ONE_THREAD['XLA_FLAGS']}\" "
                     "(XLA ignores the BLAS and rayon variables)"
                     + (f"; **{hd['run_iters']} iterations** instead of each item's own "
                        f"({', '.join(f'{n} {s.iters}' for n, s in WHOLE_RUNS.items())})"
                        if hd.get("run_iters") is not None else ""))
    if quick:
        lines.append("- **--quick run**: fewer repetitions, no brute-force numerical gradient; a smoke test, "
                     "not a measurement.")
    return "\n".join(lines)


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="fewer repetitions, skip the brute-force numerical gradient")
    p.add_argument("--only", help="comma-separated items (or prefixes) to run")
    p.add_argument("--repeat", type=int, default=int(os.environ.get("BENCH_EPOCH_REPEAT", "0")) or None,
                   help="processes per train_epoch and rounds of train_run, deep_run and conv_run (default 3 and 5, "
                        "--quick 1; "
                        "env BENCH_EPOCH_REPEAT)")
    p.add_argument("--run-iters", type=int, default=None,
                   help=f"the iterations of every whole-run item (default: each its own, train_run's and "
                        f"deep_run's {RUN_ITERS}, conv_run's {CONV_RUN_ITERS}; fewer only for a smoke test)")
    p.add_argument("--out", help="write OUT.md and OUT.json (default bench/results/latest, "
                                 "or bench/results/partial for --quick/--only)")
    p.add_argument("--kobai-bench", default=str(BENCH / "kobai-side" / "target" / "release" / "kobai-bench"))
    p.add_argument("--candle-bin", default=str(BENCH / "candle" / "target" / "release" / "candle-bench"))
    args = p.parse_args()

    only = [t.strip() for t in args.only.split(",") if t.strip()] if args.only else None
    if only:
        unknown = [t for t in only if not any(g.startswith(t) or t.startswith(g) for g in GROUPS)]
        if unknown:
            p.error(f"unknown item(s) {', '.join(unknown)}; items: {', '.join(GROUPS)}")
    h = Harness(quick=args.quick, epoch_repeat=args.repeat or (1 if args.quick else 3),
                notebook_repeat=2 if args.quick else 5, run_repeat=args.repeat or (1 if args.quick else 5),
                run_iters=args.run_iters)
    hd = header()
    if any(selected(only, item) for item in WHOLE_RUNS):
        hd["jax"] = command_output([venv_python(), "-c", "import jax; print(jax.__version__)"],
                                   env=environment({}, False))
        hd["run_iters"] = args.run_iters
    if hd["load_average_start"][0] > max(0.5, 0.1 * (hd["cores"] or 1)):
        h.note(f"the machine is busy (load average {hd['load_average_start'][0]:.2f}): the medians will be "
               "noisy, and multi-threaded BLAS on a busy machine can be many times slower than one thread")
    if not Path(DATA_DIR).exists():
        h.note(f"{DATA_DIR} is missing (apt-get install dataset-fashion-mnist): the training items will fail")

    all_peers = peers(args)
    reported_missing = set()
    for group in GROUPS:
        if not selected(only, group):
            continue
        if group == "numgrad_bruteforce" and args.quick:
            h.note("--quick: numgrad_bruteforce skipped")
            continue
        if group == "notebook":
            run_notebook(h)
            continue
        if group in WHOLE_RUNS:
            run_whole_run(h, args, WHOLE_RUNS[group])
            continue
        for peer in all_peers:
            if group not in peer.commands:
                continue
            if peer.missing:
                if peer.missing not in reported_missing:
                    h.note(peer.missing)
                    reported_missing.add(peer.missing)
                continue
            if group == "train_epoch":
                run_epoch(h, peer)
            else:
                run_peer(h, peer, group)
    hd["load_average_end"] = os.getloadavg()

    title = "# kobai side by side"
    md = "\n\n".join(part for part in [
        title,
        header_text(hd, args.quick),
        "`kobai / this` is the ratio of medians: below 1, kobai is faster than that row.",
        table(h.rows),
        derived(h.rows),
        ("Notes:\n\n" + "\n".join(f"- {n}" for n in h.notes)) if h.notes else "",
    ] if part) + "\n"
    print()
    print(md)

    full = not args.quick and only is None and args.run_iters is None
    prefix = Path(args.out) if args.out else RESULTS / ("latest" if full else "partial")
    raw = {"header": hd, "quick": args.quick, "only": only, "rows": h.rows, "notes": h.notes}
    write_atomic(prefix.with_suffix(".md"), md)
    write_atomic(prefix.with_suffix(".json"), json.dumps(raw, indent=1) + "\n")
    print(f"wrote {prefix.with_suffix('.md')} and {prefix.with_suffix('.json')}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
