#!/bin/sh
# Load-test the embedded lab: LAB_SESSIONS simultaneous sessions (default
# 300, a third each SMTP, POP3, IMAP) against one lab on loopback, then the
# per-protocol session benchmarks. Everything stays on 127.0.0.1.
set -eu
cd "$(dirname "$0")/../.."
: "${LAB_SESSIONS:=300}"
export LAB_SESSIONS
echo "== TestLoad: $LAB_SESSIONS simultaneous sessions"
go test -race -count=1 -run '^TestLoad$' -v ./bench/lab/ | grep -E 'sessions|^(ok|FAIL|---)'
echo "== BenchmarkSession"
go test -count=1 -run '^$' -bench 'BenchmarkSession' -benchtime "${BENCHTIME:-2s}" ./bench/lab/
