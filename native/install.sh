#!/bin/sh
# npm's install hook: builds the eBPF addon when the toolchain is here. Without it, one line says what is
# missing and the install still succeeds: the router and the rule engine work without kernel capture.
set -u
missing=""
# llvm-strip is optional (build-bpf.sh only drops DWARF with it); node-gyp needs make, a C compiler and python3.
for tool in clang bpftool make cc python3; do
  command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
[ -f /usr/include/bpf/libbpf.h ] || missing="$missing libbpf-dev"
[ -f /usr/include/libelf.h ] || missing="$missing libelf-dev"
[ -f /usr/include/zlib.h ] || missing="$missing zlib1g-dev"
[ -s "${PEREGRINE_BTF:-/sys/kernel/btf/vmlinux}" ] || missing="$missing kernel-BTF(${PEREGRINE_BTF:-/sys/kernel/btf/vmlinux})"
if [ -n "$missing" ]; then
  echo "peregrine: eBPF addon not built, missing:$missing; kernel capture stays off (install clang libbpf-dev libelf-dev zlib1g-dev bpftool make gcc python3, then npm run build:native)"
  exit 0
fi
log=$(mktemp)
if npm run --silent build:native >"$log" 2>&1; then
  echo "peregrine: eBPF addon built (native/build/Release/peregrine.node)"
else
  # The first compiler or tool error says more than "failed"; the whole log is one npm run build:native away.
  why=$(grep -m1 -iE 'error|not found|No such file' "$log" | cut -c1-200)
  echo "peregrine: eBPF addon build failed${why:+ ($why)}; kernel capture stays off (npm run build:native shows the whole log)"
fi
rm -f "$log"
exit 0
