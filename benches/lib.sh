# Shared by the benchmark scripts: the release build, generated data, timing with
# /usr/bin/time -v, and the summary table. Source it; WORK is the scratch folder.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
WORK=${BENCH_DIR:-/tmp/zhijian-bench}
PEER=${PEER:-../shared/peer/duckdb_peer.py}
# ZHIJIAN_BIN: a binary built otherwise (then nothing is built here).
BIN=${ZHIJIAN_BIN:-target/release/zhijian}
mkdir -p "$WORK"
[ -n "${ZHIJIAN_BIN:-}" ] || cargo build --release --quiet --locked
python3 -c "import duckdb" 2>/dev/null || pip install --quiet duckdb

machine() {
  echo "machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem:/ {print $2}') GB RAM, $(uname -sr)"
}

# gen_data N: prints the path of a JSONL file of about N messages (10 shops, one day).
gen_data() {
  local n=$1 data="$WORK/gen-$1.jsonl"
  if [ ! -f "$data" ]; then
    # ~17 messages per session (what gen averages)
    "$BIN" gen --shops 10 --days 1 --sessions-per-day $(( n / 10 / 17 )) --seed 42 --out "$data" >&2
  fi
  echo "$data"
}

# use_data N: sets DATA (the file of about N messages) and MSGS (its lines), and says so.
use_data() {
  DATA=$(gen_data "$1")
  MSGS=$(wc -l < "$DATA")
  echo "N=$1: $DATA, $MSGS messages, $(du -h "$DATA" | cut -f1)"
}

# measure RESULTS LABEL COMMAND...: appends "LABEL wall_seconds max_rss_kb" to RESULTS.
measure() {
  local results=$1 label=$2 log="$WORK/time.log"
  shift 2
  if ! /usr/bin/time -v "$@" > /dev/null 2> "$log"; then
    cat "$log" >&2
    exit 1
  fi
  local wall rss
  wall=$(grep "Elapsed (wall clock)" "$log" | awk '{print $NF}' | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(grep "Maximum resident set size" "$log" | awk '{print $NF}')
  echo "$label $wall $rss" >> "$results"
}

# summarize RESULTS MESSAGES [BASELINE_LABEL]: median wall, peak RSS, messages/s per
# label, and each label's ratio to the baseline.
summarize() {
  python3 - "$@" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
n = int(sys.argv[2])
base = sys.argv[3] if len(sys.argv) > 3 else None
labels = list(dict.fromkeys(r[0] for r in rows))
med = {}
for label in labels:
    walls = [float(r[1]) for r in rows if r[0] == label]
    rss = max(int(r[2]) for r in rows if r[0] == label)
    med[label] = statistics.median(walls)
    print(f"  {label:24s} median {med[label]:7.2f} s  {n / med[label] / 1e6:5.2f} M msg/s  "
          f"peak RSS {rss / 1024:6.0f} MB  runs {walls}")
if base and base in med:
    for label in labels:
        if label != base:
            print(f"  ratio {label} / {base}: {med[label] / med[base]:.2f}")
PY
}
