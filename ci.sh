#!/usr/bin/env bash
# The project's test command: formatting, lints, every test, then the rule pack's
# own inline tests and lint through the real binary.
set -euo pipefail
cd "$(dirname "$0")"
cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --all-targets --locked
cargo run --quiet --locked -- rules lint
cargo run --quiet --locked -- rules test
