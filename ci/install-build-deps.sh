#!/usr/bin/env bash
# cibuildwheel before-all on Linux and macOS: OpenSSL (libcrypto) and zlib for the C kernel.
#
#   manylinux (AlmaLinux)  dnf/yum openssl-devel zlib-devel   auditwheel vendors libcrypto only
#   musllinux (Alpine)     apk openssl-dev zlib-dev           auditwheel vendors libcrypto only
#   Debian/Ubuntu          apt-get libssl-dev zlib1g-dev      (local builds; repair with auditwheel)
#   macOS                  static libcrypto from a pinned OpenSSL release (ci/build-openssl.sh),
#                          built for MACOSX_DEPLOYMENT_TARGET; zlib is the system libz
#
# On Linux, libz.so.1 is on the manylinux and musllinux policies' allow-lists: auditwheel leaves
# it out of the wheel, which then loads the system's zlib (the one Python's zlib module links);
# zlib's headers are needed here only to compile. libcrypto is not on them and is vendored into
# agora_token.libs/.
#
# Windows does not use this script: pyproject.toml runs vcpkg there.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

case "$(uname -s)" in
  Linux)
    if command -v dnf >/dev/null 2>&1; then
      dnf install -y openssl-devel zlib-devel
    elif command -v yum >/dev/null 2>&1; then
      yum install -y openssl-devel zlib-devel
    elif command -v apk >/dev/null 2>&1; then
      apk add --no-cache openssl-dev zlib-dev
    elif command -v apt-get >/dev/null 2>&1; then
      apt-get update -q && apt-get install -y -q libssl-dev zlib1g-dev
    else
      echo "install-build-deps: no known package manager; install the OpenSSL and zlib headers" >&2
      exit 1
    fi
    for header in /usr/include/openssl/hmac.h /usr/include/zlib.h; do
      [ -f "$header" ] || { echo "install-build-deps: $header is missing after the install" >&2; exit 1; }
    done
    ;;
  Darwin)
    bash "$here/build-openssl.sh" "${OPENSSL_PREFIX:-/tmp/agora-token-openssl}"
    ;;
  *)
    echo "install-build-deps: unsupported system $(uname -s)" >&2
    exit 1
    ;;
esac
