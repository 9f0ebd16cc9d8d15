#!/usr/bin/env bash
# compare-setup-cpu.sh BASE [ROUNDS] — CPU per full inbound call set-up
# (enter, greet, route, ring the agent, answer, bridge, hang up, log:
# center BenchmarkCallSetup1000, 1,000 concurrent calls through engine,
# ARI adapter and simulator over loopback TCP), this checkout against
# commit BASE, side by side: the two test binaries run in turns, ROUNDS
# times each (default 5), and the process CPU (user + system, from
# /usr/bin/time) is divided by the calls. Prints each run and the ratio
# of the medians. Needs /usr/bin/time (Debian package time).
set -euo pipefail
base=${1:?usage: $0 BASE_COMMIT [ROUNDS]}
rounds=${2:-5}
iters=2 # loadRun iterations of 1,000 calls per run
root=$(git rev-parse --show-toplevel)
tmp=$(mktemp -d)
cleanup() { git -C "$root" worktree remove --force "$tmp/base" >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT
git -C "$root" worktree add -q --detach "$tmp/base" "$base"
(cd "$tmp/base" && go test -c -o "$tmp/base.test" ./center)
(cd "$root" && go test -c -o "$tmp/head.test" ./center)
for i in $(seq "$rounds"); do
	for v in base head; do
		(cd "$root/center" && /usr/bin/time -f "$v %U %S" -a -o "$tmp/times" \
			"$tmp/$v.test" -test.run '^$' -test.bench 'CallSetup1000$' -test.benchtime "${iters}x" >"$tmp/$v.$i.out")
		grep -h 'setups/s' "$tmp/$v.$i.out" | sed "s/^/$v: /"
	done
done
awk -v calls=$((iters * 1000)) '
	{ cpu[$1] = cpu[$1] " " ($2 + $3) * 1000 / calls }
	END {
		for (v in cpu) {
			n = split(substr(cpu[v], 2), a, " ")
			for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
			med[v] = (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
			printf "%s: CPU ms per call set-up:%s (median %.3f)\n", v, cpu[v], med[v]
		}
		printf "head/base: %.2f\n", med["head"] / med["base"]
	}' "$tmp/times"
