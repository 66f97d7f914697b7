#!/usr/bin/env bash
# Builds a HashiCorp Vault server binary from the Go module proxy, for the
# tests that need a real Vault dev server. Usage: build-vault.sh OUTPUT.
#
# vault v1.21.4 points its sdk and api modules at local folders the proxy
# does not serve; the published sdk differs from them in three function
# signatures, patched below (identity deduplication activation and the
# transit key-restore name; nothing KV v2, AppRole or token auth uses). Two
# dependencies are replaced because their original versions are not served.
# Cold: 10-25 minutes and about 8 GB of caches; warm: a few minutes.
set -euo pipefail
out=${1:?usage: build-vault.sh OUTPUT}
version=v1.21.4
work=$(mktemp -d "${TMPDIR:-/tmp}/vault-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
export GOFLAGS=-mod=mod
# A proxy request has been seen to hang; bound each step and retry it.
try() { for n in 1 2 3; do timeout 900 "$@" && return 0; echo "attempt $n failed: $*" >&2; done; return 1; }
try go mod download "github.com/hashicorp/vault@$version"
src=$(go list -m -f '{{.Dir}}' "github.com/hashicorp/vault@$version")
cp -r "$src" src && chmod -R u+w src
sed -i 's/^func (i \*IdentityStore) activateDeduplication(ctx context.Context, req \*logical.Request) error {/func (i *IdentityStore) activateDeduplication(ctx context.Context, req *logical.Request, _ string) error {/' src/vault/identity_store_util.go
sed -i 's/b.idStoreBackend.ActivationFunc(ctx, nil)/b.idStoreBackend.ActivationFunc(ctx, nil, "")/' src/vault/logical_system_activation_flags.go
sed -i 's/\trestoredKeyName, err := b.lm.RestorePolicy(ctx, req.Storage, keyName, backupB64, force)/\trestoredKeyName := keyName\n\terr := b.lm.RestorePolicy(ctx, req.Storage, keyName, backupB64, force)/' src/builtin/logical/transit/path_restore.go
cat > go.mod <<MOD
module tokend.test/vaultbuild

go 1.25.3

require github.com/hashicorp/vault $version

replace github.com/hashicorp/vault => ./src

replace github.com/99designs/keyring => github.com/Jeffail/keyring v1.2.3

replace github.com/ma314smith/signedxml v1.1.1 => github.com/moov-io/signedxml v1.1.1
MOD
printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/hashicorp/vault"\n' > tools.go
try go mod tidy
mkdir -p "$(dirname "$out")"
go build -trimpath -ldflags='-s -w' -o "$out.tmp" github.com/hashicorp/vault
mv "$out.tmp" "$out"
