#!/usr/bin/env bash
# Weak and strong scaling of frost over MPI ranks: writes the decks, runs each at every rank
# count, checks that the results do not depend on the rank count, and writes perf/scaling.md
# with tables and PNG plots (perf/plot_scaling.py).
set -euo pipefail

usage() {
  cat <<'EOF'
usage: perf/scaling.sh [options] FROST [RANKS] [MPIRUN] [OUTDIR]

  FROST    frost binary, or a wrapper that runs it (tools/bundle.sh writes DEST/frost)
  RANKS    rank counts, one string (default "1 2")
  MPIRUN   launcher command, split on spaces (default "mpirun"; e.g. "mpirun --oversubscribe")
  OUTDIR   decks, frost outputs, logs and scaling.tsv (default /tmp/frost-scaling)

options:
  --set KEY=VALUE    passed to frost as --set for every series of KEY's module (asi.*,
                     wavefield.*); repeatable. Sizes for GPUs, e.g. --set asi.sample.chains=4096
                     --set wavefield.nodes=100000. A key the deck sweeps (asi.seed, wavefield.seed,
                     asi.temperatures, wavefield.geometry.windings) replaces the sweep: avoid.
  --series LIST      series to run (default "asi_weak asi_strong_chains asi_strong_temps
                     wave_weak wave_strong wave_split")
  --runs-per-rank N  weak scaling: runs per rank (default 1)
  --strong-runs N    strong scaling: runs shared among the ranks (default 8)
  --repeat N         run each point N times and keep the fastest (default 1)
  --report FILE      markdown report; PNGs go next to it (default perf/scaling.md)
  --note TEXT        a sentence for the report (e.g. what else loaded the machine)
  -h, --help         this text

Series (each run of a sweep is independent; frost hands runs to ranks by a work queue):
  asi_weak           square L=50 uniform worm sampler, one sweep point per run, RANKS x N runs
  asi_strong_chains  the same runs, a fixed total of chains in --strong-runs runs
  asi_strong_temps   thermal vertex model, a fixed temperature sweep of --strong-runs runs
  wave_weak          wave field at fixed N, one independent run per rank (N is not split)
  wave_strong        wave field at fixed N, a fixed sweep of --strong-runs windings
  wave_split         one wave-field run whose N targets are split over the ranks
                     (wavefield.split: targets, direct f32 kernel; for GPUs e.g.
                     --set wavefield.nodes=1000000 --set wavefield.cycles=3)
EOF
}

die() {
  echo "scaling.sh: $*" >&2
  exit 2
}

