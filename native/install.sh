#!/bin/sh
# npm's install hook: builds the eBPF addon when the toolchain is here. Without it, one line says what is
# missing and the install still succeeds: the router and the rule engine work without kernel capture.
set -u
missing=""
for tool in clang llvm-strip bpftool make; do
  command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
[ -f /usr/include/bpf/libbpf.h ] || missing="$missing libbpf-dev"
[ -s "${PEREGRINE_BTF:-/sys/kernel/btf/vmlinux}" ] || missing="$missing kernel-BTF(${PEREGRINE_BTF:-/sys/kernel/btf/vmlinux})"
if [ -n "$missing" ]; then
  echo "peregrine: eBPF addon not built, missing:$missing; kernel capture stays off (install clang llvm libbpf-dev bpftool make, then npm run build:native)"
  exit 0
fi
if npm run --silent build:native >/dev/null 2>&1; then
  echo "peregrine: eBPF addon built (native/build/Release/peregrine.node)"
else
  echo "peregrine: eBPF addon build failed; kernel capture stays off (run npm run build:native to see why)"
fi
exit 0
