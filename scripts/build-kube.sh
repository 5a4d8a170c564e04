#!/usr/bin/env bash
# Builds etcd, kube-apiserver and kube-controller-manager from the Go module proxy into a cache outside the repo, for the
# Kubernetes integration tests (envtest-style: no kubelet). Skips what is already built.
# Neither binary can be downloaded prebuilt here; both build from published module sources.
set -euo pipefail
K8S_VERSION="${HOLDFAST_K8S_VERSION:-v1.36.3}"
ETCD_VERSION="${HOLDFAST_ETCD_VERSION:-v3.6.5}"
CACHE="${HOLDFAST_CACHE:-$HOME/.cache/holdfast}/kube/${K8S_VERSION}"
mkdir -p "$CACHE"
export GOFLAGS="${GOFLAGS:-} -mod=mod"
export CGO_ENABLED=0

if [ ! -x "$CACHE/etcd" ]; then
  echo "kube: building etcd ${ETCD_VERSION}"
  work="$CACHE/etcd-src"; rm -rf "$work"; mkdir -p "$work"; cd "$work"
  go mod init holdfast.local/etcd-build >/dev/null 2>&1
  cat > tools.go <<'GO'
//go:build tools

package tools

import _ "go.etcd.io/etcd/server/v3/etcdmain"
GO
  go get "go.etcd.io/etcd/server/v3@${ETCD_VERSION}" >/dev/null
  go mod tidy >/dev/null
  go build -trimpath -o "$CACHE/etcd.tmp" go.etcd.io/etcd/server/v3
  mv "$CACHE/etcd.tmp" "$CACHE/etcd"
fi

if [ ! -x "$CACHE/kube-apiserver" ] || [ ! -x "$CACHE/kube-controller-manager" ]; then
  echo "kube: building kube-apiserver and kube-controller-manager ${K8S_VERSION} (cold: 15+ minutes on 2 cores)"
  work="$CACHE/apiserver-src"; rm -rf "$work"; mkdir -p "$work"; cd "$work"
  go mod init holdfast.local/apiserver-build >/dev/null 2>&1
  # k8s.io/kubernetes lists its staging modules as v0.0.0 with replaces that only work inside its own
  # module: derive a replace for every one of them from the release's go.mod.
  modfile=$(go mod download -json "k8s.io/kubernetes@${K8S_VERSION}" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  staging_version="v0.${K8S_VERSION#v1.}"
  grep -E '^\s*k8s\.io/[a-z0-9-]+ => \./staging/' "$modfile" | awk '{print $1}' | sort -u > staging.txt
  [ -s staging.txt ] || { echo "kube: no staging modules found in $modfile" >&2; exit 1; }
  while read -r m; do go mod edit "-replace=${m}=${m}@${staging_version}"; done < staging.txt
  go mod edit "-require=k8s.io/kubernetes@${K8S_VERSION}"
  cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver/app"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager/app"
)
GO
  go mod tidy >/dev/null
  ldflags="-X k8s.io/component-base/version.gitVersion=${K8S_VERSION} -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${K8S_VERSION#v1.}"
  ldflags="${ldflags%.*}"
  # One module graph, one build: the controller manager shares nearly every package with the API server.
  mkdir -p out
  go build -trimpath -ldflags "$ldflags" -o out/ k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager
  mv out/kube-apiserver out/kube-controller-manager "$CACHE/"
fi
echo "kube: $CACHE/etcd, kube-apiserver and kube-controller-manager ready"
