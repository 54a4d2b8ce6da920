#!/usr/bin/env bash
# Builds everything and runs every test: the unit tests of every module (Java,
# C under the sanitizers, the TLC model check) through Maven, then ./autotest
# over the whole corpus (./autotest.sh), then the core cases again as an unprivileged user,
# then the reports. Exits non-zero if anything failed.
set -uo pipefail
root=$(dirname "$(readlink -f "$0")")
cd "$root"
scripts/install-deps.sh || exit 99

failed=()
step() { # step NAME CMD...: run a step, remember a failure, go on
  local name=$1; shift
  echo "==== $name: $*"
  local t0=$SECONDS
  if "$@"; then echo "==== $name: ok ($((SECONDS - t0)) s)"
  else echo "==== $name: FAILED ($((SECONDS - t0)) s)"; failed+=("$name"); fi
}

step build-and-unit-tests mvn -B package
if [ -x bin/dmtcp_launch ] && [ -d autotest/target/classes ]; then
  # the unprivileged pass first: the whole corpus's run is the one the summary reports
  step autotest-unprivileged ./autotest.sh -v --as-user dmtcptest --core
  step autotest ./autotest.sh -v
else
  echo "==== autotest: not run, the build did not produce bin/ and the harness"; failed+=(autotest)
fi
[ -x reports/make-report.sh ] && step reports reports/make-report.sh

if [ ${#failed[@]} -gt 0 ]; then
  echo "run-tests: FAILED steps: ${failed[*]}"
  exit 1
fi
echo "run-tests: all steps passed"
