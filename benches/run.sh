#!/usr/bin/env bash
# The nightly job against the DuckDB peer (issues: nightly run, performance).
# For each N (default 1M, 3M and 10M messages) it generates one JSONL file with
# `zhijian gen` and alternates, REPEATS times:
#   zhijian   zhijian run --input FILE --rules rules/ --out DIR   (default pack, every output)
#   peer      python3 ../shared/peer/duckdb_peer.py, same file, same pack
# then, once per N, times the Parquet path:
#   ingest    zhijian ingest FILE → Parquet dataset
#   parquet   zhijian run --input DATASET (the whole run from Parquet)
#   check     zhijian check banned-offplatform --input DATASET --date D (one phrases rule, one day)
#   sql       zhijian sql, a per-agent aggregate over `rounds`, from the dataset and from the JSONL
#   check     the same check from the JSONL (the memory of a trainer's command on raw input)
# and prints median wall time, peak RSS, messages/s and the ratio zhijian / peer.
#
#   bash benches/run.sh [REPEATS=3] [N...]          e.g. bash benches/run.sh 3 1000000 10000000
#
# Needs python3 with duckdb (installed when missing), /usr/bin/time; the peer script
# is found at $PEER (default ../shared/peer/duckdb_peer.py).
source "$(dirname "$0")/lib.sh"
REPEATS=${1:-3}
shift || true
SIZES=${*:-1000000 3000000 10000000}
[ -f "$PEER" ] || { echo "no peer script at $PEER: set PEER=/path/to/duckdb_peer.py" >&2; exit 2; }
machine
for N in $SIZES; do
  use_data "$N"
  RESULTS="$WORK/run-$N.txt"
  rm -f "$RESULTS"
  for _ in $(seq "$REPEATS"); do
    measure "$RESULTS" zhijian "$BIN" run --quiet --max-reject-ratio 1 --input "$DATA" --rules rules --out "$WORK/out-zhijian"
    measure "$RESULTS" peer python3 "$PEER" --input "$DATA" --rules rules --out "$WORK/out-peer"
  done
  rm -rf "$WORK/dataset-$N"
  measure "$RESULTS" ingest "$BIN" ingest --input "$DATA" --out "$WORK/dataset-$N"
  measure "$RESULTS" parquet-run "$BIN" run --quiet --input "$WORK/dataset-$N" --rules rules --out "$WORK/out-parquet"
  measure "$RESULTS" check-1-rule-1-day "$BIN" check banned-offplatform --input "$WORK/dataset-$N" --date 2026-11-11 --limit 5
  agents="SELECT agent_id, count(*) AS rounds, avg(latency_s) AS latency FROM rounds GROUP BY agent_id"
  measure "$RESULTS" sql-dataset "$BIN" sql --input "$WORK/dataset-$N" "$agents"
  measure "$RESULTS" sql-jsonl "$BIN" sql --input "$DATA" "$agents"
  measure "$RESULTS" check-jsonl "$BIN" check banned-offplatform --input "$DATA" --limit 5
  summarize "$RESULTS" "$MSGS" peer
done
