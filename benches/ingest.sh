#!/usr/bin/env bash
# Ingest benchmark (issue: foundation). Generates N messages with `zhijian gen`,
# then alternates, REPEATS times each:
#   A  zhijian: read + validate JSONL into Arrow, dedupe, sort, build all four views
#      (messages, rounds, sessions, agent_sessions), count rounds
#   B  DuckDB: CREATE TABLE AS SELECT * FROM read_ndjson(file)  (a plain load, no checks)
# and prints median wall time, messages per second and peak RSS of each, and the ratio.
#
#   bash benches/ingest.sh [N_MESSAGES=1000000] [REPEATS=3]
#
# Needs: a release build (built here if missing), python3 with duckdb (`pip install duckdb`).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
REPEATS=${2:-3}
WORK=${BENCH_DIR:-/tmp/zhijian-bench}
mkdir -p "$WORK"
cargo build --release --quiet
BIN=target/release/zhijian
python3 -c "import duckdb" 2>/dev/null || pip install --quiet duckdb

# ~17 messages per session (what gen averages): sessions per shop for N messages over 10 shops.
SESSIONS=$(( N / 10 / 17 ))
DATA="$WORK/gen-$N.jsonl"
if [ ! -f "$DATA" ]; then
  "$BIN" gen --shops 10 --days 1 --sessions-per-day "$SESSIONS" --seed 42 --out "$DATA"
fi
MSGS=$(wc -l < "$DATA")
echo "data: $DATA, $MSGS messages, $(du -h "$DATA" | cut -f1)"

measure() { # label, command...: appends "label seconds max_rss_kb [read_s views_s]"
  local log="$WORK/time.log"
  ZHIJIAN_TIMINGS=1 /usr/bin/time -v "${@:2}" > /dev/null 2> "$log"
  local wall rss stages
  wall=$(grep "Elapsed (wall clock)" "$log" | awk '{print $NF}' | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(grep "Maximum resident set size" "$log" | awk '{print $NF}')
  # zhijian's own stage split: "read+validate X s, views Y s"
  stages=$(grep -o "read+validate [0-9.]* s, views [0-9.]* s" "$log" | awk '{print $2, $5}' || true)
  echo "$1 $wall $rss $stages" >> "$WORK/results.txt"
}

rm -f "$WORK/results.txt"
for _ in $(seq "$REPEATS"); do
  measure zhijian "$BIN" sql --input "$DATA" "SELECT count(*) FROM rounds"
  measure duckdb python3 -c "
import duckdb, sys
con = duckdb.connect()
con.execute(\"CREATE TABLE m AS SELECT * FROM read_ndjson('$DATA')\")
print(con.execute('SELECT count(*) FROM m').fetchone())"
done

python3 - "$WORK/results.txt" "$MSGS" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
n = int(sys.argv[2])
med = {}
for label in ("zhijian", "duckdb"):
    walls = [float(r[1]) for r in rows if r[0] == label]
    rss = max(int(r[2]) for r in rows if r[0] == label)
    med[label] = statistics.median(walls)
    print(f"{label:8s} median {med[label]:6.2f} s  {n / med[label] / 1e6:5.2f} M msg/s  peak RSS {rss / 1024:7.0f} MB  runs {walls}")
reads = [float(r[3]) for r in rows if r[0] == "zhijian" and len(r) > 4]
views = [float(r[4]) for r in rows if r[0] == "zhijian" and len(r) > 4]
if reads:
    read = statistics.median(reads)
    print(f"zhijian stages: read+validate into Arrow median {read:.2f} s ({n / read / 1e6:.2f} M msg/s), "
          f"dedupe+sort+all four views median {statistics.median(views):.2f} s")
    print(f"ratio zhijian validated ingest / duckdb plain load: {read / med['duckdb']:.2f}")
print(f"ratio zhijian ingest+views / duckdb plain load (wall): {med['zhijian'] / med['duckdb']:.2f}")
PY
