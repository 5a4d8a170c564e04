#!/usr/bin/env bash
# Makes sure every real server the tests use can start on this machine: PostgreSQL and MariaDB
# (Debian packages), Debian's chromium (the report test's headless browser), etcd and kube-apiserver (built from the Go module proxy, cached), the pinned
# AVML for the memory tests (built from crates.io with cargo, cached). moto is
# installed by the test set-up itself on first use. Run by `npm test`; quick when all is in place.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bash "$here/install-databases.sh"
bash "$here/install-chromium.sh"
if ! command -v go >/dev/null 2>&1; then
  echo "prepare: Go is needed to build kube-apiserver and etcd for the Kubernetes tests (Debian: apt-get install golang, or the Go toolchain)" >&2
  exit 1
fi
bash "$here/../../scripts/build-kube.sh"
# AVML for test/integration/ec2-memory.test.ts (cold: about 1.5 min on 2 cores with the crates fetched; timed).
start=$(date +%s)
bash "$here/../../scripts/build-avml.sh"
echo "prepare: avml ready in $(( $(date +%s) - start )) s"
