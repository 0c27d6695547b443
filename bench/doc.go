// Package bench holds the zone data shared by the benchmark programs under
// bench/ (the peers test that starts NSD and Postfix, and the mfbench
// program that measures mailflow against them). The benchmarks themselves
// are run by bench/run.sh; nothing here runs in a plain "go test ./...":
// TestServePeers skips unless bench/run.sh asks for it.
//
// The zones are written for NSD, the DNS server of internal/realpeers, and
// follow RFC 1035 (zone file syntax, MX, A, AAAA, PTR and TXT records) and
// RFC 5321 §5.1 (what a sender asks: MX, then each exchanger's addresses).
package bench
