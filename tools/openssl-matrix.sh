#!/usr/bin/env bash
# Builds the C kernel against each OpenSSL series the wheels meet and runs the test suite on it:
#
#   system   the machine's OpenSSL 3.x (libssl-dev), linked dynamically
#   1.1.1    a static libcrypto built by ci/build-openssl.sh from OpenSSL 1.1.1w, the series that
#            manylinux_2_28 images ship; the source is upstream's tarball as Debian bullseye
#            carries it (the .orig.tar.gz of its openssl source package)
#
# Each variant gets a fresh copy of the work tree (so no object file or .so of another variant's
# build is reused), a fresh venv and `pip install '.[test]'` with AGORA_TOKEN_REQUIRE_EXTENSION=1,
# then a check that the installed extension uses the OpenSSL it should (see check_linkage), then
# `python -m pytest -q -x -p no:cacheprovider`. It prints one line per variant,
#
#   openssl <version>: <pytest summary>
#
# and exits non-zero if any variant fails to build, links the wrong libcrypto or fails its tests.
#
#   usage: tools/openssl-matrix.sh
#
# For Debian/Ubuntu (apt). Root is needed only to apt-get install what is missing (a C compiler,
# libssl-dev, zlib1g-dev, binutils, python3-venv). Reaches Debian's archive and PyPI. /etc/apt is
# never written: a private apt config under the work dir adds the one deb-src line it needs.
#
#   OPENSSL_MATRIX_DIR     work dir kept between runs (the download, the built 1.1.1, the logs);
#                          default /tmp/agora-token-openssl-matrix
#   OPENSSL_MATRIX_PYTHON  the Python the venvs are made from; default python3
#   OPENSSL_MATRIX_MIRROR  Debian archive URI; default: the system's apt source for its own release
#   OPENSSL_MATRIX_ONLY    run one variant only: system or 1.1.1
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
work=${OPENSSL_MATRIX_DIR:-/tmp/agora-token-openssl-matrix}
python=${OPENSSL_MATRIX_PYTHON:-python3}
only=${OPENSSL_MATRIX_ONLY:-}
debian_suite=bullseye   # its openssl source package is 1.1.1w
mkdir -p "$work/logs"

say() { echo "openssl-matrix: $*" >&2; }
die() { say "$*"; exit 1; }

# ------------------------------------------------------------------ tools
need_tools() {
  local missing=()
  command -v cc >/dev/null 2>&1 || missing+=(gcc)
  command -v readelf >/dev/null 2>&1 && command -v nm >/dev/null 2>&1 || missing+=(binutils)
  [ -f /usr/include/openssl/hmac.h ] || missing+=(libssl-dev)
  [ -f /usr/include/zlib.h ] || missing+=(zlib1g-dev)
  "$python" -m venv --help >/dev/null 2>&1 || missing+=(python3-venv)
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "missing ${missing[*]}; install them (needs root)"
  say "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >"$work/logs/apt-install.log" 2>&1 \
    || { apt-get update -q >>"$work/logs/apt-install.log" 2>&1 || true
         DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$work/logs/apt-install.log" 2>&1; } \
    || { tail -n 20 "$work/logs/apt-install.log" >&2; die "apt-get install ${missing[*]} failed"; }
}

# ------------------------------------------------------------------ OpenSSL 1.1.1 source
# The system's archive URI: apt's own view of its index targets, the 'deb' one for this release's
# codename and component main (not the security archive, whose codename is <release>-security).
system_mirror() {
  local codename uri
  # shellcheck disable=SC1091
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [ -n "$codename" ] || return 1
  # shellcheck disable=SC2016  # apt expands the $(FIELD)s itself
  uri=$(apt-get indextargets --format '$(TARGET_OF) $(CODENAME) $(COMPONENT) $(REPO_URI)' 2>/dev/null \
    | awk -v c="$codename" '$1 == "deb" && $2 == c && $3 == "main" { print $4; exit }')
  [ -n "$uri" ] || return 1
  echo "${uri%/}"
}

