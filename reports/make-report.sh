#!/usr/bin/env bash
# Makes the test reports, offline, from what the build prepared:
#   * reports/target/allure-report/index.html  Allure HTML report (one self-contained
#     file, opens from disk) of the autotest harness's Allure results;
#   * reports/target/summary.md                one-page Markdown summary of
#     autotest-summary.json: pass/fail/skip per case with reason, time of each phase.
#
# usage: reports/make-report.sh [allure-results-dir] [summary-json]
#   defaults: <root>/target/allure-results and <root>/target/autotest-summary.json
# A missing input is skipped with a message (exit 0). Exit 99 if a report
# cannot be made, 2 on a usage error.
set -uo pipefail
here=$(dirname "$(readlink -f "$0")")
root=$(readlink -f "$here/..")
if [ $# -gt 2 ] || [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
  echo "usage: $0 [allure-results-dir] [summary-json]" >&2
  exit 2
fi
results=${1:-$root/target/allure-results}
summary_json=${2:-$root/target/autotest-summary.json}
out=$here/target
allure=$(ls -d "$out"/allure-commandline/allure-*/bin/allure 2>/dev/null | head -1)
jar=$(ls "$out"/reports-*.jar 2>/dev/null | head -1)

# The tools come from the build (the Allure command line is unpacked from
# Maven Central's zip by maven-dependency-plugin); nothing is fetched here.
if [ -z "$allure" ] || [ -z "$jar" ] || [ ! -d "$out/lib" ]; then
  echo "reports: building the report tools (mvn -pl reports package)"
  if ! mvn -B -q -f "$root/pom.xml" -pl reports -DskipTests package; then
    echo "reports: cannot build the report tools" >&2
    exit 99
  fi
  allure=$(ls -d "$out"/allure-commandline/allure-*/bin/allure | head -1)
  jar=$(ls "$out"/reports-*.jar | head -1)
fi
cp="$jar:$out/lib/*"
rc=0

if [ -d "$results" ] && compgen -G "$results/*-result.json" > /dev/null; then
  report=$out/allure-report
  if "$allure" generate --clean --single-file "$results" -o "$report" > "$out/allure-generate.log" 2>&1 \
     && java -cp "$cp" org.dmtcpng.reports.allure.SingleFileReport "$report/index.html"; then
    echo "reports: HTML report $report/index.html"
  else
    echo "reports: allure generate failed on $results (log: $out/allure-generate.log)" >&2
    rc=99
  fi
else
  echo "reports: no Allure results in $results, HTML report skipped"
fi

if [ -f "$summary_json" ]; then
  java -cp "$cp" org.dmtcpng.reports.SummaryMain "$summary_json" "$out/summary.md" || rc=99
else
  echo "reports: no $summary_json, Markdown summary skipped"
fi
exit $rc
