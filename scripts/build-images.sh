#!/usr/bin/env bash
# Builds the images the examples and tests run, locally: no registry is reachable, so images are
# made with `docker import` from a root folder or tarball.
#   runner-busybox:latest  Debian's static busybox, every applet linked in /bin
#   runner-busybox-user:latest  the same with USER 1000:1000 (a non-root image, as many Keboola
#                          components are), made with `docker commit --change`, no build
#   runner-busybox-named:latest  the same with a user "app" (uid 1234, primary group "app" 2345,
#                          also in "staff" 3456) in its /etc/passwd and /etc/group, USER app:
#                          a named image user, which runner maps through those files
#   runner-node:latest     Debian bookworm minbase + nodejs (mmdebstrap), with the npm package
#                          @kestra-io/libs in /opt/kestra/node_modules (NODE_PATH points there)
#   runner-python-gelf:latest  Debian bookworm minbase + python3-graypy, the GELF client the
#                          GELF end-to-end tests run inside a container
# and, for the same tests, npm's gelf-pro on the host in build/npm (see install_gelf_pro).
# Each image carries a label with a hash of its inputs and is rebuilt only when they change.
# When Podman is installed, each image is also loaded into Podman's own store (`docker save |
# podman load`, no registry), where its local name is localhost/NAME:TAG, which the short name
# NAME:TAG finds (docs/engines.md); again only when its inputs label differs.
# Arguments: what to build, of runner-busybox, runner-busybox-user, runner-node,
# runner-python-gelf and gelf-pro (none: all of them; setup.sh asks for runner-busybox only).
set -euo pipefail
cd "$(dirname "$0")/.."

# mmdebstrap and npm come with the full package set (setup.sh installs the smaller one).
need_image_tools() {
  if ! command -v mmdebstrap >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "build-images: mmdebstrap or npm is missing: running scripts/install-deps.sh"
    scripts/install-deps.sh
  fi
}

image_label() {  # image, label -> value or empty
  docker image inspect -f "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true
}

build_busybox() {
  local image=runner-busybox:latest busybox=/bin/busybox hash root
  hash=$(sha256sum "$busybox" | cut -c1-16)
  if [ "$(image_label "$image" io.runner.inputs)" = "$hash" ]; then
    echo "build-images: $image is up to date"
    return
  fi
  root=$(mktemp -d)
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
    -c "LABEL io.runner.inputs=$hash" \
    - "$image" >/dev/null
  rm -rf "$root"
  echo "build-images: built $image"
}

# runner-busybox-user: its inputs are the busybox image's and this function's text.
build_busybox_user() {
  local image=runner-busybox-user:latest hash container
  hash=$(printf '%s %s' "$(image_label runner-busybox:latest io.runner.inputs)" \
    "$(declare -f build_busybox_user)" | sha256sum | cut -c1-16)
  if [ "$(image_label "$image" io.runner.inputs)" = "$hash" ]; then
    echo "build-images: $image is up to date"
    return
  fi
  container=$(docker create runner-busybox:latest /bin/true)
  docker commit -c 'USER 1000:1000' -c 'CMD ["/bin/sh"]' -c "LABEL io.runner.inputs=$hash" "$container" "$image" \
    >/dev/null
  docker rm "$container" >/dev/null
  echo "build-images: built $image"
}

# runner-busybox-named: its inputs are the busybox image's and this function's text.
build_busybox_named() {
  local image=runner-busybox-named:latest hash container etc
  hash=$(printf '%s %s' "$(image_label runner-busybox:latest io.runner.inputs)" \
    "$(declare -f build_busybox_named)" | sha256sum | cut -c1-16)
  if [ "$(image_label "$image" io.runner.inputs)" = "$hash" ]; then
    echo "build-images: $image is up to date"
    return
  fi
  etc=$(mktemp -d)
  printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/:/bin/sh' \
    'app:x:1234:2345:app:/:/bin/sh' > "$etc/passwd"
  printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' 'app:x:2345:' 'staff:x:3456:app' > "$etc/group"
  chmod 0644 "$etc/passwd" "$etc/group"
  container=$(docker create runner-busybox:latest /bin/true)
  docker cp "$etc/passwd" "$container:/etc/passwd"
  docker cp "$etc/group" "$container:/etc/group"
  docker commit -c 'USER app' -c 'CMD ["/bin/sh"]' -c "LABEL io.runner.inputs=$hash" "$container" "$image" \
    >/dev/null
  docker rm "$container" >/dev/null
  rm -rf "$etc"
  echo "build-images: built $image"
}

