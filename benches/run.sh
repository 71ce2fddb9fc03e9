#!/usr/bin/env bash
# The nightly job against the DuckDB peer (issue: nightly run). Generates N messages with
# `zhijian gen` (one JSONL file), then alternates, REPEATS times each:
#   A  zhijian run  --input FILE --rules rules/ --out DIR      (default pack, every output)
#   B  python3 ../shared/peer/duckdb_peer.py, same file, same pack, same machine
# and prints per job the median wall time, peak RSS (/usr/bin/time -v), messages per second,
# and the ratio zhijian / peer. The peer script is looked up in $PEER, then ../shared/peer/.
#
#   bash benches/run.sh [N_MESSAGES=1000000] [REPEATS=3]
#
# Needs: python3 with duckdb (`pip install duckdb`), /usr/bin/time; builds the release binary.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
REPEATS=${2:-3}
WORK=${BENCH_DIR:-/tmp/zhijian-bench}
PEER=${PEER:-../shared/peer/duckdb_peer.py}
[ -f "$PEER" ] || { echo "no peer script at $PEER: set PEER=/path/to/duckdb_peer.py" >&2; exit 2; }
mkdir -p "$WORK"
cargo build --release --quiet
BIN=target/release/zhijian
python3 -c "import duckdb" 2>/dev/null || pip install --quiet duckdb

# ~17 messages per session (what gen averages) over 10 shops and one day.
SESSIONS=$(( N / 10 / 17 ))
DATA="$WORK/gen-$N.jsonl"
if [ ! -f "$DATA" ]; then
  "$BIN" gen --shops 10 --days 1 --sessions-per-day "$SESSIONS" --seed 42 --out "$DATA"
fi
MSGS=$(wc -l < "$DATA")
echo "data: $DATA, $MSGS messages, $(du -h "$DATA" | cut -f1); $(nproc) cores"

RESULTS="$WORK/run-results.txt"
rm -f "$RESULTS"
measure() { # label, command...: appends "label wall_seconds max_rss_kb"
  local log="$WORK/time.log"
  if ! /usr/bin/time -v "${@:2}" > /dev/null 2> "$log"; then
    cat "$log" >&2
    exit 1
  fi
  local wall rss
  wall=$(grep "Elapsed (wall clock)" "$log" | awk '{print $NF}' | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(grep "Maximum resident set size" "$log" | awk '{print $NF}')
  echo "$1 $wall $rss" >> "$RESULTS"
}

for _ in $(seq "$REPEATS"); do
  measure zhijian "$BIN" run --quiet --max-reject-ratio 1 --input "$DATA" --rules rules --out "$WORK/out-zhijian"
  measure peer python3 "$PEER" --input "$DATA" --rules rules --out "$WORK/out-peer"
done

python3 - "$RESULTS" "$MSGS" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
n = int(sys.argv[2])
med = {}
for label in ("zhijian", "peer"):
    walls = [float(r[1]) for r in rows if r[0] == label]
    rss = max(int(r[2]) for r in rows if r[0] == label)
    med[label] = statistics.median(walls)
    print(f"{label:8s} median {med[label]:6.2f} s  {n / med[label] / 1e6:5.2f} M msg/s  "
          f"peak RSS {rss / 1024:6.0f} MB  runs {walls}")
print(f"ratio zhijian / peer (wall): {med['zhijian'] / med['peer']:.2f}")
PY
