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

# ~20 messages per session: sessions per shop per day for N messages over 10 shops.
SESSIONS=$(( N / 10 / 20 ))
DATA="$WORK/gen-$N.jsonl"
if [ ! -f "$DATA" ]; then
  "$BIN" gen --shops 10 --days 1 --sessions-per-day "$SESSIONS" --seed 42 --out "$DATA"
fi
MSGS=$(wc -l < "$DATA")
echo "data: $DATA, $MSGS messages, $(du -h "$DATA" | cut -f1)"

measure() { # label, command...: prints "seconds max_rss_kb"
  local log="$WORK/time.log"
  /usr/bin/time -v "${@:2}" > /dev/null 2> "$log"
  local wall rss
  wall=$(grep "Elapsed (wall clock)" "$log" | awk '{print $NF}' | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(grep "Maximum resident set size" "$log" | awk '{print $NF}')
  echo "$1 $wall $rss" >> "$WORK/results.txt"
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
print(f"ratio zhijian/duckdb wall time: {med['zhijian'] / med['duckdb']:.2f}")
PY
