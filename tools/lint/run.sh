#!/usr/bin/env bash
# npm run lint: ESLint over the whole tree with the linter's own install (see package.json here).
# Installs it on first use, and again whenever its lockfile is newer than the install.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
installed="$here/node_modules/.package-lock.json"
if [ ! -f "$installed" ] || [ "$here/package-lock.json" -nt "$installed" ]; then
  npm ci --prefix "$here" --no-audit --no-fund --loglevel=error >&2
fi
cd "$here/../.."
exec "$here/node_modules/.bin/eslint" --max-warnings 0 --cache --cache-location node_modules/.cache/eslint/ "$@" .
