#!/usr/bin/env bash
# The project's test command: formatting, lints, every test (with the failpoints
# the fault-injection tests need), the browser test of the HTML reports (when
# Chromium is installed), then the rule pack's own inline tests and lint through
# the binary the tests built (one feature set, built once).
set -euo pipefail
cd "$(dirname "$0")"
features=(--features failpoints)
cargo fmt --all -- --check
cargo clippy --all-targets --locked "${features[@]}" -- -D warnings
cargo test --all-targets --locked "${features[@]}"
if command -v chromium >/dev/null || command -v chromium-browser >/dev/null || command -v google-chrome >/dev/null; then
  cargo test --locked "${features[@]}" --test cli report::reports_render_in_a_real_browser -- --ignored --exact
else
  echo "SKIPPED: the browser test of the HTML reports needs Chromium (apt install chromium)"
fi
zhijian="${CARGO_TARGET_DIR:-target}/debug/zhijian"
"$zhijian" rules lint
"$zhijian" rules test
