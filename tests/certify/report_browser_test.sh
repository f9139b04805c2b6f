#!/usr/bin/env bash
# report.html as a browser shows it: certify writes a report, headless Chromium
# renders it (--dump-dom) and takes a screenshot, and the rendered page must hold
# one grid cell per cell of certificate.json and the certificate's verdict.
#
#   report_browser_test.sh BNCONFORM WORK_DIR             the check
#   report_browser_test.sh --expect-caught BNCONFORM WORK_DIR
#       the check's own test: a report that lost a cell, and one with the wrong
#       verdict, must each fail the check (exit 0 when both are caught).
#
# Exits 77 (ctest SKIP_RETURN_CODE) where Chromium is not installed (ci/setup.sh
# installs Debian's `chromium`); CHROMIUM names another binary.
set -u

expect_caught=0
if [ "${1:-}" = "--expect-caught" ]; then
  expect_caught=1
  shift
fi
bnconform="$1"
work="$2"

chromium="${CHROMIUM:-}"
if [ -z "$chromium" ]; then
  chromium="$(command -v chromium || command -v chromium-browser || true)"
fi
if [ -z "$chromium" ]; then
  echo "report_browser_test: skipped: chromium is not installed (apt-get install chromium;" \
    "ci/setup.sh lists it)"
  exit 77
fi

rm -rf "$work"
mkdir -p "$work"
report="$work/report"

# A kernel with failures, in groups that take seconds: the page has failures,
# passing cells and unsupported ones. A partial run: exit 1 is expected.
"$bnconform" certify --kernel mutant-flipped-momentum --groups coverage,degenerate \
  --report "$report" --jobs 2 > "$work/summary.txt" 2> "$work/progress.txt"
status=$?
if [ "$status" -ne 1 ] || [ ! -s "$report/report.html" ]; then
  echo "report_browser_test: certify exited $status without report.html" >&2
  cat "$work/progress.txt" >&2
  exit 1
fi

browse() { # browse OUTPUT_FLAG... -- URL: headless Chromium with a fresh profile
  local profile
  profile="$(mktemp -d "$work/chromium-profile.XXXXXX")"
  timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" "$@" 2>> "$work/chromium.log"
}

# The rendered page against the certificate: cells and verdict.
check_page() { # check_page HTML_FILE
  local dom expected_cells cells expected_verdict verdict
  dom="$work/dom.html"
  if ! browse --dump-dom "file://$1" > "$dom" || [ ! -s "$dom" ]; then
    echo "report_browser_test: chromium rendered nothing for $1 (see $work/chromium.log)"
    return 1
  fi
  expected_cells="$(grep -c '"operation": ' "$report/certificate.json")"
  cells="$(grep -o 'data-cell="' "$dom" | wc -l)"
  expected_verdict="$(sed -n 's/^  "verdict": "\([a-z-]*\)",*$/\1/p' "$report/certificate.json")"
  verdict="$(grep -o 'id="verdict"[^>]*data-verdict="[a-z-]*"' "$dom" |
    sed 's/.*data-verdict="\([a-z-]*\)"/\1/')"
  if [ "$cells" -ne "$expected_cells" ]; then
    echo "report_browser_test: the page shows $cells cells, the certificate has $expected_cells"
    return 1
  fi
  if [ -z "$verdict" ] || [ "$verdict" != "$expected_verdict" ]; then
    echo "report_browser_test: the page's verdict is '$verdict', the certificate's" \
      "'$expected_verdict'"
    return 1
  fi
  echo "report_browser_test: $cells cells, verdict $verdict, as the certificate says"
}

if [ "$expect_caught" -eq 1 ]; then
  caught=0
  # The first grid cell loses its marker: one cell fewer than the certificate.
  sed '0,/data-cell="/s/data-cell="/data-lost="/' "$report/report.html" > "$work/lost-cell.html"
  if ! check_page "$work/lost-cell.html" | grep 'cells, the certificate has'; then
    echo "report_browser_test: a report that lost a cell passed the check" >&2
  else
    caught=$((caught + 1))
  fi
  sed 's/data-verdict="not-certified"/data-verdict="certified"/' "$report/report.html" \
    > "$work/wrong-verdict.html"
  if ! check_page "$work/wrong-verdict.html" | grep "the page's verdict is 'certified'"; then
    echo "report_browser_test: a report with the wrong verdict passed the check" >&2
  else
    caught=$((caught + 1))
  fi
  [ "$caught" -eq 2 ] || exit 1
  echo "report_browser_test: both broken reports were caught"
  exit 0
fi

check_page "$report/report.html" || exit 1
browse --screenshot="$work/report.png" --window-size=1280,1600 --hide-scrollbars \
  "file://$report/report.html" > /dev/null
if [ "$(head -c 8 "$work/report.png" 2> /dev/null | od -An -tx1 | tr -d ' \n')" != \
  "89504e470d0a1a0a" ]; then
  echo "report_browser_test: no screenshot (see $work/chromium.log)"
  exit 1
fi
echo "report_browser_test: screenshot $work/report.png"
