#!/usr/bin/env bash
# Builds OpenSSL's libcrypto as a static, position-independent library into PREFIX (headers in
# PREFIX/include, libcrypto.a in PREFIX/lib) from a pinned release whose SHA-256 is checked.
# Used for the macOS wheels, where it is built for MACOSX_DEPLOYMENT_TARGET so the wheel needs
# nothing newer than its tag says; it works on Linux too (useful to test this script).
#
#   usage: ci/build-openssl.sh PREFIX
#   OPENSSL_TARBALL=path  use a local copy of the release tarball instead of downloading it
#                         (its checksum is still checked unless OPENSSL_SHA256 is overridden)
set -euo pipefail

prefix=${1:?usage: build-openssl.sh PREFIX}
version=${OPENSSL_VERSION:-3.5.4}  # 3.5 is an LTS series
sha256=${OPENSSL_SHA256:-967311f84955316969bdb1d8d4b983718ef42338639c621ec4c34fddef355e99}
case $version in
  1.1.1*) tag=OpenSSL_${version//./_} ;;  # 1.1.1 releases are tagged OpenSSL_1_1_1w
  *) tag=openssl-$version ;;
esac
url="https://github.com/openssl/openssl/releases/download/$tag/openssl-$version.tar.gz"

if [ -f "$prefix/lib/libcrypto.a" ] && [ -f "$prefix/include/openssl/hmac.h" ]; then
  echo "build-openssl: $prefix already holds a static libcrypto"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tarball=${OPENSSL_TARBALL:-$work/openssl.tar.gz}
if [ -z "${OPENSSL_TARBALL:-}" ]; then
  curl --fail --location --retry 5 --silent --show-error -o "$tarball" "$url"
fi
if command -v sha256sum >/dev/null 2>&1; then
  actual=$(sha256sum "$tarball" | cut -d' ' -f1)
else
  actual=$(shasum -a 256 "$tarball" | cut -d' ' -f1)
fi
if [ "$actual" != "$sha256" ]; then
  echo "build-openssl: checksum mismatch for $tarball: $actual, expected $sha256" >&2
  exit 1
fi
mkdir "$work/src"
tar -xzf "$tarball" -C "$work/src" --strip-components 1
cd "$work/src"

configure=./Configure
case "$(uname -s)-$(uname -m)" in
  Darwin-arm64) target=darwin64-arm64-cc ;;
  Darwin-x86_64) target=darwin64-x86_64-cc ;;
  # ./config detects the Linux target (3.x's ./Configure would too; 1.1.1's needs one named).
  Linux-*) target='' configure=./config ;;
  *) echo "build-openssl: unsupported host $(uname -s)-$(uname -m)" >&2; exit 1 ;;
esac
if [ "$(uname -s)" = Darwin ]; then
  : "${MACOSX_DEPLOYMENT_TARGET:?build-openssl: set MACOSX_DEPLOYMENT_TARGET (the wheel target)}"
  export CFLAGS="-mmacosx-version-min=$MACOSX_DEPLOYMENT_TARGET"
fi

# Only libcrypto is needed: no shared libraries, no loadable modules or engines (nothing is ever
# read from a directory on the user's machine), no tests; build_libs builds no apps.
# 1.1.1 has no provider modules, so its Configure has no no-module option (it rejects it).
case $version in
  1.1.1*) no_module= ;;
  *) no_module=no-module ;;
esac
$configure $target --prefix="$prefix" --libdir=lib --openssldir="$prefix/ssl" \
  no-shared $no_module no-engine no-dso no-tests no-ssl no-dtls -fPIC
cpus=$(getconf _NPROCESSORS_ONLN 2>/dev/null || sysctl -n hw.ncpu)
make -j"$cpus" build_libs >/dev/null
make install_dev >/dev/null
rm -f "$prefix"/lib/libssl.a  # libcrypto is all the kernel links
echo "build-openssl: OpenSSL $version (static libcrypto) in $prefix"
ls -l "$prefix/lib"
