#!/usr/bin/env bash
# Installs panva's openid-client (npm), an OAuth 2.0 client library with a
# token-exchange grant, outside the repository, for the token exchange
# test (TOKEND_TEST_OPENID_CLIENT). Idempotent. Usage: install-openid-client.sh DIR.
set -euo pipefail
dir=${1:?usage: install-openid-client.sh DIR}
version=6.9.1
if [ -f "$dir/node_modules/openid-client/package.json" ] && grep -q "\"version\": \"$version\"" "$dir/node_modules/openid-client/package.json"; then
  exit 0
fi
mkdir -p "$dir"
cd "$dir"
[ -f package.json ] || printf '{"name":"tokend-test-openid-client","private":true,"type":"module"}\n' > package.json
timeout 300 npm install --no-audit --no-fund --silent "openid-client@$version"
