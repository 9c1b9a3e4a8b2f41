#!/usr/bin/env bash
# Renders the grant report of a scenario (the embedded default when none is
# given) in English and Swedish, and prints each with headless Chromium to a
# PDF (A4, as it prints) and a PNG (one long page), so a person can look at it.
#
#   bash scripts/render_report.sh [SCENARIO] [OUT_DIR]
#
# Needs Chromium (Debian: `apt-get install -y chromium`). Extra arguments for
# `lifecost report` can go in REPORT_ARGS, e.g. REPORT_ARGS="--draws 2000".
# PNG_HEIGHT sets the height of the PNG in CSS pixels (the page is cut there).
set -euo pipefail
cd "$(dirname "$0")/.."
scenario=${1:-}
out=${2:-target/report}
height=${PNG_HEIGHT:-13000}
chromium=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$chromium" ]; then
    echo "chromium not found: apt-get install -y chromium" >&2
    exit 1
fi
mkdir -p "$out"
cargo build --release --quiet
for lang in en sv; do
    html="$out/report-$lang.html"
    # shellcheck disable=SC2086
    target/release/lifecost report ${scenario:+"$scenario"} --lang "$lang" -o "$html" --force ${REPORT_ARGS:-}
    url="file://$(realpath "$html")"
    flags=(--headless --no-sandbox --disable-gpu --hide-scrollbars --no-pdf-header-footer)
    "$chromium" "${flags[@]}" --print-to-pdf="$out/report-$lang.pdf" "$url" 2>/dev/null
    "$chromium" "${flags[@]}" --window-size="820,$height" --screenshot="$out/report-$lang.png" "$url" 2>/dev/null
    # Cut the white space below the report when ImageMagick is at hand.
    if convert -version 2>/dev/null | grep -q ImageMagick; then
        convert "$out/report-$lang.png" -trim +repage -bordercolor white -border 20 "$out/report-$lang.png"
    fi
    echo "$html -> $out/report-$lang.pdf, $out/report-$lang.png"
done
