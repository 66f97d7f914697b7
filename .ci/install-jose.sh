#!/usr/bin/env bash
# Installs panva's jose (npm), a JWT verifier the key-rotation test drives,
# into DIR (outside the repository). Usage: install-jose.sh DIR.
set -euo pipefail
dir=${1:?usage: install-jose.sh DIR}
version=5.9.6
if [ -f "$dir/node_modules/jose/package.json" ] && grep -q "\"version\": \"$version\"" "$dir/node_modules/jose/package.json"; then
  exit 0
fi
mkdir -p "$dir"
cd "$dir"
[ -f package.json ] || printf '{"name":"tokend-test-jose","private":true}\n' > package.json
timeout 300 npm install --no-audit --no-fund --silent "jose@$version"