private_apt() {  # a private apt config whose only source is the $debian_suite deb-src line
  local mirror=$1 aptd=$work/apt keyring=/usr/share/keyrings/debian-archive-keyring.gpg signed=
  mkdir -p "$aptd/lists/partial" "$aptd/cache/archives/partial" "$aptd/sources.list.d" "$aptd/preferences.d"
  [ -f "$keyring" ] && signed="[signed-by=$keyring] "
  local line="deb-src ${signed}$mirror $debian_suite main"
  if [ "$(cat "$aptd/sources.list" 2>/dev/null)" != "$line" ]; then
    echo "$line" >"$aptd/sources.list"
    rm -f "$aptd/lists/"*_Sources* "$aptd/lists/"*Release*
  fi
  cat >"$aptd/apt.conf" <<EOF
Dir::State::Lists "$aptd/lists";
Dir::Cache "$aptd/cache";
Dir::Etc::SourceList "$aptd/sources.list";
Dir::Etc::SourceParts "$aptd/sources.list.d";
Dir::Etc::Preferences "$aptd/preferences";
Dir::Etc::PreferencesParts "$aptd/preferences.d";
Acquire::Languages "none";
APT::Get::List-Cleanup "false";
EOF
  # Read the suite's (signed) source index again when it is older than a day, or absent.
  if [ -z "$(find "$aptd/lists" -maxdepth 1 -name '*_Sources*' -mtime -1 2>/dev/null)" ]; then
    say "reading the $debian_suite source index from $mirror"
    APT_CONFIG=$aptd/apt.conf apt-get update -q >"$work/logs/apt-update.log" 2>&1 \
      || { tail -n 20 "$work/logs/apt-update.log" >&2; die "apt-get update ($debian_suite deb-src) failed"; }
  fi
  echo "$aptd/apt.conf"
}

