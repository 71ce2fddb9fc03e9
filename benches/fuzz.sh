#!/usr/bin/env bash
# Runs the hostile-input properties (every reader and the rule-pack loader fed random
# bytes, JSON, CSV shapes, Parquet files, cut gzip streams and TOML) and the random
# kill -9 test for as long as asked, with fresh random cases each round, and reports
# the cases run and the failures found (their logs are kept in $FUZZ_DIR).
#
#   bash benches/fuzz.sh [MINUTES] [CASES_PER_PROPERTY_AND_ROUND] [KILL_SEEDS_PER_ROUND]
set -uo pipefail
cd "$(dirname "$0")/.."
minutes="${1:-10}"
cases="${2:-500}"
kill_seeds="${3:-10}"
fuzz_dir="${FUZZ_DIR:-/tmp/zhijian-fuzz}"
mkdir -p "$fuzz_dir"
features=(--locked --features failpoints)
# The same build as ./ci.sh, once: the rounds run the built test binaries, so
# editing the sources meanwhile cannot break a round.
built=$(cargo test "${features[@]}" --lib --test cli --no-run 2>&1) || { echo "$built"; exit 1; }
lib_tests=$(echo "$built" | sed -n 's/.*Executable unittests src\/lib.rs (\(.*\))/\1/p')
cli_tests=$(echo "$built" | sed -n 's/.*Executable tests\/cli\/main.rs (\(.*\))/\1/p')
[ -n "$lib_tests" ] && [ -n "$cli_tests" ] || { echo "fuzz: test binaries not found"; exit 1; }
properties=$("$lib_tests" --list hostile_tests --skip limits 2>/dev/null | grep -c ': test$')
deadline=$(( $(date +%s) + minutes * 60 ))
rounds=0; failures=0; kill_runs=0
while [ "$(date +%s)" -lt "$deadline" ]; do
  rounds=$((rounds + 1))
  log="$fuzz_dir/round-$rounds.log"
  if ! PROPTEST_CASES="$cases" "$lib_tests" hostile_tests --skip limits >"$log" 2>&1; then
    failures=$((failures + 1)); echo "round $rounds: a property failed, see $log"
  fi
  if ! ZHIJIAN_KILL_SEEDS="$kill_seeds" ZHIJIAN_KILL_SEED_BASE=$((rounds * 1000)) \
      "$cli_tests" faults::kill_9_at_random_moments_of_a_spilling_run >>"$log" 2>&1; then
    failures=$((failures + 1)); echo "round $rounds: the random-kill test failed, see $log"
  fi
  kill_runs=$((kill_runs + kill_seeds))
  [ "$failures" -eq 0 ] && rm -f "$log"
done
echo "fuzz: $minutes min, $rounds rounds, $((rounds * properties * cases)) property cases ($properties properties x $cases x $rounds), $kill_runs kill -9 seeds, $failures failing rounds"
[ "$failures" -eq 0 ]
