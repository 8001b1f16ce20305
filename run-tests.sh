#!/usr/bin/env bash
# run-tests.sh: install what the tests need (./setup.sh --no-start), then run the whole suite.
# Extra arguments go to pytest, e.g. ./run-tests.sh -k images -x
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"
./setup.sh --no-start
.venv/bin/ruff check .
exec .venv/bin/python -m pytest -q "$@"
