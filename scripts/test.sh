#!/usr/bin/env bash
# The whole test suite, as README and CI run it: installs the real servers the
# tests start (PostgreSQL, versitygw, Azurite, FerretDB, mongo-tools), vets, runs
# every test (race detector on the packages with concurrency) and the fuzz
# targets for a bounded time.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

FUZZTIME="${FUZZTIME:-15s}"

scripts/install-test-deps.sh

echo "==> gofmt"
unformatted="$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.cache/*'))"
if [ -n "$unformatted" ]; then
	echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

echo "==> go vet"
go vet ./...

echo "==> go test (race detector on concurrent packages)"
race_pkgs=()
for p in ./internal/store ./internal/auth ./internal/httpapi ./internal/service ./internal/jobs ./internal/stores ./internal/export ./internal/snapshot ./internal/blob/... ./internal/capture \
	./internal/parquetout ./internal/restore ./internal/restorejob ./internal/taker ./internal/manifest ./internal/faultproxy ./internal/cli ./internal/statuspage; do
	[ -d "${p%/...}" ] && race_pkgs+=("$p")
done
go test -race -count=1 "${race_pkgs[@]}"

echo "==> go test ./..."
go test -count=1 -timeout 20m ./...

echo "==> fuzz targets, $FUZZTIME each"
fuzz() { # package target
	if grep -qs "func $2(" "$1"/*_test.go; then
		go test -run '^$' -fuzz "^$2\$" -fuzztime "$FUZZTIME" "$1"
	fi
}
fuzz ./internal/auth FuzzParseAuthorization
fuzz ./internal/auth FuzzTokenEndpoint
fuzz ./internal/ejson FuzzAppendDocument
fuzz ./internal/ejson FuzzAppendBSON
fuzz ./internal/httpapi FuzzCreateBucketBody
fuzz ./internal/httpapi FuzzCreateExportBody
fuzz ./internal/httpapi FuzzPatchBucketBody
fuzz ./internal/httpapi FuzzQueryAndPath

echo "==> all tests passed"
