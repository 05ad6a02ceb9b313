#!/usr/bin/env bash
# Screenshots of the built documentation site at a phone's width and a desktop's, to look at before a
# change of the docs lands (headless Chromium: Debian's `chromium` package).
#
#   tools/screenshots.sh [OUT_DIR] [PAGE ...]
#
# Builds the site (mkdocs build --strict, the docs extra) into a temporary directory, serves it on a free
# loopback port for the length of the run, and writes OUT_DIR/NAME-phone.png (390 x 1800) and
# OUT_DIR/NAME-desktop.png (1366 x 1800) for each PAGE (paths under the site, e.g. server/routes/;
# default: a handful that cover every kind of content). OUT_DIR defaults to /tmp/agora-token-screenshots.
set -euo pipefail
. "$(dirname "$0")/_python.sh"  # sets ROOT and PYTHON
cd "$ROOT"

out=${1:-/tmp/agora-token-screenshots}
shift || true
pages=("$@")
[ ${#pages[@]} -gt 0 ] || pages=("" getting-started/ concepts/ reference/builders/ cli/ server/configuration/
                                  server/routes/ performance/ building/)
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$browser" ] || { echo "screenshots: no Chromium (apt-get install chromium)" >&2; exit 2; }

site=$(mktemp -d)
profile=$(mktemp -d)
mkdir -p "$out"
NO_MKDOCS_2_WARNING=1 "$PYTHON" -m mkdocs build --strict --quiet -d "$site"

port=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$PYTHON" -m http.server --bind 127.0.0.1 --directory "$site" "$port" >/dev/null 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; rm -rf "$site" "$profile"' EXIT
for _ in $(seq 50); do
  "$PYTHON" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/', timeout=1)" 2>/dev/null && break
  sleep 0.1
done

for page in "${pages[@]}"; do
  name=$(printf '%s' "${page:-index}" | tr '/' '-' | sed 's/-$//')
  for size in phone:390,1800 desktop:1366,1800; do
    timeout 60 "$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
      --disable-component-update --disable-sync --no-first-run --hide-scrollbars --user-data-dir="$profile" \
      --window-size="${size#*:}" --screenshot="$out/$name-${size%%:*}.png" "http://127.0.0.1:$port/$page" \
      >/dev/null 2>&1
    echo "$out/$name-${size%%:*}.png"
  done
done
