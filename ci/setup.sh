#!/usr/bin/env bash
# Installs every build and test dependency of bnconform from Debian packages.
# Idempotent: when everything is present it only checks (about a second) and exits.
# Needs root (or sudo) only when something is missing.
set -euo pipefail

required=(
  cmake g++ make ninja-build clang-format
  clang-tidy         # ctest style_clang_tidy (.clang-tidy, tests/style/check_tidy.sh)
  libboost-dev       # Boost.Multiprecision (header-only): the reference's number type
  librapidcheck-dev  # property-based tests
  libgtest-dev libgmock-dev
  libfmt-dev nlohmann-json3-dev libcli11-dev libbenchmark-dev
  libssl-dev         # SHA-256 checksums of golden files (OpenSSL's libcrypto)
)
optional=(
  libdnnl-dev        # oneDNN: a peer kernel to certify and race
  libtorch-dev       # libtorch (ATen): a peer kernel to certify and race
  libonnx-dev libprotobuf-dev  # golden import-onnx: ONNX's generated protobuf classes
  libonnx-testdata   # ONNX's BatchNormalization node tests (the onnx profile's pin)
  python3-numpy      # golden/load_golden.py under ctest; numpy arrays of the bnconform module
  python3-dev pybind11-dev  # the bnconform Python module and the python: kernel host (python/, impl/python/)
  python3-pytest     # the Python tests (tests/python, ctest label python)
  python3-torch      # PyTorch from Python behind the python: host (impl/python/kernels)
  clang-14 libclang-rt-14-dev  # the fuzz preset (libFuzzer, ASan, UBSan runtimes); not built in CI
  chromium           # ctest -L browser: certify's report.html rendered headless
  libopenmpi-dev openmpi-bin  # certify --ranks: SyncBatchNorm across processes (ctest -L mpi)
)

missing=()
for pkg in "${required[@]}" "${optional[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#required[@]} required and ${#optional[@]} optional packages are installed"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then sudo=(); elif command -v sudo >/dev/null; then sudo=(sudo); else
  echo "setup: missing packages (${missing[*]}) and not root; run this script as root" >&2
  exit 1
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
# Required packages must install; optional peers may be unavailable on some mirrors.
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${required[@]}"
for pkg in "${optional[@]}"; do
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "$pkg" ||
    echo "setup: optional package $pkg could not be installed; what needs it is switched off or skipped" >&2
done
