#!/bin/sh
# Run the DNS benchmarks of diag/mx and print their figures.
#
#   BenchmarkLookupDomains: full MX pictures (MX, A/AAAA, PTR, FCrDNS, SPF
#     with one include, DMARC, MTA-STS, TLS-RPT, TLSA) of 1,000 generated
#     domains against an in-process DNS server on 127.0.0.1, 32 domains at a
#     time: "domains/s".
#   BenchmarkSlowHosts: one domain with five MX hosts whose answers each take
#     200 ms: total time as a multiple of one delay, "x_delay" (goal < 1.5).
#
# Usage: bench/dns/run.sh [COUNT]   (COUNT runs of each, default 3)
set -eu
cd "$(dirname "$0")/../.."
count=${1:-3}
out=$(go test -run='^$' -bench='^Benchmark(LookupDomains|SlowHosts)$' -benchtime=1x -count="$count" ./diag/mx)
echo "$out" | grep -E '^(cpu|Benchmark)'
echo "$out" | awk '
	/BenchmarkLookupDomains/ { for (i = 1; i <= NF; i++) if ($(i+1) == "domains/s") { d += $i; nd++ } }
	/BenchmarkSlowHosts/     { for (i = 1; i <= NF; i++) if ($(i+1) == "x_delay")   { x += $i; nx++ } }
	END {
		if (nd) printf "1,000 domains: %.0f domains/s (mean of %d runs)\n", d / nd, nd
		if (nx) printf "5 slow MX hosts: %.2fx one 200 ms delay (mean of %d runs; goal < 1.5)\n", x / nx, nx
		if (!nd || !nx) exit 1
	}'
