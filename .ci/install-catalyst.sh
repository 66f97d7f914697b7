#!/usr/bin/env bash
# Installs BigCommerce's own GraphQL Storefront client,
# @bigcommerce/catalyst-client 1.0.3, outside the repository, for the
# bigcommerce surface's client test (TOKEND_TEST_CATALYST_CLIENT). Idempotent:
# an existing install of that version is kept. Prints the directory.
set -euo pipefail
dir="${1:-${TOKEND_CATALYST_DIR:-$HOME/.cache/tokend/catalyst}}"
want=1.0.3
pkg="$dir/node_modules/@bigcommerce/catalyst-client/package.json"
if [ -f "$pkg" ] && grep -q "\"version\": \"$want\"" "$pkg"; then
  echo "$dir"
  exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "npm is not installed" >&2; exit 1; }
mkdir -p "$dir"
cd "$dir"
[ -f package.json ] || echo '{"name":"tokend-catalyst-test","private":true,"type":"module"}' > package.json
timeout 300 npm install --no-audit --no-fund --silent "@bigcommerce/catalyst-client@$want" >&2
echo "$dir"
