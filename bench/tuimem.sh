#!/bin/bash
# Peak memory of the real full-screen program holding a long transcript.
#
#   bench/tuimem.sh MAILFLOW_BINARY MFBENCH_BINARY [ENTRIES]
#
# Writes a JSON-lines transcript of ENTRIES (default 1,000,000) generated
# SMTP entries ("mfbench jsonl", the format of the TUI's export and the
# journal), opens it with "mailflow replay" under /usr/bin/time -v in a
# detached tmux session of 80x24, waits for the first frame (the help
# line's "t timestamps"), waits until the last entry is read (the
# file is read while the view is shown), moves to the end of the transcript (G: the
# newest lines rendered too), and quits with q. Prints the file's size,
# the time to the first frame (exec to frame on screen, polled every
# 10 ms with capture-pane) and the maximum resident set size.
set -eu
mf=$1 mfb=$2 n=${3:-1000000}
W=$(mktemp -d /tmp/mftuimem.XXXXXX)
T="tmux -S $W/tmux.sock"
cleanup() { $T kill-server 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT INT TERM

"$mfb" jsonl -entries "$n" -out "$W/t.jsonl" >/dev/null
bytes=$(stat -c %s "$W/t.jsonl")
# Read the file once so that the page cache, not the disk, is measured.
cat "$W/t.jsonl" >/dev/null

$T new-session -d -s mf -x 80 -y 24 \
	"read -r _ </dev/tty; exec env HOME=$W XDG_STATE_HOME=$W/state XDG_CONFIG_HOME=$W/cfg TERM=xterm-256color /usr/bin/time -v -o $W/time.out $mf replay $W/t.jsonl"
screen() { $T capture-pane -p -t mf; }
$T send-keys -t mf Enter
start=$(date +%s%N)
i=0
until screen | grep -q 't timestamps'; do
	i=$((i + 1))
	if [ $i -gt 6000 ]; then
		screen >&2
		echo "tuimem: no first frame after 60 s" >&2
		exit 1
	fi
	sleep 0.01
done
first=$((($(date +%s%N) - start) / 1000000))
# The file is read while the view is shown: wait for the last entry.
i=0
until screen | grep -q "Transcript [0-9]*/$n\b"; do
	i=$((i + 1))
	if [ $i -gt 12000 ]; then
		screen >&2
		echo "tuimem: the pane does not hold $n entries after 120 s" >&2
		exit 1
	fi
	sleep 0.01
done
loaded=$((($(date +%s%N) - start) / 1000000))
$T send-keys -t mf G
sleep 1
screen | grep -q "Transcript $n/$n" || { screen >&2; echo "tuimem: G did not reach entry $n" >&2; exit 1; }
$T send-keys -t mf q
i=0
until grep -q 'Maximum resident' "$W/time.out" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 300 ] || { echo "tuimem: mailflow did not quit" >&2; exit 1; }
	sleep 0.1
done
rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$W/time.out")
awk -v n="$n" -v b="$bytes" -v f="$first" -v l="$loaded" -v r="$rss" 'BEGIN {
	printf "ENTRIES=%d FILE_MB=%.1f FIRST_FRAME_MS=%d LOADED_MS=%d MAX_RSS_MB=%.1f RSS_BYTES_PER_ENTRY=%.0f\n", n, b / 1048576, f, l, r / 1024, r * 1024 / n }'
