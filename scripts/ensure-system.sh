#!/usr/bin/env bash
# Installs the Debian packages the project needs when they are missing: Node.js (for the CDK's jsii
# runtime) always, and Chromium with --browser (for the approval-page browser test).
set -euo pipefail
need=()
command -v node >/dev/null 2>&1 || need+=(nodejs)
if [[ "${1:-}" == "--browser" ]]; then
  [[ -x /usr/bin/chromium ]] || need+=(chromium)
fi
[[ ${#need[@]} -eq 0 ]] && exit 0
echo "installing Debian packages: ${need[*]}"
SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
