#!/usr/bin/env bash
# Reruns kobai's fuzz targets, one after the other, single process each.
#
#   fuzz/run.sh [SECONDS] [TARGET...]      # default: 600 s each; idx npz formula architecture network_npz
#
# Builds with cargo-fuzz (release, debug assertions and overflow checks on,
# AddressSanitizer on). For each target it first replays the inputs kept under
# fuzz/regressions/<target>/ (what fuzzing once crashed on) and
# fuzz/seeds/<target>/ (inputs too large to fuzz from), then fuzzes for SECONDS
# from its corpus under fuzz/corpus/<target>/ (new interesting inputs are added
# there), single process, with a 2 GiB memory limit and a 10 s limit per input.
# A crash, a timeout or an out-of-memory leaves its input in
# fuzz/artifacts/<target>/ and the run reports FAILED. Logs: fuzz/logs/.
#
# Needs `cargo install cargo-fuzz` and a C++ compiler; on a stable toolchain,
# RUSTC_BOOTSTRAP=1 (set below unless already set) lets cargo-fuzz use -Z flags.
set -uo pipefail

secs=${1:-600}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(idx npz formula architecture network_npz)
fi

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
export RUSTC_BOOTSTRAP=${RUSTC_BOOTSTRAP:-1}
flags=(-O -a)

cargo fuzz build "${flags[@]}" || exit 1
mkdir -p fuzz/logs

status=0
for target in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$target" "fuzz/artifacts/$target"
    limits=(-rss_limit_mb=2048 -timeout=10)
    extra=()
    case "$target" in
    # Mutating 300 KB archives runs at a tenth of the speed; the 784-50-10
    # archive is replayed from fuzz/seeds/npz/ instead.
    npz | network_npz) extra=(-max_len=65536) ;;
    esac

    kept=$(find "fuzz/regressions/$target" "fuzz/seeds/$target" -type f 2>/dev/null | sort)
    if [ -n "$kept" ]; then
        # shellcheck disable=SC2086 # one path a line, no spaces in them
        if nice cargo fuzz run "${flags[@]}" "$target" $kept -- "${limits[@]}" \
            >"fuzz/logs/$target-replay.log" 2>&1; then
            echo "   $target: replayed $(echo "$kept" | wc -l) kept input(s): ok"
        else
            echo "   $target: replaying kept inputs FAILED (fuzz/logs/$target-replay.log)"
            status=1
        fi
    fi

    log="fuzz/logs/$target.log"
    echo "== $target: ${secs}s (log: $log)"
    start=$(date +%s)
    nice cargo fuzz run "${flags[@]}" "$target" "fuzz/corpus/$target" -- \
        -max_total_time="$secs" "${limits[@]}" "${extra[@]}" \
        -print_final_stats=1 >"$log" 2>&1
    rc=$?
    elapsed=$(($(date +%s) - start))
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    peak=$(grep -o 'stat::peak_rss_mb: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    inputs=$(find "fuzz/corpus/$target" -type f | wc -l)
    if [ "$rc" -eq 0 ]; then
        result=ok
    else
        result="FAILED (exit $rc)"
        status=1
        grep -E '^==[0-9]+==|^(SUMMARY|ERROR)|panicked at|out-of-memory|timeout' "$log" | head -5
        find "fuzz/artifacts/$target" -type f -newer "$log" -o -type f -mmin -1 | head -5
    fi
    echo "   $target: $result; ${elapsed}s; ${runs:-?} executions (${speed:-?}/s); peak RSS ${peak:-?} MB; corpus $inputs inputs"
done
exit $status
