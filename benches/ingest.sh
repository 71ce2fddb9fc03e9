#!/usr/bin/env bash
# Ingest benchmark (issue: foundation). Generates N messages with `zhijian gen`,
# then alternates, REPEATS times each:
#   zhijian   read + validate JSONL into Arrow, dedupe, sort, build the four views, one query
#   duckdb    CREATE TABLE AS SELECT * FROM read_ndjson(file)  (a plain load, no checks)
# and prints median wall time, messages per second, peak RSS and the ratio.
# `ZHIJIAN_TIMINGS=1 zhijian sql ...` prints zhijian's own stage split.
#
#   bash benches/ingest.sh [N_MESSAGES=1000000] [REPEATS=3]
source "$(dirname "$0")/lib.sh"
N=${1:-1000000}
REPEATS=${2:-3}
machine
use_data "$N"
RESULTS="$WORK/ingest-$N.txt"
rm -f "$RESULTS"
for _ in $(seq "$REPEATS"); do
  measure "$RESULTS" zhijian "$BIN" sql --input "$DATA" "SELECT count(*) FROM rounds"
  measure "$RESULTS" duckdb python3 -c "
import duckdb
con = duckdb.connect()
con.execute(\"CREATE TABLE m AS SELECT * FROM read_ndjson('$DATA')\")
print(con.execute('SELECT count(*) FROM m').fetchone())"
done
summarize "$RESULTS" "$MSGS" duckdb
