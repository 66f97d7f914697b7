#!/usr/bin/env bash
# Builds the zitadel/oidc v3 example OpenID provider from the Go module
# proxy, for the federation tests. Usage: build-oidc-op.sh OUTPUT.
set -euo pipefail
out=${1:?usage: build-oidc-op.sh OUTPUT}
version=v3.52.0
gobin=$(mktemp -d "${TMPDIR:-/tmp}/oidc-op.XXXXXX")
trap 'rm -rf "$gobin"' EXIT
for n in 1 2 3; do
  GOBIN=$gobin timeout 900 go install "github.com/zitadel/oidc/v3/example/server@$version" && break
  echo "attempt $n failed" >&2
  [ "$n" = 3 ] && exit 1
done
mkdir -p "$(dirname "$out")"
mv "$gobin/server" "$out"
