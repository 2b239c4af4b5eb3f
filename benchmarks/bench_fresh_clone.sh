#!/usr/bin/env bash
# Fresh clone to first page: clone this repository into a temporary folder, run `make run` there
# (virtualenv, install, migrate, 300-account demo, web + worker + beat) and time until the login
# page answers; then Ctrl-C it and check that nothing it started is left.
#
#   bash benchmarks/bench_fresh_clone.sh            # PORT=8199 by default
#
# pip's download cache (~/.cache/pip) is used as on any developer machine: the first install on a
# machine that never downloaded these wheels also pays for the downloads.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
port="${PORT:-8199}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
git clone -q "$repo" "$work/keystone"
cd "$work/keystone"

started=$(date +%s.%N)
env -u DATABASE_URL -u REDIS_URL setsid make run PORT="$port" >"$work/run.log" 2>&1 &
leader=$!
answered=""
for _ in $(seq 1 600); do
  if curl -fs -o /dev/null "http://127.0.0.1:$port/login/"; then
    answered=$(date +%s.%N)
    break
  fi
  if ! kill -0 "$leader" 2>/dev/null; then break; fi
  sleep 0.5
done
if [ -z "$answered" ]; then
  tail -40 "$work/run.log"
  echo "make run never answered on :$port"
  kill -INT -- "-$leader" 2>/dev/null || true
  exit 1
fi
grep -E "^(  users|seeded|computed)" "$work/run.log" || true
awk -v a="$started" -v b="$answered" 'BEGIN { printf "fresh clone -> first page: %.1f s\n", b - a }'

kill -INT -- "-$leader"
for _ in $(seq 1 60); do
  pgrep -s "$leader" >/dev/null || break
  sleep 0.5
done
if pgrep -s "$leader" >/dev/null; then
  echo "left behind after Ctrl-C:"; pgrep -a -s "$leader"; exit 1
fi
echo "Ctrl-C: every process of make run has stopped"
