#!/usr/bin/env bash
# Installs the build tree into a scratch prefix, builds the consumer project
# against it with find_package(minivmm), and runs it on a test guest kernel.
# Usage: check_package.sh BUILD_DIR SOURCE_DIR KERNEL EXPECTED_OUTPUT
set -euo pipefail
build=$1 src=$2 kernel=$3 expected=$4
scratch=$build/package-check
rm -rf "$scratch"
cmake --install "$build" --prefix "$scratch/prefix" >/dev/null
cmake -S "$src/tests/package" -B "$scratch/build" -G Ninja -DCMAKE_PREFIX_PATH="$scratch/prefix" >/dev/null
cmake --build "$scratch/build" >/dev/null
got=$("$scratch/build/consumer" "$kernel")
if [ "$got" != "$expected" ]; then
  echo "consumer printed '$got', expected '$expected'" >&2
  exit 1
fi
echo "find_package(minivmm) consumer: $got"
