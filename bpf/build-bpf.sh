#!/usr/bin/env bash
# Compiles the eBPF programs (CO-RE) of $3 (default: src/main/c) into $2
# (a resources directory). vmlinux.h comes from the running kernel's BTF and
# is cached in $1.
set -euo pipefail
gen="$1"; out="$2"; srcdir="${3:-src/main/c}"
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$gen" "$out"
btf=/sys/kernel/btf/vmlinux
if [[ ! -r $btf ]]; then
  echo "build-bpf: $btf is missing: the kernel has no BTF (CONFIG_DEBUG_INFO_BTF=y is needed)" >&2
  exit 1
fi
command -v clang >/dev/null || { echo "build-bpf: clang is missing; install it: apt-get install clang" >&2; exit 1; }
command -v bpftool >/dev/null || { echo "build-bpf: bpftool is missing; install it: apt-get install bpftool" >&2; exit 1; }
if [[ ! -s $gen/vmlinux.h || $btf -nt $gen/vmlinux.h ]]; then
  bpftool btf dump file "$btf" format c > "$gen/vmlinux.h.tmp"
  mv "$gen/vmlinux.h.tmp" "$gen/vmlinux.h"
fi
for src in "$here/$srcdir"/*.bpf.c; do
  obj="$out/$(basename "${src%.c}").o"
  if [[ -s $obj && -z "$(find "$here/$srcdir" "$here/src/main/c" "$here/../spec/include" -newer "$obj" -print -quit)" ]]; then
    continue
  fi
  clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror \
    -I"$gen" -I"$here/src/main/c" -I"$here/../spec/include" \
    -c "$src" -o "$obj"
done
