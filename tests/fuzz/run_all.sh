#!/usr/bin/env bash
# Run every atheris target (or those named) for SECONDS each (default 60) and print
# "target runs" per line. Crash inputs land in fixtures/fuzz-regressions/.
#   tests/fuzz/run_all.sh                 # all targets, 60 s each
#   SECONDS_EACH=10 tests/fuzz/run_all.sh unix filter
set -u
cd "$(dirname "$0")/../.."
py=${PYTHON:-$(python3 tests/check.py --print-venv)/bin/python}  # default: tests/check.py's venv
each=${SECONDS_EACH:-60}
if [ "$#" -gt 0 ]; then list=("$@"); else mapfile -t list < <("$py" tests/fuzz/fuzz_procnet.py --list); fi
status=0
for t in "${list[@]}"; do
    log=$(mktemp)
    "$py" tests/fuzz/fuzz_procnet.py "$t" -max_total_time="$each" -max_len=20000 -timeout=20 -artifact_prefix="${TMPDIR:-/tmp}/" >"$log" 2>&1
    rc=$?
    runs=$(grep -o 'Done [0-9]* runs' "$log" | tail -1 | awk '{print $2}')
    printf '%-28s rc=%d runs=%s\n' "$t" "$rc" "${runs:-?}"
    if [ "$rc" != 0 ]; then status=1; grep -E 'Error|Traceback|crash input|File "' "$log" | tail -12; fi
    rm -f "$log"
done
exit $status
