#!/usr/bin/env bash
# Builds what the tests and the local cluster execute as separate processes:
# the Native AOT trellis-cni, trellis-agent and trellis-operator (the last two against KubernetesClient.Aot, see
# Directory.Build.props; scripts/images.sh puts them in images with no .NET installed), trellis-local and the Go
# libcni driver. Output goes to out/.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p out
dotnet publish cni -c Release -r linux-x64 -o out/cni -nologo -v quiet
rm -rf out/agent out/operator
dotnet publish node-agent -c Release -r linux-x64 -p:TrellisAot=true -o out/agent -nologo -v quiet
dotnet publish operator -c Release -r linux-x64 -p:TrellisAot=true -o out/operator -nologo -v quiet
dotnet publish local -c Release -o out/local -nologo -v quiet
if [[ -d tests/libcni-driver ]]; then
  (cd tests/libcni-driver && GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="${GOCACHE:-/tmp/trellis-gocache}" go build -o ../../out/libcni-driver .)
fi
