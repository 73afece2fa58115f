#!/usr/bin/env bash
# Installs the Debian packages Trellis needs to build, test and run its local cluster.
# Idempotent: a second run only checks. The .NET SDK is expected on PATH already.
set -euo pipefail
# iptables: the reference portmap plugin programs it; socat: the host-port test's listener and client;
# strace: the CNI tests kill the plugin, or fail its calls, at every system call (-e inject).
packages=(iproute2 iputils-ping procps nftables iptables socat strace golang-go golang-github-appc-cni-dev containernetworking-plugins)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v dotnet >/dev/null || { echo "the .NET 10 SDK must be on PATH (https://dot.net)" >&2; exit 1; }
