#!/usr/bin/env bash
# Installs the Debian packages Trellis needs to build, test and run its local cluster.
# Idempotent: a second run only checks. The .NET SDK is expected on PATH already.
set -euo pipefail
# iptables: the reference portmap plugin programs it; socat: the host-port test's listener and client.
# frr, bird2, gobgpd: the routers the BGP speaker is tested against (run only inside test namespaces).
# strace: kills processes, or fails their calls, at chosen syscalls in crash tests (nft mid-transaction,
# trellis-cni at every file and netlink call of an ADD).
# python3-kubernetes: the official Python client, a second real client of the in-process API server.
# python3-prometheus-client: Prometheus' own parser reads every /metrics the tests scrape.
# (kubectl, which the API server tests drive, comes with the machine image.)
# podman, buildah, runc: scripts/images.sh builds the images from scratch and trellis-local up --images
# runs them (runc: crun refuses these machines' hybrid cgroups).
packages=(iproute2 iputils-ping procps nftables iptables socat golang-go golang-github-appc-cni-dev containernetworking-plugins
  conntrack iperf3 frr bird2 gobgpd strace python3-kubernetes python3-prometheus-client podman buildah runc)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  # The routing daemons' packages would start them as machine services; tests run their own
  # copies in namespaces, so no service may start (policy-rc.d 101 = "not now").
  policy=/usr/sbin/policy-rc.d
  made_policy=0
  if [[ ! -e $policy ]]; then printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"; made_policy=1; fi
  apt-get update -qq
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if ((made_policy)); then rm -f "$policy"; fi
fi
command -v dotnet >/dev/null || { echo "the .NET 10 SDK must be on PATH (https://dot.net)" >&2; exit 1; }
