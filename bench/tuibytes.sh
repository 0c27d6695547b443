#!/bin/bash
# What the real full-screen program writes to an 80x24 terminal.
#
#   bench/tuibytes.sh MAILFLOW_BINARY
#
# Runs "mailflow lab" in a detached tmux session of 80x24 whose output
# stream is copied to a file (tmux pipe-pane -O), drives it with
# send-keys, and counts the bytes the program wrote for each step:
#
#   FIRST_FRAME_BYTES  the start-up until the screen settles
#   NOOP_BYTES         raw mode, "NOOP" already typed, then Enter: the
#                      client line and the server's reply (2 new lines)
#   LINE_BYTES         NOOP_BYTES per new transcript line
#   IDLE_PROMPT_BYTES  5 s idle with the raw-mode prompt focused
#   IDLE_BYTES         5 s idle with no prompt focused
#
# A step is over when the file has not grown for 0.5 s. The new lines
# are counted from the transcript pane's title ("Transcript 6/6"), not
# assumed. Nothing leaves 127.0.0.0/8 (the lab listens on loopback).
set -eu
mf=$1
W=$(mktemp -d /tmp/mftuibytes.XXXXXX)
T="tmux -S $W/tmux.sock"
# MFTUIBYTES_KEEP=FILE keeps the stream, and FILE.marks the offsets.
cleanup() {
	$T kill-server 2>/dev/null || true
	if [ -n "${MFTUIBYTES_KEEP:-}" ]; then cp "$out" "$MFTUIBYTES_KEEP" && echo "$marks" >"$MFTUIBYTES_KEEP.marks"; fi
	rm -rf "$W"
}
marks=""
trap cleanup EXIT INT TERM

out="$W/out"
: >"$out"
size() { stat -c %s "$out"; }
# settle: wait until the stream has not grown for 0.5 s (at most 15 s).
settle() {
	local last=-1 same=0 i=0 s
	while [ $same -lt 5 ] && [ $i -lt 150 ]; do
		sleep 0.1
		s=$(size)
		if [ "$s" = "$last" ]; then same=$((same + 1)); else same=0; last=$s; fi
		i=$((i + 1))
	done
}
screen() { $T capture-pane -p -t mf; }
entries() { screen | sed -n 's/.*Transcript [0-9]*\/\([0-9]*\).*/\1/p' | head -1; }
fail() {
	echo "tuibytes: $*" >&2
	screen >&2 || true
	exit 1
}

# The shell waits in "cat" until the pipe is attached, so that not one
# byte of the program's output is missed.
$T new-session -d -s mf -x 80 -y 24 \
	"read -r _ </dev/tty; exec env HOME=$W XDG_STATE_HOME=$W/state XDG_CONFIG_HOME=$W/cfg TERM=xterm-256color COLORTERM=truecolor $mf lab"
$T pipe-pane -O -t mf "cat >>$out"
$T send-keys -t mf Enter
settle
first=$(size)
screen | grep -q 'mailflow lab' || fail "the lab screen did not appear"

# Guided mode: MX lookup, then connect (greeting).
$T send-keys -t mf Enter
settle
$T send-keys -t mf Enter
settle
screen | grep -q 'Connect  220' || fail "no greeting after two steps"

# Idle with nothing focused that blinks.
a=$(size)
sleep 5
idle=$(($(size) - a))

# Raw mode (m twice, leaving the practice prompt with esc between) and
# type NOOP, then measure only the Enter.
$T send-keys -t mf m
settle
$T send-keys -t mf Escape
settle
$T send-keys -t mf m
settle
screen | grep -q 'Wizard \[raw\]' || fail "not in raw mode"
a=$(size)
sleep 5
idleprompt=$(($(size) - a))
$T send-keys -t mf -l NOOP
settle
before=$(entries)
a=$(size)
$T send-keys -t mf Enter
settle
noop=$(($(size) - a))
marks="first=$first noop_start=$a noop_end=$(size)"
after=$(entries)
[ -n "$before" ] && [ -n "$after" ] || fail "no transcript count in the pane title"
lines=$((after - before))
[ "$lines" -gt 0 ] || fail "Enter added no transcript line"
screen | grep -q '250' || fail "no 250 reply to NOOP on screen"
$T send-keys -t mf Escape q
sleep 0.5
echo "FIRST_FRAME_BYTES=$first NOOP_BYTES=$noop LINES=$lines LINE_BYTES=$((noop / lines)) IDLE_PROMPT_BYTES=$idleprompt IDLE_BYTES=$idle"
