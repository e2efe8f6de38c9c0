#!/usr/bin/env bash
# test/fuzz/run.sh -- fuzz the HTTP request parser with libFuzzer, under
# AddressSanitizer and UndefinedBehaviorSanitizer, for a bounded time.
#
#   bash test/fuzz/run.sh [SECONDS]     (default 30)
#
# Exits non-zero on a crash, a sanitizer report or a broken promise (the
# target aborts); the input that did it is left in the work directory.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
secs=${1:-30}
clang=$(command -v clang || command -v clang-14 || true)
[ -n "$clang" ] || { echo "fuzz: clang is not installed (apt-get install clang)" >&2; exit 1; }
work=$(mktemp -d /tmp/pg_health_fuzz.XXXXXX)
cp "$here"/corpus/* "$work/"
"$clang" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-I "$root/src" "$here/fuzz_http.c" "$root/src/doors/http/http_parse.c" -o "$work/fuzz_http"
cd "$work"
if ./fuzz_http -max_total_time="$secs" -max_len=8192 -print_final_stats=1 "$work" >"$work/log" 2>&1; then
	echo "fuzz: $(grep -o 'stat::number_of_executed_units: *[0-9]*' log | grep -o '[0-9]*$') inputs in ${secs} s, no crash, no sanitizer report"
	rm -rf "$work"
else
	tail -40 "$work/log" >&2
	echo "fuzz: FAILED; inputs and log kept in $work" >&2
	exit 1
fi
