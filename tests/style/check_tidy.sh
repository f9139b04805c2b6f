#!/usr/bin/env bash
# The clang-tidy check (ctest style_clang_tidy, label style): clang-tidy with the
# repository's .clang-tidy over the translation units of
# tests/style/clang_tidy_files.txt, two at a time, with the build's
# compile_commands.json; any finding fails.
#
#   check_tidy.sh CLANG_TIDY SOURCE_DIR BUILD_DIR
#   check_tidy.sh --expect CHECK[,CHECK...] CLANG_TIDY SOURCE_DIR FILE
#
# The second form is the test of the check (ctest style_clang_tidy_catches): FILE,
# a deliberately faulty C++20 source outside the build, must fail with each CHECK
# among its findings.
set -u

expect=""
if [ "${1:-}" = "--expect" ]; then
  expect="$2"
  shift 2
fi
if [ $# -ne 3 ]; then
  echo "usage: check_tidy.sh [--expect CHECKS] CLANG_TIDY SOURCE_DIR BUILD_DIR|FILE" >&2
  exit 2
fi
tidy="$1"
source_dir="$(cd "$2" && pwd -P)" || exit 2
if ! command -v "$tidy" > /dev/null 2>&1; then
  echo "check_tidy: $tidy not found: install the Debian package clang-tidy (ci/setup.sh)" >&2
  exit 1
fi

# The project's headers count, third-party and system headers do not.
escaped_source="$(printf '%s' "$source_dir" | sed 's/[.[\*^$()+?{|]/\\&/g')"
header_filter="^${escaped_source}/(include/bnconform|core|impl|reference|examples|tests/abi)/"
common=(--quiet "--header-filter=${header_filter}" --extra-arg=-Wno-unknown-warning-option)

if [ -n "$expect" ]; then
  output="$("$tidy" "${common[@]}" "$3" -- -std=c++20 2>&1)"
  status=$?
  echo "$output"
  if [ "$status" -eq 0 ]; then
    echo "check_tidy: $3 passed, but it must fail with: $expect" >&2
    exit 1
  fi
  IFS=',' read -r -a checks <<< "$expect"
  for check in "${checks[@]}"; do
    if ! grep -qF "[$check" <<< "$output"; then
      echo "check_tidy: no finding of $check in $3" >&2
      exit 1
    fi
  done
  echo "check_tidy: $3 fails with ${expect}, as it must"
  exit 0
fi

build_dir="$(cd "$3" && pwd -P)" || exit 2
database="$build_dir/compile_commands.json"
if [ ! -f "$database" ]; then
  echo "check_tidy: $database is missing (CMAKE_EXPORT_COMPILE_COMMANDS)" >&2
  exit 1
fi

files=()
while IFS= read -r line; do
  case "$line" in
    "" | "#"*) continue ;;
  esac
  if ! grep -qF "\"file\": \"$source_dir/$line\"" "$database"; then
    echo "check_tidy: $line (tests/style/clang_tidy_files.txt) is not in $database" >&2
    exit 1
  fi
  files+=("$source_dir/$line")
done < "$source_dir/tests/style/clang_tidy_files.txt"

logs="$(mktemp -d)" || exit 2
trap 'rm -rf "$logs"' EXIT
export tidy build_dir logs
# One log per file, so that the two parallel runs do not interleave their output.
printf '%s\0' "${files[@]}" | xargs -0 -P 2 -I{} bash -c \
  'log="$logs/$(basename "$1").log"; "$tidy" "${@:2}" -p "$build_dir" "$1" > "$log" 2>&1 ||
     echo "$1" >> "$logs/failed"' _ {} "${common[@]}"
cat "$logs"/*.log
if [ -s "$logs/failed" ]; then
  echo "check_tidy: findings in:" >&2
  cat "$logs/failed" >&2
  echo "check_tidy: fix them, or leave a check out in .clang-tidy with the reason" >&2
  exit 1
fi
echo "check_tidy: ${#files[@]} files clean in ${SECONDS} s"
