#!/usr/bin/env bash
# Keeps the repository's docs and comments self-contained and present-tense. Fails
# (exit 1), printing file:line: text for each hit, when a tracked text file
#   - cites ../shared (the spec is docs/semantics.md and docs/tolerance.md), or
#   - reads like a development diary: an ISO date (YYYY-MM-DD), "session N",
#     "stop N" or "issue N" (the project's own work items; upstream trackers are
#     cited as owner/repo#N, which is fine).
# Measurements carry their date and machine in results files (*RESULTS*.md, and the
# plots beside them, *RESULTS*.svg), which
# are not checked; neither are the data of golden/cases/ and fuzz/corpus/, nor this
# script. Files come from `git ls-files`, or from `find` where git or the repository
# is not available (e.g. an exported source tree). Registered as the ctest
# `docs_present_tense` (tests/CMakeLists.txt).
set -u

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)" || exit 2
cd "$root" || exit 2
self="ci/check_docs.sh"

# NUL-separated paths relative to the root.
list_files() {
  if command -v git > /dev/null 2>&1 &&
    [ "$(git rev-parse --show-toplevel 2> /dev/null)" = "$root" ]; then
    git ls-files -z
  else
    # Without git: everything but what .gitignore names.
    find . \( -path ./.git -o -path ./build -o -path ./.cache -o -name certify-report \
      -o -name compile_commands.json -o -path ./CMakeUserPresets.json \) -prune \
      -o -type f -printf '%P\0'
  fi
}

files=()
while IFS= read -r -d '' f; do
  case "$f" in
    "$self" | golden/cases/* | fuzz/corpus/* | *RESULTS*.md | *RESULTS*.svg) continue ;;
  esac
  [ -f "$f" ] && files+=("$f")
done < <(list_files)

patterns=(
  -e '\.\./shared'
  -e '\b20[0-9][0-9]-[01][0-9]-[0-3][0-9]\b'
  -e '\bsession[- ]?[0-9]'
  -e '\bstop [0-9]'
  -e '\bissue #?[0-9]'
)

[ "${#files[@]}" -gt 0 ] || exit 0
# One grep over every file (their names fit in one command line). -I skips binary
# files; -i also catches "Session 5" and "Issue 3".
grep -HnIi -E "${patterns[@]}" -- "${files[@]}"
status=$?
case "$status" in
  0)
    echo "check_docs: the lines above cite ../shared or read like a diary;" \
      "cite docs/semantics.md or docs/tolerance.md, and move dated figures to a" \
      "results file (*RESULTS*.md) with their command" >&2
    exit 1
    ;;
  1) exit 0 ;;
  *)
    echo "check_docs: grep failed (status $status)" >&2
    exit 2
    ;;
esac
