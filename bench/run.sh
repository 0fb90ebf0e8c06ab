#!/usr/bin/env bash
# Runs the snapex export benchmark (bench/README.md) from the repository root.
# Installs what the contenders need when it is missing:
#   pigz            Debian package (apt-get install -y pigz)
#   bsondump        built into .cache/bin by scripts/install-test-deps.sh
#   versitygw       installed into .cache/bin by scripts/install-test-deps.sh
#   rclone          Debian package (apt-get install -y rclone), the uploader contender at -latency
#   mongodump, snapex-ferretdb   built into .cache/bin by scripts/install-test-deps.sh (capture contenders)
# Every argument is passed to the harness, e.g.
#   bench/run.sh -scale 0.1        quick run (50 MiB datasets, 1,000 tiny collections)
#   bench/run.sh                   full run (500 MiB datasets, 10,000 tiny collections)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if ! command -v rclone >/dev/null 2>&1; then
	echo "==> rclone: installing the Debian package" >&2
	as_root apt-get update
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y rclone
fi

if ! command -v pigz >/dev/null 2>&1; then
	echo "==> pigz: installing the Debian package" >&2
	as_root apt-get update
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y pigz
fi

have() { command -v "$1" >/dev/null 2>&1 || [ -x "$root/.cache/bin/$1" ]; }
if ! have bsondump || ! have versitygw || ! have mongodump || ! have snapex-ferretdb; then
	echo "==> bsondump, versitygw, mongodump or snapex-ferretdb missing: running scripts/install-test-deps.sh" >&2
	scripts/install-test-deps.sh
fi

exec go run ./bench "$@"
