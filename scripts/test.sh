#!/usr/bin/env bash
# Runs every Trellis test (unit and end-to-end in network namespaces) as root and
# prints one closing line: "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."
if [[ $EUID -ne 0 ]]; then echo "run as root: the end-to-end tests create network namespaces" >&2; exit 1; fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
bash scripts/build-artifacts.sh || status=$?
if ((status == 0)); then
  dotnet test Trellis.sln -nologo -m:1 --blame-hang-timeout 15m 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
fi
awk '
  /(Passed|Failed)! +- +Failed:/ {
    gsub(",", ""); for (i = 1; i <= NF; i++) {
      if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) }
  }
  END { if (p + f == 0 && '"$status"' != 0) f = 1; printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit $status
