#!/usr/bin/env bash
# fuzz.test.sh - make test's share of fuzzing: replays fuzz/regress/ and fuzzes every target a few seconds (fuzz/run.sh --brief).
# HEARTH_FUZZ_SECONDS sets the seconds per target (default 4). The targets are built by `make fuzz-build`.
exec bash "$(dirname "$0")/../fuzz/run.sh" --brief --time "${HEARTH_FUZZ_SECONDS:-4}"
