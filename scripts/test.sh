#!/usr/bin/env bash
# Install what the tests need and run the whole suite.
# Usage: bash scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."

# The tests drive real nginx, HAProxy and Redis processes on 127.0.0.1.
missing=()
command -v nginx >/dev/null 2>&1 || missing+=(nginx)
[ -e /usr/lib/nginx/modules/ngx_stream_module.so ] || missing+=(libnginx-mod-stream)
command -v haproxy >/dev/null 2>&1 || missing+=(haproxy)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

python3 -m pip install -q -e '.[test]'

# The SDK sends loopback calls through any configured proxy (it ignores
# NO_PROXY), so the tests must run without one.
unset HTTP_PROXY http_proxy HTTPS_PROXY https_proxy ALL_PROXY all_proxy
# Nothing may leave loopback: never ask the ECS metadata service for credentials.
export ALIBABA_CLOUD_ECS_METADATA_DISABLED=true

python3 -m ruff check .
# STYLE.md promises mypy --strict; keep it true on every run.
python3 -m mypy slbsync
python3 -m pytest -q "$@"
