#!/usr/bin/env bash
# Builds braid's release: braid-VERSION-linux-amd64.tar.gz, which runs on a host that has only a
# kernel with BTF and glibc (a jlink'd Java runtime, braid's jar, libbpf and the libraries it
# needs, the example Go programs of the demo and the conformance suite), and, with --image, an
# OCI image of it built FROM scratch (no base image is pulled), saved as braid-VERSION-oci.tar.
#
#   dist/release.sh VERSION OUT_DIR [--image]      (JAVA_HOME: a JDK 25)
set -euo pipefail
version=$1 out=$2 image=${3:-}
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jar="$root/daemon/target/braid.jar"
examples="$root/examples/target/bin"
name="braid-$version-linux-amd64"
stage="$out/$name"
say() { echo "braid dist: $*" >&2; }

[[ -f $jar ]] || { say "no $jar: build first (./braid build)"; exit 2; }
[[ -x ${JAVA_HOME:-}/bin/jlink ]] || { say "JAVA_HOME (${JAVA_HOME:-unset}) has no jlink: a full JDK 25 is needed"; exit 2; }
rm -rf "$stage" && mkdir -p "$stage/bin" "$stage/lib/native" "$stage/examples" "$stage/licenses"

# Only the JDK modules braid's classes and libraries use (jdeps), and TLS's elliptic curves for
# collectors behind https.
modules="$("$JAVA_HOME/bin/jdeps" --print-module-deps --ignore-missing-deps --multi-release 25 "$jar"),jdk.crypto.ec"
say "linking a Java runtime of $modules"
"$JAVA_HOME/bin/jlink" --add-modules "$modules" --strip-debug --no-man-pages --no-header-files --compress=zip-6 --output "$stage/runtime"

cp "$jar" "$stage/lib/braid.jar"
cp "$root/dist/bin/braid" "$stage/bin/"
cp "$root/dist/jvm.options" "$stage/lib/"
# libbpf and every library it links but glibc's own (libelf, zlib, and libzstd where libelf
# links it), with their licences: a host needs no libbpf package.
libbpf="$(/sbin/ldconfig -p | awk '$1 == "libbpf.so.1" && /x86-64/ { print $NF }' | head -1 || true)"
[[ -n $libbpf ]] || { say "libbpf.so.1 not found: apt-get install libbpf1"; exit 2; }
glibc='^(libc|libm|libdl|libpthread|librt|ld-linux-x86-64)\.so'
for path in "$libbpf" $(ldd "$libbpf" | awk '/=>/ && $3 ~ /^\// { print $3 }'); do
  lib="$(basename "$path")"
  [[ $lib =~ $glibc ]] && continue
  cp -L "$path" "$stage/lib/native/$lib"
  real="$(readlink -f "$path")"
  pkg="$( (dpkg -S "$real" || dpkg -S "*/$(basename "$real")") 2>/dev/null | head -1 | cut -d: -f1 || true)"
  [[ -n $pkg && -f /usr/share/doc/$pkg/copyright ]] || { say "no licence file for $lib (package '${pkg:-?}'): it must ship with its notice"; exit 2; }
  cp "/usr/share/doc/$pkg/copyright" "$stage/licenses/$pkg.copyright"
done
for p in shop grpcshop loadgen grpcload pinned; do
  [[ -x $examples/$p ]] || { say "no $examples/$p: build the examples first (./braid build)"; exit 2; }
  cp "$examples/$p" "$stage/examples/"
done
cp "$root/README.md" "$stage/"
tar -C "$out" -czf "$out/$name.tar.gz" "$name"
say "wrote $out/$name.tar.gz ($(du -h "$out/$name.tar.gz" | cut -f1))"

[[ $image == --image ]] || exit 0
# The image: the release under /opt/braid and the glibc files its ELF objects load, nothing else.
ctx="$out/image" rootfs="$out/image/rootfs"
rm -rf "$ctx" && mkdir -p "$rootfs/opt" "$rootfs/tmp" && chmod 1777 "$rootfs/tmp"
cp -a "$stage" "$rootfs/opt/braid"
# Their ELF files' dependencies, but not those of the AWT and sound libraries that java.desktop
# brings and braid never loads (X11, ALSA); ldd fails on the scripts among the files, which is fine.
deps="$(find "$stage" -type f \( -name '*.so*' -o -perm -u+x \) ! -regex '.*/lib\(awt\|splashscreen\|jsound\|fontmanager\|lcms\|javajpeg\|mlib\|jawt\).*' -print0 |
  xargs -0 ldd 2>/dev/null | awk '/=>/ && $3 ~ /^\// { print $3 } /^\t\/lib/ { print $1 }' | grep -v "^$stage" | sort -u || true)"
for dep in $deps; do
  mkdir -p "$rootfs$(dirname "$dep")" && cp -L "$dep" "$rootfs$dep"
done
cp "$root/dist/Containerfile" "$ctx/"
say "building the image braid:$version (FROM scratch)"
podman build -q -t "localhost/braid:$version" "$ctx" >/dev/null
rm -f "$out/braid-$version-oci.tar"
podman save -q --format oci-archive -o "$out/braid-$version-oci.tar" "localhost/braid:$version"
say "wrote $out/braid-$version-oci.tar (podman load -i / docker load -i it)"