# Sets v111, tarball_111, sha_111. apt-get checks the downloaded .dsc and tarball against the
# suite's Sources index, which the archive's InRelease signature covers; the tarball's SHA-256 is
# then checked here against the .dsc's Checksums-Sha256 line and handed on to build-openssl.sh,
# which checks it once more.
fetch_111() {
  local mirror conf debver dsc
  mirror=${OPENSSL_MATRIX_MIRROR:-$(system_mirror)} \
    || die "found no Debian 'deb' source for this release with component main; set OPENSSL_MATRIX_MIRROR"
  conf=$(private_apt "$mirror")
  debver=$(APT_CONFIG=$conf apt-cache showsrc openssl | awk '/^Version: 1\.1\.1/ { print $2; exit }')
  [ -n "$debver" ] || die "Debian $debian_suite lists no openssl 1.1.1 source package"
  mkdir -p "$work/src"
  dsc=$work/src/openssl_${debver#*:}.dsc
  if [ ! -f "$dsc" ]; then
    say "downloading Debian's openssl $debver source ($debian_suite)"
    (cd "$work/src" && APT_CONFIG=$conf apt-get source --download-only -q "openssl=$debver" >"$work/logs/apt-source.log" 2>&1) \
      || { tail -n 20 "$work/logs/apt-source.log" >&2; die "apt-get source openssl=$debver failed"; }
  fi
  # Checksums-Sha256 lines are " <sha256> <size> <file>"; the upstream tarball is the .orig.tar.gz.
  read -r sha_111 orig < <(awk '/^Checksums-Sha256:/ { on = 1; next } /^[^ ]/ { on = 0 }
                               on && $3 ~ /\.orig\.tar\.gz$/ { print $1, $3; exit }' "$dsc") || true
  [ -n "${orig:-}" ] || die "$dsc names no .orig.tar.gz"
  tarball_111=$work/src/$orig
  local actual
  actual=$(sha256sum "$tarball_111" | cut -d' ' -f1)
  [ "$actual" = "$sha_111" ] || die "checksum mismatch for $tarball_111: $actual, the .dsc says $sha_111"
  v111=${orig#openssl_}; v111=${v111%.orig.tar.gz}
  case $v111 in 1.1.1*) ;; *) die "$orig is not an OpenSSL 1.1.1 release" ;; esac
  say "OpenSSL $v111 source: $tarball_111 (sha256 $sha_111, as in $(basename "$dsc"))"
}

build_111() {
  prefix_111=$work/openssl-$v111
  if [ ! -f "$prefix_111/lib/libcrypto.a" ]; then
    say "building a static libcrypto $v111 into $prefix_111 (ci/build-openssl.sh; log in $work/logs)"
  fi
  OPENSSL_TARBALL=$tarball_111 OPENSSL_VERSION=$v111 OPENSSL_SHA256=$sha_111 \
    nice -n 10 bash "$root/ci/build-openssl.sh" "$prefix_111" >"$work/logs/build-openssl-$v111.log" 2>&1 \
    || { tail -n 30 "$work/logs/build-openssl-$v111.log" >&2; die "building OpenSSL $v111 failed"; }
}

# ------------------------------------------------------------------ one variant
copy_tree() {  # the work tree's files (tracked and untracked, less what .gitignore ignores)
  local dst=$1
  mkdir -p "$dst"
  (cd "$root" && git ls-files -z --cached --others --exclude-standard \
     | while IFS= read -r -d '' f; do [ -f "$f" ] && printf '%s\0' "$f"; done \
     | tar --null -T - -cf -) | tar -C "$dst" -xf -
}

# Proves which OpenSSL the installed extension uses; prints its version (e.g. 3.0.19, 1.1.1w).
#   system: the .so has libcrypto.so.N as a NEEDED entry; the version is asked of the libcrypto
#           that the dynamic loader mapped for it (OpenSSL_version through ctypes).
#   static: the .so has no libcrypto NEEDED entry and itself defines the SHA-256 functions the
#           kernel calls, so libcrypto's code is inside it; the linker's trace (-Wl,--trace-symbol,
#           in the install log) shows SHA256_Init's definition came from PREFIX/lib/libcrypto.a; and
#           OpenSSL_version, linked in on purpose (-Wl,--undefined), is called in the .so itself
#           and must name the version just built.
check_linkage() {
  local kind=$1 py=$2 prefix=${3:-} expect=${4:-} log=${5:-} so needed
  so=$("$py" -c 'import agora_token as at, agora_token._fastpack as m; assert at.backend == "c", at.backend; print(m.__file__)') \
    || { say "the C kernel is not what agora_token uses"; return 1; }
  needed=$(readelf -d "$so" | awk '/NEEDED/ { gsub(/[][]/, "", $NF); print $NF }' | grep '^libcrypto' || true)
  case $kind in
    system)
      [ -n "$needed" ] || { say "$so does not link libcrypto dynamically"; return 1; }
      "$py" - "$so" "$needed" <<'EOF'
import ctypes, sys
so, needed = sys.argv[1], sys.argv[2]
ctypes.CDLL(so)  # already loaded: the same handle, so the libcrypto below is the one it uses
with open("/proc/self/maps") as maps:
    paths = {line.split()[-1] for line in maps if "/" + needed in line}
if len(paths) != 1:
    sys.exit(f"expected one mapped {needed}, found {sorted(paths)}")
lib = ctypes.CDLL(paths.pop())
lib.OpenSSL_version.restype = ctypes.c_char_p
lib.OpenSSL_version.argtypes = [ctypes.c_int]
print(lib.OpenSSL_version(0).decode().split()[1])
EOF
      ;;
    static)
      [ -z "$needed" ] || { say "$so links $needed dynamically, not the static libcrypto"; return 1; }
      local sym
      for sym in SHA256_Init SHA256_Update SHA256_Final OPENSSL_cleanse OpenSSL_version; do
        nm -D --defined-only "$so" | awk '{ print $NF }' | grep -qx "$sym" \
          || { say "$so does not define $sym: libcrypto is not linked into it"; return 1; }
      done
      grep -F ': definition of SHA256_Init' "$log" | grep -qF "$prefix/lib/libcrypto.a(" \
        || { say "the link did not take SHA256_Init from $prefix/lib/libcrypto.a (no linker trace in $log)"; return 1; }
      local version
      version=$("$py" - "$so" <<'EOF'
import ctypes, sys
fn = ctypes.CDLL(sys.argv[1]).OpenSSL_version  # the .so's own: it NEEDs no libcrypto
fn.restype, fn.argtypes = ctypes.c_char_p, [ctypes.c_int]
print(fn(0).decode().split()[1])
EOF
      ) || return 1
      [ "$version" = "$expect" ] || { say "$so carries OpenSSL $version, expected $expect"; return 1; }
      echo "$version"
      ;;
  esac
}

