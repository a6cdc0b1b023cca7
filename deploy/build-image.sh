#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Assembles the dsc runtime image without a container registry or daemon: a release binary that is already built,
# plus the few Debian 12 packages it links against, packed as an OCI image with umoci.
#
#   deploy/build-image.sh [--binary target/release/dsc] [--out target/image] [--tag 0.1.0] [--no-verify]
#
# Writes <out>/oci (an OCI image layout, tag <tag>), <out>/dsc-<tag>.oci.tar (oci-archive) and
# <out>/dsc-<tag>.docker.tar (for `docker load` / `podman load`). Needs root (umoci unpack/repack keep file owners)
# and installs umoci and skopeo from Debian's packages when missing. The packages are taken from the Debian release
# this machine uses (apt-get download), so build the binary on Debian 12 (bookworm) or on a system with an older glibc.
# The result matches deploy/Containerfile's runtime stage: user 65532, /var/lib/dsc, ENTRYPOINT dsc, CMD run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
binary="$ROOT/target/release/dsc"
out="$ROOT/target/image"
tag=""
verify=1
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --tag) tag="$2"; shift 2 ;;
    --no-verify) verify=0; shift ;;
    -h|--help) sed -n '3,12p' "$0"; exit 0 ;;
    *) echo "build-image.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

say() { printf '== %s\n' "$*" >&2; }
[ "$(id -u)" -eq 0 ] || { echo "build-image.sh: run as root (umoci keeps file ownership)" >&2; exit 2; }
[ -x "$binary" ] || { echo "build-image.sh: no executable at $binary (cargo build --release -p dsc)" >&2; exit 2; }
binary="$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")"
version="$("$binary" --version | awk '{print $2}')"
tag="${tag:-$version}"

missing=()
command -v umoci >/dev/null 2>&1 || missing+=(umoci)
command -v skopeo >/dev/null 2>&1 || missing+=(skopeo)
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing ${missing[*]} (Debian packages)"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"
mkdir -p "$rootfs" "$work/debs"
# apt-get download drops privileges to _apt, which must reach the download directory.
chmod 0755 "$work" && chmod 0777 "$work/debs"

# The shared libraries the binary needs, and the Debian packages that hold them (glibc's loader included).
say "libraries of $binary"
libs=$(ldd "$binary" | awk '/=>/ {print $3} /ld-linux/ {print $1}' | sort -u)
echo "$libs" | sed 's/^/   /' >&2
packages=$(for lib in $libs; do dpkg -S "$(readlink -f "$lib")" 2>/dev/null || dpkg -S "$lib"; done \
  | cut -d: -f1 | sort -u)
