#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need, only those missing.
# Needs root (or passwordless sudo) when something is missing; otherwise does nothing.
set -euo pipefail
# openssh-server, openssh-client, iproute2: the test hosts (test-hosts/) of the multi-host tests
# strace: the order of a checkpoint's fsync and rename (fault-injection PreviousImageTest)
# tmux, python3, vim: the programs that live in a terminal (autotest TerminalProgramsTest)
pkgs=(make gcc libzstd-dev liblz4-dev zlib1g-dev libxxhash-dev python3 tmux procps util-linux psmisc bash-builtins
  openssh-server openssh-client iproute2 strace vim)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO="sudo -n"
  else echo "install-deps: missing packages ${missing[*]} and not root; install them and rerun" >&2; exit 99; fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
