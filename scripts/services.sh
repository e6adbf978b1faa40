#!/usr/bin/env bash
# Start the PostgreSQL and Redis the live tests use, when they are not running.
# This machine kind starts both before a session; a CI run or a restarted
# machine may find them stopped. Idempotent; prints what it did.
set -u

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

if command -v pg_isready >/dev/null 2>&1 && ! pg_up; then
  echo "services: starting PostgreSQL"
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main start || true
  fi
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi
if command -v redis-server >/dev/null 2>&1 && ! redis_up; then
  echo "services: starting Redis"
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  for _ in $(seq 1 30); do redis_up && break; sleep 1; done
fi
# The HTML report's browser test drives a headless Chromium (tests/report/test_report_browser.py).
command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium) || true
# The TypeScript fix test type-checks the rewritten fixture (tests/typescript/test_fix_express_prisma.py).
command -v tsc >/dev/null || npm install -g typescript@5 >/dev/null 2>&1 || true
pg_up && echo "services: PostgreSQL is up" || echo "services: PostgreSQL is NOT available"
redis_up && echo "services: Redis is up" || echo "services: Redis is NOT available"
# The default database the tests use.
if pg_up && ! psql -h 127.0.0.1 -U postgres -d test -c 'select 1' >/dev/null 2>&1; then
  createdb -h 127.0.0.1 -U postgres test 2>/dev/null || true
fi
exit 0
