#!/bin/sh
# Run every mailflow performance comparison on loopback and print one
# markdown results table (paste it into README.md "## Performance").
#
#   bench/run.sh            (as root: Postfix and NSD need it; ~10 minutes)
#
# It installs missing Debian packages, builds mailflow and bench/mfbench
# once, starts Postfix+Dovecot and NSD through internal/realpeers
# (bench/peers_test.go, stopped at exit), and runs each side of a
# comparison alternately several times, reporting medians and ratios.
# Nothing leaves 127.0.0.0/8. RUNS (default 15) sets hyperfine's runs.
set -eu
cd "$(dirname "$0")/.."
RUNS=${RUNS:-15}

pkgs=""
need() { command -v "$1" >/dev/null 2>&1 || pkgs="$pkgs $2"; }
need hyperfine hyperfine; need swaks swaks; need dig dnsutils; need postfix postfix
need dovecot dovecot-core; need nsd nsd; need script bsdutils; need python3 python3
need tmux tmux
[ -x /usr/bin/time ] || pkgs="$pkgs time"
[ -x /usr/sbin/dovecot ] && [ -e /usr/lib/dovecot/imap ] || pkgs="$pkgs dovecot-imapd dovecot-pop3d"
if [ -n "$pkgs" ]; then
	echo "installing:$pkgs" >&2
	apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs >&2
fi

W=$(mktemp -d /tmp/mfbench.XXXXXX)
load0=$(cut -d' ' -f1-3 /proc/loadavg)
log() { echo "-- $*" >&2; }
log "work directory $W"
go build -o "$W/mailflow" ./cmd/mailflow
go build -o "$W/mfbench" ./bench/mfbench
MF="$W/mailflow"

peers=""
slow=""
cleanup() {
	touch "$W/env.stop"
	[ -n "$slow" ] && kill "$slow" 2>/dev/null
	[ -n "$peers" ] && wait "$peers" 2>/dev/null
	true
}
trap cleanup EXIT INT TERM
MFBENCH_PEERS_ENV="$W/env" MFBENCH_PEERS_MAX=15m go test -count=1 -timeout 20m \
	-run '^TestServePeers$' -v ./bench/ >"$W/peers.log" 2>&1 &
peers=$!
i=0
while [ ! -f "$W/env" ]; do
	i=$((i + 1))
	if [ $i -gt 240 ] || ! kill -0 "$peers" 2>/dev/null; then
		cat "$W/peers.log" >&2
		echo "real peers did not start" >&2
		exit 1
	fi
	sleep 0.5
done
. "$W/env"
log "Postfix $MF_SMTP, NSD $MF_NSD"

