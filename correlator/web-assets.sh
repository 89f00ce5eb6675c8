#!/usr/bin/env bash
# Puts the report's JavaScript libraries into OUT/dev/braid/correlator/report/web: the npm
# registry's tarballs of the versions pinned below, checked against their sha512 integrity,
# cached in ~/.cache/braid/npm. report.html embeds them (and their licences), so that it opens
# offline.
#   correlator/web-assets.sh OUT
set -euo pipefail
out="$1/dev/braid/correlator/report/web"
cache="${BRAID_CACHE:-$HOME/.cache/braid}/npm"
mkdir -p "$out" "$cache"

# name version integrity files-to-take (from the package directory)
assets=(
  "d3 7.9.2 sha512-ZKb/mONPVKzaO5UlcWcwN8bS4ezvQaYu+bsou+XgNABdGC800kwH651ADTbbTxMPHW13UlvbQafdmJQDk1w7Mg== dist/d3.min.js LICENSE"
  "d3-flame-graph 5.0.0 sha512-ALZQ4at8Dex8HCoj9D5p5TY6gLNEc2vAZAy+NKO/6GLEfhYJmGxYuRClO6RPoplndyOHxQTPipdlGeMggkjtnQ== dist/d3-flamegraph.umd.min.js dist/d3-flamegraph.css LICENSE"
)
for a in "${assets[@]}"; do
  read -r name version integrity files <<<"$a"
  tgz="$cache/$name-$version.tgz"
  if [[ ! -s $tgz ]]; then
    curl -fsSL --retry 3 -o "$tgz.part" "https://registry.npmjs.org/$name/-/$name-$version.tgz" ||
      { echo "web-assets: cannot download $name $version from registry.npmjs.org" >&2; exit 1; }
    mv "$tgz.part" "$tgz"
  fi
  actual="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
  [[ $actual == "$integrity" ]] || { rm -f "$tgz"; echo "web-assets: $name $version does not match its integrity ($actual)" >&2; exit 1; }
  tmp="$(mktemp -d)"
  tar -xzf "$tgz" -C "$tmp"
  for f in $files; do
    base="$(basename "$f")"
    [[ $base == LICENSE ]] && base="LICENSE.$name"
    cp "$tmp/package/$f" "$out/$base"
  done
  rm -rf "$tmp"
done
