#!/usr/bin/env bash
# `zhijian watch` on a high-speed replay: `zhijian gen --replay` writes a generated
# day of about N messages into a folder at SPEED times real time while `watch`
# follows it; every alert line is stamped with the time it reached us, and its delay
# is measured from the moment the replay had flushed the message that raised it
# (the message whose time is the alert's `at`). Also times `watch --once` over the
# whole file (no pacing): the throughput ceiling.
#   bash benches/watch.sh [N=1000000] [SPEED=2000]
source "$(dirname "$0")/lib.sh"
N=${1:-1000000}
SPEED=${2:-2000}
machine
use_data "$N"

echo "== watch --once over the whole file (no pacing)"
RES="$WORK/watch-once.txt"; : > "$RES"
measure "$RES" watch-once "$BIN" watch --once --quiet --input "$DATA" --alerts "$WORK/once-alerts.jsonl"
rm -f "$WORK/once-alerts.jsonl"
measure "$RES" watch-once "$BIN" watch --once --quiet --input "$DATA" --alerts "$WORK/once-alerts.jsonl"
summarize "$RES" "$MSGS"
echo "  alerts: $(wc -l < "$WORK/once-alerts.jsonl") ($(grep -c '"waiting"' "$WORK/once-alerts.jsonl") waiting, $(grep -c '"answered"' "$WORK/once-alerts.jsonl") answered, $(grep -c '"critical"' "$WORK/once-alerts.jsonl") critical)"

echo "== replay at ${SPEED}x into a folder while watch follows it"
LIVE="$WORK/watch-live"
rm -rf "$LIVE" "$WORK/watch.fifo"
mkdir -p "$LIVE"
mkfifo "$WORK/watch.fifo"
python3 -u -c '
import sys, time
for line in sys.stdin:
    sys.stdout.write(f"{time.time_ns() // 1000} {line}")
' < "$WORK/watch.fifo" > "$WORK/watch-stamped.txt" &
STAMP=$!
/usr/bin/time -v "$BIN" watch --input "$LIVE" --quiet --interval 1s > "$WORK/watch.fifo" 2> "$WORK/watch-stderr.txt" &
WATCH=$!
sleep 1
"$BIN" gen --replay "$DATA" --speed "$SPEED" --out "$LIVE/" --replay-log "$WORK/replay-log.csv"
sleep 3
# $WATCH is /usr/bin/time; the watch is its child.
kill -TERM "$(pgrep -P "$WATCH")"
wait "$WATCH" || true
wait "$STAMP" || true
grep -E "watch stopped|Maximum resident|Elapsed|Percent of CPU" "$WORK/watch-stderr.txt" | sed 's/^/  /'
python3 - "$WORK/watch-stamped.txt" "$WORK/replay-log.csv" <<'PY'
import bisect, datetime, json, sys
flushed = [tuple(map(int, l.split(","))) for l in open(sys.argv[2])]
ts = [f[0] for f in flushed]
delays, arrivals, kinds = [], [], {}
for line in open(sys.argv[1]):
    stamp, text = line.split(" ", 1)
    alert = json.loads(text)
    at = datetime.datetime.fromisoformat(alert["at"])
    micros = int(at.timestamp()) * 1_000_000 + at.microsecond
    i = bisect.bisect_left(ts, micros)
    if i == len(ts):
        continue
    delays.append((int(stamp) - flushed[i][1]) / 1000)
    arrivals.append(int(stamp))
    kinds[alert["kind"]] = kinds.get(alert["kind"], 0) + 1
delays.sort()
q = lambda p: delays[min(len(delays) - 1, int(p * len(delays)))]
span = (max(arrivals) - min(arrivals)) / 1e6
print(f"  alerts: {len(delays)} {kinds} over {span:.1f} s: {len(delays) / span:.0f} alerts/s sustained")
print(f"  alert delay (replay flush -> alert line read): p50 {q(0.5):.1f} ms, p99 {q(0.99):.1f} ms, max {delays[-1]:.1f} ms")
PY
