#!/usr/bin/env bash
# The project's test command: formatting, lints, every test, the browser test of
# the HTML reports (when Chromium is installed), then the rule pack's own inline
# tests and lint through the real binary.
set -euo pipefail
cd "$(dirname "$0")"
cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --all-targets --locked
if command -v chromium >/dev/null || command -v chromium-browser >/dev/null || command -v google-chrome >/dev/null; then
  cargo test --locked --test cli report::reports_render_in_a_real_browser -- --ignored --exact
else
  echo "SKIPPED: the browser test of the HTML reports needs Chromium (apt install chromium)"
fi
cargo run --quiet --locked -- rules lint
cargo run --quiet --locked -- rules test
