#!/usr/bin/env bash
# Builds the trellis-operator and trellis-agent OCI images with podman, from nothing: no base
# image is pulled. Each image is `FROM scratch` (operator/Dockerfile, node-agent/Dockerfile: the
# image's configuration) plus a root filesystem assembled here from the binaries
# scripts/build-artifacts.sh published into out/ and the shared libraries they load, copied from
# this machine's Debian packages. The names and tags are the ones config/kustomization.yaml's
# `images:` entries give, so `kubectl apply -k config/` runs exactly what was built.
#
#   scripts/images.sh                 # builds both (runs scripts/build-artifacts.sh when out/ lacks a binary)
#   scripts/images.sh --rootfs DIR    # only assembles the root filesystems, into DIR/{operator,agent}
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

rootfs_only=""
if [[ ${1:-} == --rootfs ]]; then rootfs_only=${2:?--rootfs needs a directory}; fi

# Where the agent image keeps what its init container installs into the host's CNI bin directory:
# trellis-cni and the plugins the conflist chains after it (node-agent/Planning/CniConflist.cs).
plugin_dir=/usr/local/lib/trellis
chained_plugins=(portmap)
reference_plugins=/usr/lib/cni
# Loaded with dlopen by .NET (TLS to the API server), so ldd does not see them.
dlopened=(libssl.so.3 libcrypto.so.3)

for binary in out/operator/trellis-operator out/agent/trellis-agent out/cni/trellis-cni; do
  if [[ ! -x $binary ]]; then
    echo "images.sh: $binary is missing; running scripts/build-artifacts.sh" >&2
    bash scripts/build-artifacts.sh
    break
  fi
done

# The image name (newName:newTag) config/kustomization.yaml gives NAME.
image_of() {
  awk -v want="$1" '
    /^images:/ { inside = 1; next }
    inside && /^[^ ]/ { inside = 0 }
    inside && $1 == "-" && $2 == "name:" { current = $3 }
    inside && $1 == "newName:" && current == want { name = $2 }
    inside && $1 == "newTag:" && current == want { tag = $2 }
    END { if (name == "" || tag == "") exit 1; print name ":" tag }' config/kustomization.yaml
}

# Copies a host file into ROOT at the same path, following symbolic links for the file itself, and
# laying it under /usr as Debian's merged /usr does (ROOT/lib is a link to usr/lib).
copy_file() {
  local root=$1 path=$2 directory
  directory=$(realpath "$(dirname "$path")")
  mkdir -p "$root$directory"
  cp -L --preserve=mode "$path" "$root$directory/$(basename "$path")"
  echo "$path" >>"$root.sources"
}

# Every shared library FILE needs (ldd: the whole closure), copied into ROOT.
copy_libraries() {
  local root=$1 file=$2 library
  while read -r library; do
    [[ -n $library ]] && copy_file "$root" "$library"
  done < <(ldd "$file" 2>/dev/null | awk '/=> \// { print $3 } /^[[:space:]]*\/[^ ]+ \(/ { print $1 }')
}

is_elf() { [[ $(head -c 4 "$1" | od -An -c | tr -d ' ') == '177ELF' ]]; }

# A root filesystem with Debian's merged-/usr layout, the published program PROGRAM under /app,
# and every library its ELF files load.
base_rootfs() {
  local root=$1 published=$2 file library
  rm -rf "$root" "$root.sources"
  mkdir -p "$root"/usr/{lib,lib64,bin,sbin} "$root/app" "$root/tmp" "$root/etc"
  chmod 1777 "$root/tmp"
  for link in lib lib64 bin sbin; do ln -s "usr/$link" "$root/$link"; done
  # Debug symbols and PDBs are not needed to run.
  cp -a "$published/." "$root/app/"
  find "$root/app" -type f \( -name '*.dbg' -o -name '*.pdb' \) -delete
  while IFS= read -r -d '' file; do
    if is_elf "$file"; then copy_libraries "$root" "$file"; fi
  done < <(find "$root/app" -type f -print0)
  for library in "${dlopened[@]}"; do
    copy_file "$root" "/usr/lib/x86_64-linux-gnu/$library"
    copy_libraries "$root" "/usr/lib/x86_64-linux-gnu/$library"
  done
  # Names for the users the manifests run as, for tools that print them.
  printf 'root:x:0:0:root:/:/nonexistent\ntrellis:x:1654:1654:trellis:/nonexistent:/nonexistent\n' >"$root/etc/passwd"
  printf 'root:x:0:\ntrellis:x:1654:\n' >"$root/etc/group"
}

operator_rootfs() {
  base_rootfs "$1" out/operator
}

agent_rootfs() {
  local root=$1 plugin
  base_rootfs "$root" out/agent
  # nft applies the masquerade and NetworkPolicy tables (nft -f -, one transaction each).
  copy_file "$root" /usr/sbin/nft
  copy_libraries "$root" /usr/sbin/nft
  mkdir -p "$root$plugin_dir"
  install -m 0755 out/cni/trellis-cni "$root$plugin_dir/trellis-cni"
  for plugin in "${chained_plugins[@]}"; do
    install -m 0755 "$reference_plugins/$plugin" "$root$plugin_dir/$plugin"
    echo "$reference_plugins/$plugin" >>"$root.sources"
  done
}

# The Debian packages (with versions) of the host files copied into ROOT: the image's bill of materials.
packages_of() {
  local root=$1 file
  sort -u "$root.sources" | while read -r file; do
    # dpkg knows a file by the path its package ships, before or after the /usr merge.
    dpkg -S "$file" 2>/dev/null || dpkg -S "$(realpath "$file")" 2>/dev/null || true
  done | cut -d: -f1 | sort -u | xargs -r dpkg-query -W -f='${Package}=${Version} '
}

work=$(mktemp -d /tmp/trellis-images.XXXXXX)
trap 'rm -rf "$work"' EXIT

if [[ -n $rootfs_only ]]; then
  mkdir -p "$rootfs_only"
  operator_rootfs "$rootfs_only/operator"
  agent_rootfs "$rootfs_only/agent"
  exit 0
fi

command -v podman >/dev/null || { echo "images.sh: podman is not installed (Debian package podman; scripts/install-deps.sh)" >&2; exit 1; }

build() {
  local component=$1 dockerfile=$2 image=$3
  "${component}_rootfs" "$work/$component/rootfs"
  local packages
  packages=$(packages_of "$work/$component/rootfs")
  podman build --quiet --pull=never -f "$dockerfile" -t "$image" \
    --label "io.trellis.debian-packages=${packages% }" "$work/$component" >/dev/null
}

operator_image=$(image_of trellis-operator) || { echo "images.sh: config/kustomization.yaml has no images: entry for trellis-operator" >&2; exit 1; }
agent_image=$(image_of trellis-agent) || { echo "images.sh: config/kustomization.yaml has no images: entry for trellis-agent" >&2; exit 1; }
build operator operator/Dockerfile "$operator_image"
build agent node-agent/Dockerfile "$agent_image"

for image in "$operator_image" "$agent_image"; do
  bytes=$(podman image inspect --format '{{.Size}}' "$image")
  awk -v image="$image" -v bytes="$bytes" 'BEGIN { printf "%-48s %6.1f MiB\n", image, bytes / 1048576 }'
done