results=()
failed=0
run_variant() {  # run_variant NAME KIND [PREFIX EXPECTED_VERSION]
  local name=$1 kind=$2 prefix=${3:-} expect=${4:-}
  local dir log version summary rc=0
  dir=$(mktemp -d "$work/run-$name.XXXXXX")
  log=$work/logs/$name.log
  : >"$log"
  copy_tree "$dir/src"
  "$python" -m venv "$dir/venv"
  local py=$dir/venv/bin/python
  local -a env=(AGORA_TOKEN_REQUIRE_EXTENSION=1 PIP_DISABLE_PIP_VERSION_CHECK=1)
  # The two -Wl options serve check_linkage only: a trace of where SHA256_Init is defined, and
  # OpenSSL_version linked in so the built .so can be asked its own OpenSSL version.
  [ -n "$prefix" ] && env+=("CFLAGS=-I$prefix/include"
                            "LDFLAGS=-L$prefix/lib -Wl,--undefined=OpenSSL_version -Wl,--trace-symbol=SHA256_Init")
  say "$name: installing from a copy of the work tree (log: $log)"
  if ! (cd "$dir/src" && env "${env[@]}" nice -n 10 "$py" -m pip install -v '.[test]') >>"$log" 2>&1; then
    tail -n 30 "$log" >&2
    results+=("openssl $name: install failed (see $log)"); failed=1; rm -rf "$dir"; return 0
  fi
  if ! version=$(check_linkage "$kind" "$py" "$prefix" "$expect" "$log" 2>"$dir/check.err"); then
    cat "$dir/check.err" >&2; cat "$dir/check.err" >>"$log"
    results+=("openssl $name: wrong or no libcrypto in the extension (see $log)"); failed=1; rm -rf "$dir"; return 0
  fi
  say "$name: the extension uses OpenSSL $version; running the tests"
  (cd "$dir/src" && env AGORA_TOKEN_REQUIRE_EXTENSION=1 nice -n 10 "$py" -m pytest -q -x -p no:cacheprovider) >>"$log" 2>&1 || rc=$?
  summary=$(grep -E '^=* ?[0-9]+ (passed|failed|error)|^=* ?no tests ran| (passed|failed|errors?)( |,).* in [0-9.]+s' "$log" | tail -n 1 | sed -E 's/^=+ //; s/ =+$//')
  [ -n "$summary" ] || summary="pytest exited $rc without a summary (see $log)"
  [ "$rc" = 0 ] || { failed=1; summary="$summary (exit $rc; see $log)"; }
  results+=("openssl $version: $summary")
  rm -rf "$dir"
}

need_tools
if [ -z "$only" ] || [ "$only" = system ]; then
  run_variant system system
fi
if [ -z "$only" ] || [ "$only" = 1.1.1 ]; then
  fetch_111
  build_111
  run_variant "$v111" static "$prefix_111" "$v111"
fi
printf '%s\n' "${results[@]}"
exit "$failed"
