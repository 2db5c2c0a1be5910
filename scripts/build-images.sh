#!/usr/bin/env bash
# Builds the images the examples and tests run, locally: no registry is reachable, so images
# are made with `docker import` from a folder holding Debian's static busybox.
#   runner-busybox:latest  busybox with every applet linked in /bin
# Rebuilt only when missing or when the busybox binary changed (a label records its hash).
set -euo pipefail

image=runner-busybox:latest
busybox=/bin/busybox
hash=$(sha256sum "$busybox" | cut -c1-16)
current=$(docker image inspect -f '{{ index .Config.Labels "io.runner.busybox-sha" }}' "$image" 2>/dev/null || true)
if [ "$current" = "$hash" ]; then
  echo "build-images: $image is up to date"
  exit 0
fi
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/data" "$root/tmp" "$root/etc"
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
echo 'root:x:0:0:root:/root:/bin/sh' > "$root/etc/passwd"
echo 'nobody:x:65534:65534:nobody:/:/bin/sh' >> "$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
chmod 1777 "$root/tmp"
tar -C "$root" -c . | docker import \
  -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  -c 'WORKDIR /' \
  -c "LABEL io.runner.busybox-sha=$hash" \
  - "$image" >/dev/null
echo "build-images: built $image"
