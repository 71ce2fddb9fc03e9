#!/usr/bin/env bash
# The monthly KPI over big days (issue: one pipeline, bounded memory). Publishes one
# day of about N generated messages with `zhijian run`, then links that day's folder
# as each of DAYS days of November (hard links: no extra disk, but a month's rows to
# read: DAYS copies of every round and inquiry), writes a metrics.csv for every agent
# and an orders file with no orders, and times `zhijian kpi` with the shipped formula,
# REPEATS times.
#
#   bash benches/kpi.sh [N=10000000] [DAYS=30] [REPEATS=3]
source "$(dirname "$0")/lib.sh"
N=${1:-10000000}
DAYS=${2:-30}
REPEATS=${3:-3}
machine
use_data "$N"
OUT="$WORK/kpi-month-$N"
rm -rf "$OUT"
"$BIN" run --quiet --max-reject-ratio 1 --input "$DATA" --rules rules --out "$OUT" > /dev/null
for d in $(seq 1 "$DAYS"); do
  date=$(printf '2026-11-%02d' "$d")
  [ "$date" = 2026-11-11 ] || cp -al "$OUT/date=2026-11-11" "$OUT/date=$date"
done
python3 - "$OUT/date=2026-11-11/scorecards.parquet" "$WORK/kpi-metrics.csv" <<'PY'
import duckdb, sys
agents = duckdb.sql(f"SELECT DISTINCT agent_id FROM '{sys.argv[1]}' ORDER BY 1").fetchall()
with open(sys.argv[2], "w") as out:
    out.write("agent_id,month,good_reviews,reviews,complaints\n")
    for i, (agent,) in enumerate(agents):
        out.write(f'"{agent}",2026-11,{95 + i % 5},100,{i % 3}\n')
PY
printf 'shop,order_id,customer_id,paid_at,amount\n' > "$WORK/kpi-orders.csv"
missing=()
[ "$DAYS" -ge 30 ] || missing=(--allow-missing-days)
RESULTS="$WORK/kpi-$N-$DAYS.txt"
rm -f "$RESULTS"
for _ in $(seq "$REPEATS"); do
  measure "$RESULTS" kpi "$BIN" kpi --month 2026-11 --out "$OUT" --orders "$WORK/kpi-orders.csv" \
    --metrics "$WORK/kpi-metrics.csv" "${missing[@]}"
done
echo "kpi over $DAYS days of $(wc -l < "$DATA") messages each:"
summarize "$RESULTS" "$(( $(wc -l < "$DATA") * DAYS ))"
