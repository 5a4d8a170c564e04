#!/usr/bin/env bash
# Installs the PostgreSQL and MariaDB servers and clients the dump tests run against, when missing.
# Idempotent; Debian packages only.
set -euo pipefail
need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v pg_dump >/dev/null || need+=(postgresql-client)
command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || need+=(mariadb-server)
command -v mariadb-dump >/dev/null || need+=(mariadb-client)
if [ ${#need[@]} -eq 0 ]; then
  echo "databases: PostgreSQL and MariaDB already installed"
  exit 0
fi
echo "databases: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Packages' own service start-up is not wanted: tests start throw-away servers themselves.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
trap 'rm -f /usr/sbin/policy-rc.d' EXIT
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "databases: installed"
