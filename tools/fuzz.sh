#!/usr/bin/env bash
# ./braid fuzz [--duration D] [NAME...]: fuzzes each Jazzer @FuzzTest of the modules (or those
# whose Class#method contains a NAME) for D each (default 10m; 30s, 2h, ...), one JVM per target:
# Jazzer fuzzes one target per run. A finding fails the run; its input is kept under the test's
# src/test/resources/.../<Class>Inputs/<method>/, where ./braid test replays it from then on.
# The corpus that grows meanwhile stays in <module>/.cifuzz-corpus (not tracked).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
: "${MVN:?run through ./braid fuzz}"

duration=10m
names=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --duration=*) duration="${1#*=}"; shift ;;
    -h | --help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) names+=("$1"); shift ;;
  esac
done

# module<TAB>Class<TAB>method for every @FuzzTest, read from the sources.
targets() {
  (cd "$ROOT" && grep -rl --include='*.java' '@FuzzTest' -- */src/test/java) | sort | while read -r file; do
    module="${file%%/*}"
    class="$(basename "$file" .java)"
    awk '/@FuzzTest/ {want = 1} want && /void [a-zA-Z0-9_]+\(/ {match($0, /void [a-zA-Z0-9_]+\(/); print substr($0, RSTART + 5, RLENGTH - 6); want = 0}' \
      "$ROOT/$file" | while read -r method; do printf '%s\t%s\t%s\n' "$module" "$class" "$method"; done
  done
}

wanted() {
  [[ ${#names[@]} -eq 0 ]] && return 0
  local n
  for n in "${names[@]}"; do [[ "$1" == *"$n"* ]] && return 0; done
  return 1
}

failed=()
total_runs=0
while IFS=$'\t' read -r module class method; do
  wanted "$class#$method" || continue
  log="$ROOT/$module/target/fuzz-$class-$method.log"
  mkdir -p "$(dirname "$log")"
  printf 'braid: fuzzing %s#%s (%s) for %s\n' "$class" "$method" "$module" "$duration" >&2
  status=0
  (cd "$ROOT" && JAZZER_FUZZ=1 MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow" "$MVN" -q -B -o -pl "$module" \
    surefire:test -Dtest="$class#$method" -Dsurefire.failIfNoSpecifiedTests=false \
    -Djazzer.hooks=true -Djazzer.max_duration="$duration" -Djunit.jupiter.execution.timeout.mode=disabled) >"$log" 2>&1 || status=$?
  runs="$(grep -oE 'Done [0-9]+ runs in [0-9]+ second' "$log" | tail -1 | awk '{print $2, $5}')"
  read -r n seconds <<<"${runs:-0 0}"
  total_runs=$((total_runs + n))
  cov="$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$log" | tail -1)"
  if ((status != 0)); then
    failed+=("$class#$method")
    printf '  FINDING after %s runs: %s\n  input kept under %s/src/test/resources (see %s)\n' "$n" \
      "$(grep -m1 -oE 'FuzzTestFinding[^»]*|== Java Exception: .*' "$log" | head -c 300)" "$module" "$log" >&2
  else
    printf '  %s runs in %s s, no finding (%s)\n' "$n" "$seconds" "$cov" >&2
  fi
done < <(targets)

printf 'braid: %d runs in all\n' "$total_runs" >&2
if ((${#failed[@]} > 0)); then
  printf 'braid: findings in %s\n' "${failed[*]}" >&2
  exit 1
fi
