#!/bin/sh
# Makes the builder's base image locally: no registry is reachable on Kiln's build machines, so
# the Debian bookworm root file system comes from debootstrap and enters Docker by `docker import`.
# Idempotent: does nothing when the image already exists (pass --force to remake it).
# Usage: resources/builder/make-base-image.sh [--force]
set -eu
image="${KILN_BUILDER_BASE_IMAGE:-kiln-builder-base:bookworm}"
mirror="${KILN_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
if [ "${1:-}" != "--force" ] && docker image inspect "$image" >/dev/null 2>&1; then
  echo "make-base-image: $image already present"
  exit 0
fi
command -v debootstrap >/dev/null 2>&1 || { echo "make-base-image: debootstrap missing (apt-get install debootstrap)" >&2; exit 1; }
root="$(mktemp -d /var/tmp/kiln-builder-root.XXXXXX)"
trap 'rm -rf "$root"' EXIT
# The C toolchain is what the kernel base needs (make -C kernel); libstdc++6 is what Node needs.
debootstrap --variant=minbase --include=gcc,make,binutils,libc6-dev,libstdc++6,ca-certificates \
  bookworm "$root" "$mirror"
# Drop caches and logs so the image holds only what builds need.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/*
tar -C "$root" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["/bin/sh"]' - "$image"
echo "make-base-image: $image ready"
