#!/usr/bin/env bash
# Provides a CPython of the Lambda runtime's version (default 3.14) and prints its path.
#
# Bundling uses it to ship bytecode with the Lambda assets (Lambda's file system is read-only, so source
# without bytecode is compiled again on every cold start); the cold-start benchmark runs the handlers
# with it. Debian stable has no 3.14: the packages come from Debian testing or unstable, downloaded by
# apt (which checks the archive signatures against the system's keyring) and unpacked, not installed,
# under .build/runtime-python/<version>. They run on their own C library through its dynamic loader, so
# nothing on the system changes. Found on PATH already (python3.14), it is used as it is.
set -euo pipefail
VERSION="${1:-3.14}"
HERE="$(cd "$(dirname "$0")/.." && pwd)"
DEST="${RUNTIME_PYTHON_DIR:-$HERE/.build/runtime-python/$VERSION}"
WRAPPER="$DEST/bin/python$VERSION"

works() { "$1" -c "import sys, ssl, zlib, decimal; assert sys.version_info[:2] == tuple(map(int, '$VERSION'.split('.')))" 2>/dev/null; }

if command -v "python$VERSION" >/dev/null 2>&1 && works "$(command -v "python$VERSION")"; then
  command -v "python$VERSION"
  exit 0
fi
if [[ -x "$WRAPPER" ]] && works "$WRAPPER"; then
  echo "$WRAPPER"
  exit 0
fi

if [[ "$(dpkg --print-architecture 2>/dev/null || uname -m)" != amd64 ]]; then
  echo "unpacking Python $VERSION from Debian is done for amd64 only; put python$VERSION on PATH" >&2
  exit 1
fi
PACKAGES=(
  "python$VERSION-minimal" "libpython$VERSION-minimal" "libpython$VERSION-stdlib"
  libc6 libssl3t64 libexpat1 zlib1g libbz2-1.0 libffi8 liblzma5 libzstd1 libuuid1 libmpdec4 libsqlite3-0
)
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/lists/partial" "$WORK/cache/archives/partial" "$WORK/debs"
for suite in forky sid; do
  echo "deb http://deb.debian.org/debian $suite main" >"$WORK/sources.list"
  APT=(apt-get -q
    -o "Dir::Etc::SourceList=$WORK/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$WORK/lists" -o "Dir::Cache=$WORK/cache" -o Dir::State::status=/dev/null
    -o Debug::NoLocking=1 -o APT::Sandbox::User="$(id -un)")
  rm -rf "$WORK/lists"/* && mkdir -p "$WORK/lists/partial"
  "${APT[@]}" update >"$WORK/update.log" 2>&1 || { cat "$WORK/update.log" >&2; continue; }
  if (cd "$WORK/debs" && "${APT[@]}" download "${PACKAGES[@]}" >"$WORK/download.log" 2>&1); then
    break
  fi
  echo "Debian $suite has no Python $VERSION packages" >&2
  rm -f "$WORK/debs"/*.deb
done
if ! ls "$WORK/debs"/*.deb >/dev/null 2>&1; then
  echo "no Python $VERSION found on PATH or in Debian testing/unstable" >&2
  exit 1
fi

rm -rf "$DEST.tmp" && mkdir -p "$DEST.tmp/root" "$DEST.tmp/bin"
for deb in "$WORK/debs"/*.deb; do dpkg-deb -x "$deb" "$DEST.tmp/root"; done
cat >"$DEST.tmp/bin/python$VERSION" <<WRAP
#!/bin/sh
# Python $VERSION from Debian, on its own C library (scripts/runtime-python.sh).
R="$DEST/root"
L="\$R/usr/lib/x86_64-linux-gnu:\$R/lib/x86_64-linux-gnu"
exec "\$R/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" --library-path "\$L" "\$R/usr/bin/python$VERSION" "\$@"
WRAP
chmod +x "$DEST.tmp/bin/python$VERSION"
rm -rf "$DEST" && mv "$DEST.tmp" "$DEST"
works "$WRAPPER" || { echo "the unpacked Python $VERSION does not run" >&2; exit 1; }
echo "$WRAPPER"
