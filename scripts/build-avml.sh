#!/usr/bin/env bash
# Builds the pinned AVML (Microsoft's Linux memory acquisition tool, crate `avml` on crates.io) with cargo into a cache
# outside the repo, for the EC2 memory step (`--memory`) and its tests. Skips the build when the binary is there.
# No package registry carries a prebuilt AVML; the crate builds from its published source with its own Cargo.lock.
# Only the `convert` feature: the host uploads through presigned URLs with curl, so AVML's Azure and HTTP upload
# code (and the vendored OpenSSL it pulls in) are neither built nor shipped to the suspect host.
set -euo pipefail
AVML_VERSION="${HOLDFAST_AVML_VERSION:-0.21.0}"
CACHE="${HOLDFAST_CACHE:-$HOME/.cache/holdfast}/avml/${AVML_VERSION}"
if [ -x "$CACHE/avml" ]; then
  echo "avml: $CACHE/avml ready"
  exit 0
fi
# rustup installs cargo under ~/.cargo/bin, which a non-login shell (CI) may not have on PATH.
[ -x "$HOME/.cargo/bin/cargo" ] && PATH="$PATH:$HOME/.cargo/bin"
if ! command -v cargo >/dev/null 2>&1; then
  echo "avml: cargo is needed to build avml ${AVML_VERSION} (rustup, or Debian's cargo with Rust >= 1.89)" >&2
  exit 1
fi
mkdir -p "$CACHE"
start=$(date +%s)
echo "avml: building avml ${AVML_VERSION} from crates.io"
# Built under a temporary root and moved into place when complete: an interrupted build leaves no half binary.
rm -rf "$CACHE/build"
CARGO_TARGET_DIR="$CACHE/target" cargo install --locked --quiet --no-default-features --features convert \
  --root "$CACHE/build" --version "=${AVML_VERSION}" avml
mv "$CACHE/build/bin/avml" "$CACHE/avml.tmp"
mv "$CACHE/avml.tmp" "$CACHE/avml"
rm -rf "$CACHE/build" "$CACHE/target"
echo "avml: built $CACHE/avml in $(( $(date +%s) - start )) s"
