#!/bin/sh
# Builds the BPF object and its libbpf skeleton into $1 (default: native/build/gen):
#   vmlinux.h (bpftool, from the running kernel's BTF) -> peregrine.bpf.o (clang -target bpf) -> peregrine.skel.h
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/build/gen}
mkdir -p "$out"
btf=${PEREGRINE_BTF:-/sys/kernel/btf/vmlinux}
if [ ! -s "$out/vmlinux.h" ]; then
  bpftool btf dump file "$btf" format c > "$out/vmlinux.h.tmp"
  mv "$out/vmlinux.h.tmp" "$out/vmlinux.h"
fi
arch=$(uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
clang -target bpf -D__TARGET_ARCH_$arch -O2 -g -Wall -Werror=implicit-function-declaration -Wno-unused-function \
  -I"$out" -I"$here" -c "$here/peregrine.bpf.c" -o "$out/peregrine.bpf.o"
llvm-strip -g "$out/peregrine.bpf.o" 2>/dev/null || true
bpftool gen skeleton "$out/peregrine.bpf.o" name peregrine_bpf > "$out/peregrine.skel.h.tmp"
mv "$out/peregrine.skel.h.tmp" "$out/peregrine.skel.h"
