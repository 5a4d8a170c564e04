#!/usr/bin/env bash
# Prints the bin folder of a Node.js MAJOR (e.g. 22) taken from the npm registry, cached in
# ~/.cache/holdfast/node/<version>. The registry's `node` package is a thin installer whose install
# script fetches the matching node-<os>-<arch> package; that package is fetched here directly
# (npm pack), so no install script runs and no other network than the registry is needed.
# Usage: PATH="$(bash scripts/node-from-registry.sh 22):$PATH" npm run test:unit
set -euo pipefail
major="${1:?usage: node-from-registry.sh MAJOR}"
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "node-from-registry: no npm node package for $(uname -m)" >&2; exit 1 ;;
esac
os="$(uname -s | tr '[:upper:]' '[:lower:]')"
pkg="node-${os}-${arch}"
# The newest release of that major, as the `node` package publishes it.
version="$(npm view "node@${major}" version --json | node -e '
  let s = "";
  process.stdin.on("data", (d) => (s += d)).on("end", () => {
    const parts = (v) => v.split(".").map(Number);
    const newer = (a, b) => { const [x, y] = [parts(a), parts(b)]; for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] > y[i]; return false; };
    console.log([].concat(JSON.parse(s)).reduce((best, v) => (newer(v, best) ? v : best)));
  });')"
dir="${HOLDFAST_CACHE:-$HOME/.cache/holdfast}/node/${version}"
if [ ! -x "$dir/bin/node" ]; then
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "${pkg}@${version}" >/dev/null)
  mkdir -p "$dir"
  tar -xzf "$tmp"/"${pkg}"-*.tgz -C "$dir" --strip-components=1 package/bin package/LICENSE
  rm -rf "$tmp"
fi
"$dir/bin/node" --version >/dev/null
echo "$dir/bin"