sets=()
series="asi_weak asi_strong_chains asi_strong_temps wave_weak wave_strong wave_split"
per_rank=1
strong_runs=8
repeat=1
note=""
here=$(cd "$(dirname "$0")" && pwd)
report=$here/scaling.md
positional=()
while (($#)); do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --set) (($# >= 2)) || die "--set needs KEY=VALUE"; sets+=("$2"); shift ;;
    --series) (($# >= 2)) || die "--series needs a list"; series=$2; shift ;;
    --runs-per-rank) (($# >= 2)) || die "--runs-per-rank needs N"; per_rank=$2; shift ;;
    --strong-runs) (($# >= 2)) || die "--strong-runs needs N"; strong_runs=$2; shift ;;
    --repeat) (($# >= 2)) || die "--repeat needs N"; repeat=$2; shift ;;
    --report) (($# >= 2)) || die "--report needs a file"; report=$2; shift ;;
    --note) (($# >= 2)) || die "--note needs a text"; note=$2; shift ;;
    -*) usage >&2; die "unknown option '$1'" ;;
    *) positional+=("$1") ;;
  esac
  shift
done
((${#positional[@]} >= 1 && ${#positional[@]} <= 4)) || { usage >&2; exit 2; }
frost=${positional[0]}
ranks=${positional[1]:-1 2}
mpirun=${positional[2]:-mpirun}
out=${positional[3]:-/tmp/frost-scaling}
for n in $per_rank $strong_runs $repeat $ranks; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || die "'$n' is not a positive integer"
done
[[ -x $frost && -f $frost ]] || die "FROST '$frost' is not an executable file"
frost=$(cd "$(dirname "$frost")" && pwd)/$(basename "$frost")
# A rebuild in the middle would compare two different programs: refuse to go on if it happens.
stamp=$(stat -Lc '%s %Y' "$frost")
read -ra launcher <<<"$mpirun"
command -v "${launcher[0]}" >/dev/null || die "launcher '${launcher[0]}' not found"
# Open MPI refuses to start as root without these; containers and CI runners are often root.
if ((EUID == 0)); then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
mkdir -p "$out/decks" "$out/runs" "$(dirname "$report")"
out=$(cd "$out" && pwd)

seq_list() { # 1, 2, ..., N as a YAML flow list
  local s="" i
  for ((i = 1; i <= $1; i++)); do s+="${s:+, }$i"; done
  echo "[$s]"
}

# Run sizes keep one run near a second on one CPU core; --set enlarges them for GPUs.
asi_deck() { # ENSEMBLE SWEEPS SWEEP_YAML
  cat <<EOF
asi:
  task: sample
  lattice: {kind: square, L: 50, boundary: open}
  sample: {ensemble: $1, move: short_loop, chains: 4, sweeps: $2, burn_in: 100}
  thermal: {model: vertex}
  output: {svg: false, states_every: 0}
  checkpoint: {every_seconds: 0}
sweep:
$3
EOF
}
wave_deck() { # SWEEP_YAML
  cat <<EOF
wavefield:
  nodes: 3000
  cycles: 30
  output: {every: 10, snapshots: false, picture: false}
  checkpoint: {every_seconds: 0}
sweep:
$1
EOF
}
# One run of N nodes carried by all ranks together, each evaluating the field at its slice of the
# targets; the results are bitwise those of one rank.
wave_split_deck() {
  cat <<EOF
wavefield:
  nodes: 6000
  cycles: 5
  split: targets
  field: {method: direct, precision: f32}
  output: {every: 10, snapshots: false, picture: false}
  checkpoint: {every_seconds: 0}
EOF
}
# write_deck SERIES RANKS: prints the deck's path. Weak decks grow with the rank count, so
# every rank gets the same work; strong decks are the same at every rank count.
write_deck() {
  local s=$1 n=$2 weak strong f
  weak=$(seq_list $((n * per_rank)))
  strong=$(seq_list "$strong_runs")
  [[ $s == *_weak ]] && f=$out/decks/$s-np$n.yaml || f=$out/decks/$s.yaml
  case $s in
    asi_weak) asi_deck uniform 800 "  asi.seed: $weak" ;;
    asi_strong_chains) asi_deck uniform 800 "  asi.seed: $strong" ;;
    asi_strong_temps) asi_deck thermal 300 "  asi.temperatures: {logspace: [0.4, 5, $strong_runs]}" ;;
    wave_weak) wave_deck "  wavefield.seed: $weak" ;;
    wave_strong) wave_deck "  wavefield.geometry.windings: {linspace: [4.0, 16.0, $strong_runs]}" ;;
    wave_split) wave_split_deck ;;
    *) die "unknown series '$s' (see --help)" ;;
  esac >"$f"
  echo "$f"
}
kind_of() { [[ $1 == *_weak ]] && echo weak || echo strong; }
module_of() { [[ $1 == asi_* ]] && echo asi || echo wavefield; }

# check_and_time DIR REFDIR: prints "runs busiest_rank_s mean_run_s cycle_s identical" (cycle_s:
# the mean of the runs' seconds_per_cycle, wave field only, else nan). Results are
# compared like tests/cli (rank and timing scalars removed) over the run ids both outputs have,
# so a weak series is checked against the runs of the one-rank output. Per-run seconds are
# frost.h5's run_seconds (needs h5dump; summary.json has rates, not run times), else nan.
check_and_time() {
  python3 - "$1" "${2:-}" <<'PY'
import json, math, shutil, subprocess, sys
def load(d):
    runs = json.load(open(d + "/summary.json"))["runs"]
    out = {}
    for r in runs:
        assert r["status"] == "ok", "run %d failed: %s" % (r["id"], r.get("error"))
        out[r["id"]] = {"params": r["params"], "results": {k: v for k, v in r["results"].items()
                        if "per_second" not in k and "seconds" not in k}}
    return runs, out
runs, mine = load(sys.argv[1])
cycles = [r["results"]["seconds_per_cycle"] for r in runs if "seconds_per_cycle" in r["results"]]
same = "n/a"
if sys.argv[2]:
    _, ref = load(sys.argv[2])
    common = sorted(set(mine) & set(ref))
    key = lambda runs, i: json.dumps(runs[i], sort_keys=True)
    differ = [i for i in common if key(mine, i) != key(ref, i)]
    same = "yes" if common and not differ else "no"
    for i in differ[:1]:
        a, b = ref[i]["results"], mine[i]["results"]
        keys = sorted(k for k in set(a) | set(b) if a.get(k, "-") != b.get(k, "-"))
        print("run %d differs from %s in %s" % (i, sys.argv[2], ", ".join(keys[:8])),
              file=sys.stderr)
busy, secs = {}, []
if shutil.which("h5dump"):
    for r in runs:
        where = ["-a", "/runs/%d/run_seconds" % r["id"], sys.argv[1] + "/frost.h5"]
        txt = subprocess.run(["h5dump"] + where, capture_output=True, text=True).stdout
        sec = float(txt.split("(0):")[1].split()[0]) if "(0):" in txt else math.nan
        busy[r["rank"]] = busy.get(r["rank"], 0.0) + sec
        secs.append(sec)
print(len(runs), "%.3f" % max(busy.values()) if busy else "nan",
      "%.3f" % (sum(secs) / len(secs)) if secs else "nan",
      "%.4g" % (sum(cycles) / len(cycles)) if cycles else "nan", same)
PY
}

tsv=$out/scaling.tsv
columns=(series kind ranks runs wall_s busiest_rank_s mean_run_s cycle_s identical speedup
  efficiency busy_efficiency cycle_efficiency command)
(IFS=$'\t'; echo "${columns[*]}") >"$tsv"
declare -A last_deck
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for s in $series; do
  mod=$(module_of "$s")
  extra=()
  for kv in "${sets[@]}"; do [[ $kv == "$mod".* ]] && extra+=(--set "$kv"); done
  ref=""
  for n in $ranks; do
    deck=$(write_deck "$s" "$n")
    last_deck[$s]=$deck
    best=""
    for ((rep = 1; rep <= repeat; rep++)); do
      dir=$out/runs/$s-np$n-r$rep
      cmd=("${launcher[@]}" -np "$n" "$frost" "$deck" "${extra[@]}" --output "$dir" --overwrite
        --quiet)
      echo "[scaling] $s np=$n rep=$rep: ${cmd[*]}" >&2
      t0=$(date +%s.%N)
      if ! "${cmd[@]}" >"$dir.log" 2>&1; then
        cat "$dir.log" >&2
        echo "scaling.sh: frost failed: ${cmd[*]}" >&2
        exit 1
      fi
      t1=$(date +%s.%N)
      [[ $(stat -Lc '%s %Y' "$frost") == "$stamp" ]] || die "$frost changed during the runs"
      wall=$(python3 -c "print('%.3f' % ($t1 - $t0))")
      check=$(check_and_time "$dir" "$ref")
      read -r nruns busiest mean cycle same <<<"$check"
      [[ -z $ref ]] && same=ref
      echo "[scaling]   wall ${wall}s, busiest rank ${busiest}s, mean run ${mean}s," \
        "s/cycle ${cycle}, identical: $same" >&2
      # Keep the fastest repetition; a "no" from any repetition is kept.
      if [[ -z $best ]] || python3 -c "import sys; sys.exit(not $wall < ${best%% *})"; then
        best="$wall $busiest $mean $cycle"
        best_cmd="${cmd[*]}"
      fi
      [[ $same == no ]] && bad=no
    done
    same=${bad:-$same}
    unset bad
    [[ -z $ref ]] && ref=$out/runs/$s-np$n-r1
    read -r wall busiest mean cycle <<<"$best"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\t\t\t\t%s\n' "$s" "$(kind_of "$s")" "$n" \
      "$nruns" "$wall" "$busiest" "$mean" "$cycle" "$same" "$best_cmd" >>"$tsv"
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# Provenance for the report.
export SC_TSV=$tsv SC_REPORT=$report SC_NOTE=$note SC_LOAD="before: $load_before; after: $load_after"
SC_COMMIT=$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)
if git -C "$here" status --porcelain --untracked-files=no 2>/dev/null | grep -q .; then
  SC_COMMIT+=" (with uncommitted changes)"
fi
SC_MACHINE="$(uname -n), cores $(nproc --all), CPU $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
if gpus=$(nvidia-smi -L 2>/dev/null | sed 's/ (UUID.*//' | paste -sd';' -) && [[ -n $gpus ]]; then
  SC_MACHINE+=", GPUs: $gpus"
fi
SC_SCRIPT="perf/scaling.sh $(printf '%q ' "${positional[@]}")"
for kv in "${sets[@]}"; do SC_SCRIPT+="--set $(printf '%q' "$kv") "; done
SC_SCRIPT+="--series '$series' --runs-per-rank $per_rank --strong-runs $strong_runs"
SC_SCRIPT+=" --repeat $repeat"
SC_DECKS=""
for s in $series; do SC_DECKS+="$s=${last_deck[$s]} "; done
SC_RUNS=$out/runs
export SC_COMMIT SC_MACHINE SC_SCRIPT SC_DECKS SC_RUNS

# Speed-up and efficiency against the first rank count of each series (normally 1 rank):
# weak: efficiency t1/tN, speed-up N t1/tN (work grows with N); strong: speed-up t1/tN,
# efficiency t1/(N tN). Busy efficiency is the same with the busiest rank's run seconds in
# place of wall time: it leaves out mpirun and device start-up and output writing.
python3 - <<'PY'
import csv, datetime, json, os
E = os.environ
rows = list(csv.DictReader(open(E["SC_TSV"]), delimiter="\t"))
base = {}
for r in rows:
    b = base.setdefault(r["series"], r)
    n = int(r["ranks"]) / int(b["ranks"])
    weak = r["kind"] == "weak"
    ratio = float(b["wall_s"]) / float(r["wall_s"])
    busy = float(b["busiest_rank_s"]) / float(r["busiest_rank_s"])
    r["speedup"] = "%.3f" % (ratio * n if weak else ratio)
    r["efficiency"] = "%.3f" % (ratio if weak else ratio / n)
    r["busy_efficiency"] = "%.3f" % (busy if weak else busy / n)
    # Only a split run's cycle shrinks with the ranks; a sweep's runs each keep their cycle.
    cyc = float(b["cycle_s"]) / float(r["cycle_s"]) / n if r["series"] == "wave_split" else None
    r["cycle_efficiency"] = "%.3f" % cyc if cyc is not None else "nan"
with open(E["SC_TSV"], "w") as f:
    w = csv.DictWriter(f, fieldnames=list(rows[0]), delimiter="\t", lineterminator="\n")
    w.writeheader()
    w.writerows(rows)

first = rows[0]
prov = json.load(open("%s/%s-np%s-r1/summary.json" % (E["SC_RUNS"], first["series"],
                                                      first["ranks"])))["frost"]
decks = dict(kv.split("=", 1) for kv in E["SC_DECKS"].split())
md = ["# Scaling over MPI ranks", "", """\
Made by `perf/scaling.sh`. Every run of a sweep is independent and frost hands runs to ranks by a
work queue. Weak scaling grows the sweep with the ranks (efficiency t1/tN, speed-up N·t1/tN);
strong scaling shares a fixed sweep (speed-up t1/tN, efficiency t1/(N·tN)). *Wall s*: the whole
`mpirun`, start-up and output included. *Busiest rank s*: the largest sum over one rank of frost's
per-run `run_seconds` (frost.h5); *busy efficiency*: the efficiency with it in place of wall
seconds (no start-up, no output writing). *Mean run s*: the mean per-run seconds, which grow when
ranks compete for cores or memory bandwidth. *s/cycle*: the runs' mean seconds per wave-field
cycle (field, gather, detection); *cycle efficiency* (wave_split): t1/(N·tN) by it. *Identical*:
summary.json results without rank and timing scalars equal those of the first rank count
(*ref*), run by run (weak: the runs both have). wave_weak and wave_strong are sweeps of
independent runs at fixed N; wave_split is one run whose N targets are split over the ranks
(`wavefield.split: targets`), every cycle gathered on all ranks.""", "",
      "- date: " + datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
      "- machine: " + " ".join(E["SC_MACHINE"].split()),
      "- frost: %s, %s (%s), %s" % (prov["commit"], prov["backend"], prov["devices"], prov["mpi"]),
      "- commit: " + E["SC_COMMIT"],
      "- load average (1, 5, 15 min) " + E["SC_LOAD"],
      "- script: `%s`" % E["SC_SCRIPT"]] + (["- note: " + E["SC_NOTE"]] if E["SC_NOTE"] else []) + [
      "",
      "![efficiency](scaling_efficiency.png) ![wall time](scaling_time.png)"]
for name in dict.fromkeys(r["series"] for r in rows):
    mine = [r for r in rows if r["series"] == name]
    md += ["", "## %s (%s scaling)" % (name, mine[0]["kind"]), "",
           "| ranks | runs | wall s | speed-up | efficiency | busiest rank s | busy efficiency "
           "| mean run s | s/cycle | cycle efficiency | identical |",
           "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|"]
    cell = lambda v: "—" if v == "nan" else v
    md += ["| %s |" % " | ".join(cell(r[k]) for k in (
        "ranks", "runs", "wall_s", "speedup", "efficiency", "busiest_rank_s", "busy_efficiency",
        "mean_run_s", "cycle_s", "cycle_efficiency", "identical")) for r in mine]
    md += ["", "Deck (at the largest rank count) and commands (the fastest repetition's):", "",
           "```yaml", open(decks[name]).read().rstrip(), "```", "", "```sh"]
    md += [r["command"] for r in mine] + ["```"]
open(E["SC_REPORT"], "w").write("\n".join(md) + "\n")
PY
python3 "$here/plot_scaling.py" "$tsv" "$(dirname "$report")"
echo "[scaling] wrote $report, $(dirname "$report")/scaling_{efficiency,time}.png and $tsv" >&2
