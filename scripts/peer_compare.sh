#!/usr/bin/env bash
# Runs the peer libraries (heormodel, pyheor, base R) and lifecost side by side on the
# reference model (../shared/reference/peer-model.md), in one go on this machine, and prints
# one table of their figures with the ratios peer / lifecost and the agreement of each tool's
# mean costs with the exact reference values.
#
# Usage: scripts/peer_compare.sh [options]
#   --quick          skip pyheor's cohort PSA (~55 ms per draw, about a minute alone)
#   --skip TOOL      do not run TOOL: lifecost, heormodel, pyheor or base_r (repeatable)
#   --threads N      RAYON_NUM_THREADS for lifecost (default: all cores)
#   --rounds K       run every tool K times, round after round, and report each figure as the
#                    median of its K rounds, with the ratios of every round (default: 1)
#   --setup-only     set the peers up (venv, R, GNU time) and stop
#   --no-setup       use what is there; a peer whose set-up is missing is reported as skipped
#   --out DIR        where logs, result JSON files and the report go
#                    (default: target/peers/run-<date>-<time>)
#   -h, --help       this text
# Environment: PEERS_DIR (default: <repo>/../shared/peers), PEER_CACHE (default:
# <repo>/target/peers; holds the venv, untracked), PYTHON (default: python3).
#
# Parts run per tool (as the peer READMEs list, micro_psa excepted): cohort base case,
# cohort PSA of 1 000 draws, microsim of 100 000 children x 80 cycles x 2 arms. The cohort
# parts run in one process and the microsim in another, so the peak RSS shown is the
# microsim's own (GNU time, or the peer's own figure when GNU time is missing).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEERS_DIR="${PEERS_DIR:-$ROOT/../shared/peers}"
PEER_CACHE="${PEER_CACHE:-$ROOT/target/peers}"
PYTHON="${PYTHON:-python3}"
VENV="$PEER_CACHE/venv"
PIP_PACKAGES=(heormodel==0.7.4 pyheor==0.4.1 numpy pandas scipy joblib)

quick=0
setup=1
setup_only=0
threads=""
rounds=1
out=""
skip=" "
usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) quick=1 ;;
        --skip) shift; skip+="${1:?--skip needs a tool} " ;;
        --threads) shift; threads="${1:?--threads needs a number}" ;;
        --rounds) shift; rounds="${1:?--rounds needs a number}" ;;
        --setup-only) setup_only=1 ;;
        --no-setup) setup=0 ;;
        --out) shift; out="${1:?--out needs a folder}" ;;
        -h|--help) usage; exit 0 ;;
        *) echo "peer_compare: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
skipped() { [[ "$skip" == *" $1 "* ]]; }
if ! [[ "$rounds" =~ ^[1-9][0-9]*$ ]]; then
    echo "peer_compare: --rounds needs a whole number of at least 1, not $rounds" >&2
    exit 2
fi

