#!/usr/bin/env bash
# Load test: gunicorn + PostgreSQL seeded with 10 000 accounts, 50 concurrent users for 2 minutes
# (marketers, reps, directors and an ingesting integration), then p50/p95/p99 per page, requests
# per second, and a check that nothing failed and every p95 is under 500 ms.
#
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/abm_bench bash benchmarks/load/run.sh
#
# Seed first: DATABASE_URL=... .venv/bin/python manage.py seed_demo --accounts 10000 --flush
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${DATABASE_URL:?point DATABASE_URL at a PostgreSQL database seeded with seed_demo}"
USERS=${USERS:-50}
DURATION=${DURATION:-2m}
WORKERS=${WORKERS:-4}
PORT=${PORT:-8077}
OUT=var/load
mkdir -p "$OUT"
BIN=.venv/bin
test -x "$BIN/locust" || "$BIN/pip" install --quiet "locust>=2.32"

# Production settings (no ABM_DEV) over plain HTTP on loopback (no TLS to terminate here).
export SECRET_KEY=load-test-only ALLOWED_HOSTS=127.0.0.1 SECURE_SSL_REDIRECT=0 \
  SESSION_COOKIE_SECURE=0 CSRF_COOKIE_SECURE=0 SECURE_HSTS_SECONDS=0 AXES_ENABLED=0
unset ABM_DEV DEBUG

# A token for the ingestion user and some domains to send activities for.
LOAD_API_TOKEN=$("$BIN/python" manage.py shell -v 0 -c "
from abm.models import User
from abm.tokens import token_create
print(token_create(user=User.objects.get(username='marketer'), name='load test', days=7)[1])")
LOAD_DOMAINS=$("$BIN/python" manage.py shell -v 0 -c "
from accounts.models import Account
print(','.join(Account.objects.order_by('?').values_list('domain', flat=True)[:200]))")
export LOAD_API_TOKEN LOAD_DOMAINS
# Ingested batches request a metrics recompute: with a broker it is queued (debounced) instead of
# running inside the web request as in the embedded mode. WORKER=1 also runs a worker for it.
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/13}

"$BIN/python" manage.py collectstatic --noinput -v0
"$BIN/gunicorn" abm.wsgi:application --bind "127.0.0.1:$PORT" \
  --workers "$WORKERS" --access-logfile /dev/null --error-logfile "$OUT/gunicorn.log" &
GUNICORN=$!
WORKER_PID=""
if [ "${WORKER:-0}" = 1 ]; then
  "$BIN/celery" -A abm worker --concurrency=1 --loglevel=WARNING >"$OUT/worker.log" 2>&1 &
  WORKER_PID=$!
fi
trap 'kill $GUNICORN $WORKER_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 30); do curl -fs "http://127.0.0.1:$PORT/health/" >/dev/null && break; sleep 1; done

# Users arrive 2 a second, so their sign-ins (a deliberate ~0.3 s password hash each) spread out.
"$BIN/locust" -f benchmarks/load/locustfile.py --headless -u "$USERS" -r "${SPAWN_RATE:-2}" -t "$DURATION" \
  --host "http://127.0.0.1:$PORT" --csv "$OUT/load" --only-summary >"$OUT/locust.out" 2>"$OUT/locust.log" || true
"$BIN/python" benchmarks/load/report.py "$OUT/load_stats.csv"
