#!/usr/bin/env bash
# The forecast backtest on generated data: `zhijian gen` makes 8 days of 3 shops;
# for each shop, day D = 2026-11-18 is forecast from the reference day D-7 with D's
# actual total (`--backtest`), and the mean absolute error per hour is printed, in
# customers and in agents (capacity measured on the reference day).
#   bash benches/forecast.sh [SESSIONS_PER_DAY=2500]
source "$(dirname "$0")/lib.sh"
SESSIONS=${1:-2500}
DATA="$WORK/forecast-gen-$SESSIONS"
machine
[ -d "$DATA" ] || "$BIN" gen --shops 3 --days 8 --sessions-per-day "$SESSIONS" --seed 11 --out "$DATA" >&2
"$BIN" sql --input "$DATA" --format csv "SELECT DISTINCT shop FROM sessions ORDER BY shop" | tail -n +2 |
while IFS= read -r shop; do
  "$BIN" forecast --input "$DATA" --shop "$shop" --reference 2026-11-11 --backtest 2026-11-18 \
      --out "$WORK/forecast-out" --format csv 2>&1 >/dev/null | grep -E "backtest" | sed "s/^/  $shop: /"
done