build_node() {
  local image=runner-node:latest kestra_libs=@kestra-io/libs@2.0.0 hash stage
  hash=$(printf '%s %s' "$kestra_libs" "$(declare -f build_node)" | sha256sum | cut -c1-16)
  if [ "$(image_label "$image" io.runner.inputs)" = "$hash" ]; then
    echo "build-images: $image is up to date"
    return
  fi
  stage=$(mktemp -d)
  echo "build-images: building $image (mmdebstrap bookworm + nodejs, npm $kestra_libs)"
  npm install --loglevel=error --no-audit --no-fund --prefix "$stage/kestra" "$kestra_libs" >/dev/null
  mmdebstrap --quiet --variant=minbase --include=nodejs \
    --customize-hook='mkdir -p "$1/opt/kestra" "$1/data"' \
    --customize-hook="copy-in $stage/kestra/node_modules /opt/kestra" \
    bookworm "$stage/rootfs.tar"
  docker import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'ENV NODE_PATH=/opt/kestra/node_modules' \
    -c 'WORKDIR /' \
    -c "LABEL io.runner.inputs=$hash" \
    "$stage/rootfs.tar" "$image" >/dev/null
  rm -rf "$stage"
  echo "build-images: built $image"
}

build_python_gelf() {
  local image=runner-python-gelf:latest packages=python3-graypy hash stage
  # Only this function's own text and the package list are inputs, so editing other parts of this
  # script does not rebuild it.
  hash=$(printf '%s %s' "$packages" "$(declare -f build_python_gelf)" | sha256sum | cut -c1-16)
  if [ "$(image_label "$image" io.runner.inputs)" = "$hash" ]; then
    echo "build-images: $image is up to date"
    return
  fi
  stage=$(mktemp -d)
  echo "build-images: building $image (mmdebstrap bookworm + $packages)"
  mmdebstrap --quiet --variant=minbase --include="$packages" \
    --customize-hook='mkdir -p "$1/data"' \
    bookworm "$stage/rootfs.tar"
  docker import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'ENV PYTHONUNBUFFERED=1' \
    -c 'WORKDIR /' \
    -c "LABEL io.runner.inputs=$hash" \
    "$stage/rootfs.tar" "$image" >/dev/null
  rm -rf "$stage"
  echo "build-images: built $image"
}

# npm's gelf-pro, for the GELF end-to-end tests that send from the host: installed once into
# build/npm (NODE_PATH=build/npm/node_modules), skipped when that version is already there.
install_gelf_pro() {
  local version=1.4.0 prefix=build/npm
  if [ -f "$prefix/node_modules/gelf-pro/package.json" ] &&
    grep -q "\"version\": \"$version\"" "$prefix/node_modules/gelf-pro/package.json"; then
    echo "build-images: gelf-pro@$version is up to date in $prefix"
    return
  fi
  mkdir -p "$prefix"
  npm install --loglevel=error --no-audit --no-fund --prefix "$prefix" "gelf-pro@$version" >/dev/null
  echo "build-images: installed gelf-pro@$version in $prefix"
}

# Copies a Docker image into Podman's store when the two differ in their inputs label.
load_into_podman() {
  local image=$1 want have
  command -v podman >/dev/null 2>&1 || return 0
  want=$(image_label "$image" io.runner.inputs)
  have=$(podman image inspect --format "{{ index .Labels \"io.runner.inputs\" }}" \
    "localhost/$image" 2>/dev/null || true)
  if [ -n "$want" ] && [ "$want" = "$have" ]; then
    echo "build-images: localhost/$image is up to date in Podman"
    return
  fi
  docker save "$image" | podman load >/dev/null
  echo "build-images: loaded $image into Podman as localhost/$image"
}

wanted=("$@")
[ ${#wanted[@]} -gt 0 ] ||
  wanted=(runner-busybox runner-busybox-user runner-busybox-named runner-node runner-python-gelf gelf-pro)
for what in "${wanted[@]}"; do
  case "$what" in
    runner-busybox) build_busybox ;;
    runner-busybox-user) build_busybox_user ;;
    runner-busybox-named) build_busybox_named ;;
    runner-node) need_image_tools; build_node ;;
    runner-python-gelf) need_image_tools; build_python_gelf ;;
    gelf-pro) need_image_tools; install_gelf_pro ;;
    *)
      echo "build-images: unknown image $what (runner-busybox, runner-busybox-user," \
        "runner-busybox-named, runner-node, runner-python-gelf, gelf-pro)" >&2
      exit 64
      ;;
  esac
  [ "$what" = gelf-pro ] || load_into_podman "$what:latest"
done