# ca-certificates: the trust store of rustls (native roots) and of librdkafka's OpenSSL. netbase: /etc/services etc.
packages="$packages ca-certificates netbase tzdata"
say "Debian packages: $(echo $packages)"
(cd "$work/debs" && apt-get download -qq $packages)
for deb in "$work"/debs/*.deb; do dpkg-deb -x "$deb" "$rootfs"; done
# Documentation, manuals and locales are not needed at run time.
rm -rf "$rootfs"/usr/share/doc "$rootfs"/usr/share/man "$rootfs"/usr/share/info "$rootfs"/usr/share/lintian \
  "$rootfs"/usr/share/locale
# Debian 12 is merged-/usr: /lib and /lib64 are links into /usr.
for dir in bin sbin lib lib64; do
  if [ -d "$rootfs/$dir" ] && [ ! -L "$rootfs/$dir" ]; then
    mkdir -p "$rootfs/usr/$dir"; cp -a "$rootfs/$dir/." "$rootfs/usr/$dir/"; rm -rf "${rootfs:?}/$dir"
  fi
  [ -e "$rootfs/$dir" ] || ln -s "usr/$dir" "$rootfs/$dir"
done
# What update-ca-certificates would generate: the bundle OpenSSL and rustls-native-certs read.
mkdir -p "$rootfs/etc/ssl/certs"
find "$rootfs/usr/share/ca-certificates" -name '*.crt' -print0 | sort -z | xargs -0 cat \
  > "$rootfs/etc/ssl/certs/ca-certificates.crt"
ln -sf /usr/share/zoneinfo/Etc/UTC "$rootfs/etc/localtime"

# The non-root user, name resolution, writable directories.
cat > "$rootfs/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/usr/sbin/nologin
dsc:x:65532:65532:dsc:/var/lib/dsc:/usr/sbin/nologin
EOF
cat > "$rootfs/etc/group" <<'EOF'
root:x:0:
dsc:x:65532:
EOF
printf 'hosts: files dns\n' > "$rootfs/etc/nsswitch.conf"
install -d -m 1777 "$rootfs/tmp"
install -d -o 65532 -g 65532 -m 0750 "$rootfs/var/lib/dsc"
install -D -m 0755 "$binary" "$rootfs/usr/local/bin/dsc"

if [ "$verify" -eq 1 ]; then
  say "checking the file system on its own (chroot, as user 65532)"
  chroot --userspec=65532:65532 "$rootfs" /usr/local/bin/dsc --version
fi

say "packing the OCI image (umoci)"
rm -rf "$out/oci"
mkdir -p "$out"
created="$(date -u -d "@${SOURCE_DATE_EPOCH:-$(stat -c %Y "$binary")}" +%Y-%m-%dT%H:%M:%SZ)"
umoci init --layout "$out/oci"
umoci new --image "$out/oci:$tag"
umoci unpack --image "$out/oci:$tag" "$work/bundle" >/dev/null
cp -a "$rootfs/." "$work/bundle/rootfs/"
umoci repack --image "$out/oci:$tag" --history.created "$created" \
  --history.created_by "deploy/build-image.sh (Debian packages: $(echo $packages))" "$work/bundle"
umoci config --image "$out/oci:$tag" --created "$created" \
  --architecture "$(dpkg --print-architecture)" --os linux \
  --config.user 65532:65532 --config.workingdir /var/lib/dsc \
  --config.entrypoint /usr/local/bin/dsc --config.cmd run \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --config.env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
  --config.exposedports 19191/tcp --config.exposedports 19192/tcp --config.exposedports 19193/tcp \
  --config.exposedports 19194/tcp --config.exposedports 19291/tcp \
  --config.stopsignal SIGTERM \
  --config.label org.opencontainers.image.title=dsc \
  --config.label org.opencontainers.image.licenses=Apache-2.0 \
  --config.label "org.opencontainers.image.version=$version" \
  --manifest.annotation "org.opencontainers.image.ref.name=$tag" \
  --history.created "$created" --history.created_by "deploy/build-image.sh: user, entrypoint, ports"
umoci gc --layout "$out/oci"

say "archives"
rm -f "$out/dsc-$tag.oci.tar" "$out/dsc-$tag.docker.tar"
skopeo copy -q "oci:$out/oci:$tag" "oci-archive:$out/dsc-$tag.oci.tar:dsc:$tag"
skopeo copy -q "oci:$out/oci:$tag" "docker-archive:$out/dsc-$tag.docker.tar:dsc:$tag"

if [ "$verify" -eq 1 ]; then
  say "checking the packed image: unpack it again and run dsc from it as its configured user"
  umoci unpack --image "$out/oci:$tag" "$work/check" >/dev/null
  user=$(skopeo inspect --config "oci:$out/oci:$tag" | python3 -c 'import json,sys; print(json.load(sys.stdin)["config"]["User"])')
  chroot --userspec="$user" "$work/check/rootfs" /usr/local/bin/dsc --version
fi
skopeo inspect --raw "oci:$out/oci:$tag" | python3 -c '
import json, sys
manifest = json.load(sys.stdin)
size = sum(layer["size"] for layer in manifest["layers"])
print("image dsc:%s: %d layer(s), %.1f MiB compressed" % (sys.argv[1], len(manifest["layers"]), size / 1048576))
' "$tag"
ls -la "$out"