log() { printf '[peer_compare %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if [ ! -f "$PEERS_DIR/common.py" ]; then
    echo "peer_compare: no peer scripts in $PEERS_DIR (set PEERS_DIR)" >&2
    exit 1
fi
PEERS_DIR="$(cd "$PEERS_DIR" && pwd)"
mkdir -p "$PEER_CACHE"
notes=()

# ---------------------------------------------------------------- set-up (idempotent)
apt_ok() { command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; }
apt_updated=0
apt_install() {
    apt_ok || return 1
    local aptlog="$PEER_CACHE/apt.log"
    if [ "$apt_updated" = 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update >>"$aptlog" 2>&1 || { tail -n 5 "$aptlog" >&2; return 1; }
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >>"$aptlog" 2>&1 ||
        { tail -n 5 "$aptlog" >&2; return 1; }
}

setup_time() {
    if [ -x /usr/bin/time ] && /usr/bin/time -v true 2>/dev/null; then return 0; fi
    log "installing GNU time (apt package 'time')"
    apt_install time || notes+=("GNU time missing and not installable: peak RSS from the tools' own figures")
}

setup_venv() {
    local stamp="$VENV/.peer_compare_stamp" want="${PIP_PACKAGES[*]}"
    if [ -x "$VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] &&
        "$VENV/bin/python" -c 'import heormodel, pyheor, numpy, pandas, scipy, joblib' 2>/dev/null; then
        return 0
    fi
    log "creating the peers' venv in $VENV: pip install $want"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV" >&2 || return 1
    "$VENV/bin/pip" install -q --disable-pip-version-check "${PIP_PACKAGES[@]}" >&2 || return 1
    printf '%s' "$want" >"$stamp"
}

setup_r() {
    command -v Rscript >/dev/null 2>&1 && return 0
    if ! apt_ok; then
        notes+=("base R skipped: Rscript missing and apt-get is not usable here (needs root)")
        return 1
    fi
    log "installing R (apt package r-base-core; base R only, CRAN is not needed)"
    if ! apt_install r-base-core || ! command -v Rscript >/dev/null 2>&1; then
        notes+=("base R skipped: apt-get install r-base-core failed")
        return 1
    fi
}

setup_seconds=0
if [ "$setup" = 1 ]; then
    t0=$(date +%s.%N)
    setup_time
    skipped heormodel && skipped pyheor || setup_venv || notes+=("venv set-up failed: Python peers skipped")
    skipped base_r || setup_r || true
    setup_seconds=$("$PYTHON" -c "print(round($(date +%s.%N) - $t0, 1))")
    log "set-up took ${setup_seconds} s"
fi
[ "$setup_only" = 1 ] && exit 0

# ---------------------------------------------------------------- runs
out="${out:-$PEER_CACHE/run-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
export PEER_OUT="$out" PYTHONDONTWRITEBYTECODE=1
have_gnu_time=0
[ -x /usr/bin/time ] && /usr/bin/time -v true 2>/dev/null && have_gnu_time=1

# run NAME CMD...: stdout to NAME.log, stderr to NAME.err, GNU time's report to NAME.time, in
# the round's folder
rdir="$out"
run() {
    local name="$1"; shift
    log "running $name: $*"
    local rc=0
    if [ "$have_gnu_time" = 1 ]; then
        /usr/bin/time -v -o "$rdir/$name.time" "$@" >"$rdir/$name.log" 2>"$rdir/$name.err" || rc=$?
    else
        "$@" >"$rdir/$name.log" 2>"$rdir/$name.err" || rc=$?
    fi
    echo "$rc" >"$rdir/$name.rc"
    if [ "$rc" != 0 ]; then
        log "$name failed (exit $rc); last lines of its stderr:"
        tail -n 5 "$rdir/$name.err" >&2 || true
    fi
}

bin=""
if ! skipped lifecost; then
    log "building lifecost's example peer_model (release)"
    if (cd "$ROOT" && cargo build --release --example peer_model --quiet) >&2; then
        bin="$ROOT/target/release/examples/peer_model"
        if [ -n "$threads" ]; then export RAYON_NUM_THREADS="$threads"; fi
    else
        notes+=("lifecost: cargo build --release --example peer_model failed; peers only")
    fi
fi
if [ "$quick" = 1 ] && ! skipped pyheor; then notes+=("--quick: pyheor's cohort PSA not run"); fi
py="$VENV/bin/python"
for round in $(seq 1 "$rounds"); do
    if [ "$rounds" -gt 1 ]; then
        rdir="$out/round-$round"
        mkdir -p "$rdir"
        export PEER_OUT="$rdir"
        log "round $round of $rounds"
    fi
    if [ -n "$bin" ]; then
        run lifecost_cohort "$bin" --json cohort cohort_psa
        run lifecost_micro "$bin" --json micro
    fi

    if ! skipped heormodel; then
        if [ -x "$py" ]; then
            run heormodel_cohort "$py" "$PEERS_DIR/bench_heormodel.py" cohort cohort_psa
            run heormodel_micro "$py" "$PEERS_DIR/bench_heormodel.py" micro
        else
            if [ "$round" = 1 ]; then notes+=("heormodel skipped: no venv at $VENV"); fi
        fi
    fi
    if ! skipped pyheor; then
        if [ -x "$py" ]; then
            if [ "$quick" = 1 ]; then
                run pyheor_cohort "$py" "$PEERS_DIR/bench_pyheor.py" cohort
            else
                run pyheor_cohort "$py" "$PEERS_DIR/bench_pyheor.py" cohort cohort_psa
            fi
            run pyheor_micro "$py" "$PEERS_DIR/bench_pyheor.py" micro
        else
            if [ "$round" = 1 ]; then notes+=("pyheor skipped: no venv at $VENV"); fi
        fi
    fi
    if ! skipped base_r; then
        if command -v Rscript >/dev/null 2>&1; then
            run base_r_cohort Rscript "$PEERS_DIR/bench_base_r.R" cohort cohort_psa
            run base_r_micro Rscript "$PEERS_DIR/bench_base_r.R" micro
        else
            if [ "$round" = 1 ]; then notes+=("base R skipped: Rscript not found"); fi
        fi
    fi
done

# ---------------------------------------------------------------- report
notes_file="$out/notes.txt"
: >"$notes_file"
for n in "${notes[@]+"${notes[@]}"}"; do echo "$n" >>"$notes_file"; done
"$PYTHON" "$ROOT/scripts/peer_compare.py" --out "$out" --setup-seconds "$setup_seconds" \
    --notes "$notes_file" --reference "$PEERS_DIR/../reference/peer-model.md" --rounds "$rounds" |
    tee "$out/report.txt"
log "logs, result files and report.txt in $out"
