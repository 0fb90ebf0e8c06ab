#!/usr/bin/env bash
# Installs the real servers and tools that snapex tests start through
# internal/testenv: PostgreSQL and Chromium (Debian packages), versitygw (S3),
# Azurite (Azure Blob), DuckDB's Node binding (Parquet checks), and the
# programs of the tools/ module (FerretDB runner, mongo-tools). Everything
# except the Debian packages goes under <repo>/.cache.
#
# Idempotent: what is already installed at the pinned version is skipped,
# so a second run takes a few seconds.
set -euo pipefail

VERSITYGW_VERSION=v1.8.0
AZURITE_VERSION=3.37.0
DUCKDB_NODE_VERSION=1.5.6-r.1
MONGO_TOOLS=(bsondump mongodump mongoexport mongoimport mongorestore)

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="$root/.cache"
bin="$cache/bin"
mkdir -p "$bin"

say() { printf '==> %s\n' "$*"; }

# need fails unless the program is on PATH.
need() {
	command -v "$1" >/dev/null 2>&1 || {
		echo "install-test-deps: $1 is required but not on PATH" >&2
		exit 1
	}
}

# as_root runs a command as root, through sudo when needed.
as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# have_initdb reports whether a PostgreSQL initdb exists on PATH or in
# Debian's versioned directories.
have_initdb() {
	command -v initdb >/dev/null 2>&1 && return 0
	compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}

install_postgres() {
	if have_initdb; then
		say "PostgreSQL: present, skipping"
		return
	fi
	say "PostgreSQL: installing the Debian package (apt-get install -y postgresql)"
	as_root apt-get update
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql
}

# install_chromium installs Debian's chromium, the headless browser the
# status page test (internal/statuspage) drives through chromedp.
install_chromium() {
	if command -v chromium >/dev/null 2>&1; then
		say "Chromium: present, skipping"
		return
	fi
	say "Chromium: installing the Debian package (apt-get install -y chromium)"
	as_root apt-get update
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
}

install_versitygw() {
	local stamp="$bin/.versitygw.version"
	if [ -x "$bin/versitygw" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$VERSITYGW_VERSION" ]; then
		say "versitygw $VERSITYGW_VERSION: present, skipping"
		return
	fi
	need go
	say "versitygw $VERSITYGW_VERSION: go install into $bin (about 100 s on a cold cache)"
	GOBIN="$bin" go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
	echo "$VERSITYGW_VERSION" >"$stamp"
}

install_azurite() {
	local pkg="$cache/node_modules/azurite/package.json"
	if [ -x "$cache/node_modules/.bin/azurite-blob" ] &&
		grep -q "\"version\": \"$AZURITE_VERSION\"" "$pkg" 2>/dev/null; then
		say "Azurite $AZURITE_VERSION: present, skipping"
		return
	fi
	need npm
	say "Azurite $AZURITE_VERSION: npm install --prefix $cache (about 35 s)"
	npm install --no-audit --no-fund --prefix "$cache" "azurite@$AZURITE_VERSION"
}

# install_duckdb installs DuckDB's Node binding (a prebuilt binary), which
# the Parquet export tests run through node (internal/duckdbtest).
install_duckdb() {
	local pkg="$cache/node_modules/@duckdb/node-api/package.json"
	if grep -q "\"version\": \"$DUCKDB_NODE_VERSION\"" "$pkg" 2>/dev/null; then
		say "@duckdb/node-api $DUCKDB_NODE_VERSION: present, skipping"
		return
	fi
	need npm
	say "@duckdb/node-api $DUCKDB_NODE_VERSION: npm install --prefix $cache (a few seconds)"
	npm install --no-audit --no-fund --prefix "$cache" "@duckdb/node-api@$DUCKDB_NODE_VERSION"
}

# tools_hash fingerprints the tools/ module so its binaries are rebuilt
# only when its sources or dependencies change.
tools_hash() {
	(cd "$root/tools" && find . -type f \( -name '*.go' -o -name 'go.mod' -o -name 'go.sum' \) -print0 |
		sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
}

build_tools() {
	local stamp="$bin/.tools.hash" want missing=0 t
	want="$(tools_hash)"
	for t in snapex-ferretdb "${MONGO_TOOLS[@]}"; do
		[ -x "$bin/$t" ] || missing=1
	done
	if [ "$missing" -eq 0 ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
		say "tools/ binaries: up to date, skipping"
		return
	fi
	need go
	say "tools/: building snapex-ferretdb (FerretDB v1.24.0) and mongo-tools into $bin"
	(
		cd "$root/tools"
		export GONOSUMDB=github.com/mongodb/mongo-tools
		go build -o "$bin/snapex-ferretdb" ./ferretdb
		for t in "${MONGO_TOOLS[@]}"; do
			say "  go build $t"
			go build -o "$bin/$t" "github.com/mongodb/mongo-tools/$t/main"
		done
	)
	echo "$want" >"$stamp"
}

ensure_gitignore() {
	local gi="$root/.gitignore"
	if ! grep -qxE '\.cache/?' "$gi" 2>/dev/null; then
		say "adding .cache/ to .gitignore"
		# keep an existing last line intact when it lacks a newline
		if [ -s "$gi" ] && [ -n "$(tail -c1 "$gi")" ]; then echo >>"$gi"; fi
		echo '.cache/' >>"$gi"
	fi
}

install_postgres
install_chromium
install_versitygw
install_azurite
install_duckdb
build_tools
ensure_gitignore
say "done; test servers are in $bin and $cache/node_modules/.bin"
