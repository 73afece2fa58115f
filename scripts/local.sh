#!/usr/bin/env bash
# Builds Trellis and runs trellis-local: a whole cluster in network namespaces on this machine.
#   sudo bash scripts/local.sh run            # up, pod × pod matrix, down; exit 0 when every pod reaches every other
#   sudo bash scripts/local.sh up [flags]     # stays up (kubectl --kubeconfig /run/trellis-local/kubeconfig ...)
#   sudo bash scripts/local.sh down
# Flags: --nodes N --pods-per-node N --routing Direct|VXLAN|Auto --topology l2|routed|mixed --network FILE --json
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $EUID -ne 0 ]]; then echo "run as root: trellis-local creates network namespaces" >&2; exit 1; fi
bash scripts/install-deps.sh
if [[ "${TRELLIS_SKIP_BUILD:-}" != 1 ]]; then
  echo "building trellis-cni (Native AOT), trellis-agent and trellis-local ..." >&2
  bash scripts/build-artifacts.sh >&2
fi
exec out/local/trellis-local "${@:-run}"