rows="$W/rows.md"
: >"$rows"
row() { printf '| %s | %s | %s | %s | %s |\n' "$1" "$2" "$3" "$4" "$5" >>"$rows"; }
# medians FILE.json: the medians of a hyperfine JSON export, in ms, one a line.
medians() { python3 -c 'import json,sys; [print("%.1f" % (r["median"]*1000)) for r in json.load(open(sys.argv[1]))["results"]]' "$1"; }
# vals CMD...: the values of CMD's KEY=VALUE output, one a line; FAILED
# (and CMD's error on stderr) when it fails.
vals() { "$@" >"$W/vals.out" || { echo "FAILED: $*" >&2; echo FAILED; return 0; }; tr ' ' '\n' <"$W/vals.out" | cut -d= -f2; }
ratio() { python3 -c 'import sys; print("%.2f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$1" "$2"; }

# 1. A full SMTP transaction with STARTTLS: mailflow check against swaks.
log "1. mailflow check vs swaks ($RUNS runs each)"
check="$MF check --server $MF_SMTP --tls starttls --ca-file $MF_CA --from $MF_FROM --to $MF_RCPT --send"
swaks="swaks --server $MF_SMTP_HOST --port $MF_SMTP_PORT --tls --tls-verify --tls-ca-path $MF_CA --from $MF_FROM --to $MF_RCPT"
hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$W/smtp.json" "$check" "$swaks" >&2
set -- $(medians "$W/smtp.json")
row "1. SMTP transaction, STARTTLS, DATA (wall time per run)" "mailflow check: $1 ms" "swaks: $2 ms" "$(ratio "$1" "$2")" "≤ 0.50"
set -- $("$W/mfbench" stall -server "$MF_SMTP" -ca-file "$MF_CA" -to "$MF_RCPT" -n 20 | tr ' ' '\n' | cut -d= -f2)
row "1b. EHLO after STARTTLS stalled ≥ 30 ms (delayed ACK)" "$2 of $1 runs" "" "" "0"

# 2. Round trips with and without PIPELINING, 20 ms added per round trip.
log "2. round trips (latency proxy, 20 ms RTT)"
"$W/mfbench" rtt -server "$MF_SMTP" -ca-file "$MF_CA" -to "$MF_RCPT" -nopipe-source "$MF_NOPIPE_SOURCE" -rtt 20ms -runs 7 >"$W/rtt.md"
grep '^| PIPELINING' "$W/rtt.md" | while IFS='|' read -r _ name trips limit med r _; do
	row "2. $(echo $name), 20 ms RTT: time vs round trips × RTT" "$(echo $med)" "$(echo $trips) round trips = $(echo $limit)" "$(echo $r)" "≤ 1.10"
done

# 3. Five MX hosts, each greeting after 200 ms, every one probed.
log "3. five slow MX hosts"
"$W/mfbench" slowmx -hosts 5 -delay 200ms -for 5m >"$W/slow.out" 2>"$W/slow.err" &
slow=$!
i=0
until grep -q PORT= "$W/slow.out" 2>/dev/null; do i=$((i + 1)); [ $i -lt 100 ] || { cat "$W/slow.err" >&2; exit 1; }; sleep 0.1; done
SP=$(sed -n 's/^PORT=//p' "$W/slow.out")
seq="bench/seqprobe.sh $MF_SLOW_DOMAIN $MF_NSD_HOST $MF_NSD_PORT $SP"
if "$MF" check --help 2>&1 | grep -q -- --all-mx; then
	allmx="$MF check $MF_SLOW_DOMAIN --all-mx --port $SP --resolver $MF_NSD --timeout 30s"
	hyperfine -N --warmup 1 --runs 7 --export-json "$W/mx.json" "$allmx" "$seq" >&2
	set -- $(medians "$W/mx.json")
	row "3. 5 MX hosts greeting after 200 ms, all probed" "mailflow --all-mx: $1 ms ($(ratio "$1" 200) delays)" "dig + /dev/tcp, one by one: $2 ms ($(ratio "$2" 200) delays)" "$(ratio "$1" "$2")" "< 1.5 delays"
else
	hyperfine -N --warmup 1 --runs 7 --export-json "$W/mx.json" "$seq" >&2
	set -- $(medians "$W/mx.json")
	row "3. 5 MX hosts greeting after 200 ms, all probed" "TODO: mailflow check has no --all-mx yet" "dig + /dev/tcp, one by one: $1 ms" "" "< 1.5 delays"
fi
kill "$slow" 2>/dev/null; wait "$slow" 2>/dev/null || true; slow=""

# 4. DNS: full MX pictures of 1,000 domains against dig asking the same.
log "4. DNS, 1,000 domains"
set -- $("$W/mfbench" dns -domains 1000 -runs 3 | tr ' ' '\n' | cut -d= -f2)
# DOMAINS QUESTIONS SERVER MEDIAN_MS RATE DIG_MEDIAN_MS DIG_RATE
row "4. DNS picture of 1,000 domains ($2 questions), in-process server" "mailflow: $5 domains/s" "dig -f, same questions: $7 domains/s" "$(ratio "$5" "$7") × the rate" "faster than dig"
# 4c. The same against NSD (internal/realpeers, response-rate limiting
# off), the real server the other rows use.
set -- $(vals "$W/mfbench" dns -server "$MF_NSD" -domains "$MF_DOMAINS" -runs 3)
row "4c. the same against NSD (realpeers, RRL off; $2 questions)" "mailflow: $5 domains/s" "dig -f, same questions: $7 domains/s" "$(ratio "$5" "$7") × the rate" "faster than dig"
if [ -x bench/dns/run.sh ]; then
	bench/dns/run.sh 1 2>&1 | grep -E '^(1,000|5 slow)' | while IFS= read -r l; do row "4b. bench/dns/run.sh (diag/mx benchmarks)" "$l" "" "" ""; done
fi

# 5. Lab capacity (bench/lab/run.sh, by the lab's engineer).
log "5. lab"
if [ -x bench/lab/run.sh ]; then
	timeout 240 env BENCHTIME=1s bench/lab/run.sh >"$W/lab.out" 2>&1 || true
	grep -E 'sessions|ns/op' "$W/lab.out" | sed 's/[[:space:]]\+/ /g' | head -8 | while IFS= read -r l; do row "5. lab (bench/lab/run.sh)" "$l" "" "" ""; done
else
	row "5. lab capacity" "TODO: bench/lab/run.sh not present" "" "" ""
fi

# 6. TUI frame time (tui/bench_test.go and tui/bench_root_test.go, by the
# TUI's engineer): a burst of 1,000 lines while following, through the
# root model's Update and View on a real store, and the transcript pane
# alone. The appends are outside the timed part (b.StopTimer).
log "6. TUI"
if timeout 300 go test -run '^$' -bench 'Root|Transcript' -benchmem -benchtime 20x ./tui/ >"$W/tui.out" 2>&1; then
	grep '^Benchmark' "$W/tui.out" | grep -v TranscriptMemory | awk '{sub(/-[0-9]+$/, "", $1); printf "%s: %.2f ms, %d B, %d allocs\n", $1, $3/1e6, $5, $7}' | while IFS= read -r l; do row "6. TUI frame (go test -bench 'Root\|Transcript' ./tui)" "$l" "" "" "< 16 ms"; done
else
	row "6. TUI frame time" "TODO: ./tui benchmarks did not build or run ($(head -1 "$W/tui.out"))" "" "" "< 16 ms"
fi
# 6b. What the real program writes to an 80x24 tmux for new lines, and
# when idle (bench/tuibytes.sh).
# FIRST NOOP LINES LINE IDLE_PROMPT IDLE
set -- $(vals bench/tuibytes.sh "$MF")
row "6b. bytes written for one new transcript line at 80x24 (mailflow lab in tmux, raw mode, NOOP + Enter)" "$4 bytes per line ($2 for the $3 lines)" "idle 5 s: $6 bytes; idle 5 s with the prompt focused: $5 bytes; first frame: $1 bytes" "" "idle: 0"
# 6c. Time from exec to the first whole frame in an 80x24 tmux
# (mfbench firstframe), against the bare start of the process.
tenv="env HOME=$W/home XDG_STATE_HOME=$W/state XDG_CONFIG_HOME=$W/cfg TERM=xterm-256color"
"$W/mfbench" jsonl -entries 100 -out "$W/small.jsonl" >/dev/null
hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$W/version.json" "$MF version" >&2
base=$(medians "$W/version.json")
ff() { # LABEL MARKER ARGS...
	local label=$1 marker=$2
	shift 2
	set -- $(vals $tenv "$W/mfbench" firstframe -runs "$RUNS" -marker "$marker" -- "$MF" "$@")
	row "6c. start-up to first frame at 80x24 in tmux: $label" "$2 ms (min $3, max $4)" "process start alone (mailflow version): $base ms" "" "< 150 ms"
}
ff "mailflow (start screen)" "ctrl+c quit"
ff "mailflow lab" "q quit" lab
ff "mailflow --server (Postfix)" "q quit" --server "$MF_SMTP"
ff "mailflow replay (100 entries)" "t timestamps" replay "$W/small.jsonl"

# 7. Memory.
log "7. memory"
/usr/bin/time -v $check >/dev/null 2>"$W/time.out"
rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$W/time.out")
row "7. peak RSS of mailflow check (STARTTLS, DATA)" "$((rss / 1024)) MiB" "" "" ""
set -- $("$W/mfbench" mem -entries 1000000 | tr ' ' '\n' | cut -d= -f2)
row "7b. transcript.Store with 1,000,000 entries" "$3 bytes/entry ($2 MiB heap)" "peak RSS $4 MiB" "" ""
set -- $(vals bench/tuimem.sh "$MF" "$W/mfbench" 1000000)
# ENTRIES FILE_MB FIRST_FRAME_MS MAX_RSS_MB RSS_BYTES_PER_ENTRY
row "7c. TUI holding 1,000,000 lines: mailflow replay of a $2 MB JSON-lines file in tmux, to the last line and out" "peak RSS $4 MiB ($5 bytes/entry)" "first frame after $3 ms" "" ""
"$W/mfbench" jsonl -entries 1000000 -out "$W/big.jsonl" >/dev/null
set -- $(vals "$W/mfbench" replay -in "$W/big.jsonl")
# ENTRIES READ_MS READ_CPU_MS MODEL_FRAME_MS MODEL_FRAME_CPU_MS HEAP_MB HEAP_BYTES_PER_ENTRY PEAK_RSS_AFTER_READ_MB PEAK_RSS_MB
row "7c. the same in one process (mfbench replay): transcript.ReadJSONL, then tui.New + first View" "read $2 ms ($3 ms CPU), model and frame $4 ms ($5 ms CPU); heap $7 bytes/entry; peak RSS $8 MiB after reading, $9 MiB in all" "" "" ""
set -- $(vals "$W/mfbench" replay -onepass -in "$W/big.jsonl")
row "7c. the same with a one-pass reader (mfbench replay -onepass, the proposed fix)" "read $2 ms ($3 ms CPU), model and frame $4 ms ($5 ms CPU); heap $7 bytes/entry; peak RSS $8 MiB after reading, $9 MiB in all" "" "" ""
rm -f "$W/big.jsonl"
pane=$(awk '/^BenchmarkTranscriptMemory/ { for (i = 1; i < NF; i++) if ($(i+1) == "pane-B/entry") print $i }' "$W/tui.out")
row "7c. live session: what the transcript pane adds to the store per entry (BenchmarkTranscriptMemory)" "${pane:-?} bytes/entry" "" "" ""

echo "Machine: $(nproc) CPUs, $(free -h | awk '/^Mem:/ {print $2}') RAM, Linux $(uname -r), $(go version | awk '{print $3}'), load average $load0 at the start and $(cut -d' ' -f1-3 /proc/loadavg) at the end, $(date -u +%Y-%m-%d)"
echo
echo "| Measurement | mailflow | Compared with | Ratio | Goal |"
echo "|---|---|---|---|---|"
cat "$rows"
