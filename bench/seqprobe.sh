#!/bin/bash
# The by-hand procedure, scripted: ask DNS for a domain's MX hosts, then
# for each host in turn its address and the SMTP greeting (read the 220
# line, say QUIT). Usage: bench/seqprobe.sh DOMAIN DNS_HOST DNS_PORT SMTP_PORT
set -eu
domain=$1 dns=$2 dport=$3 port=$4
for h in $(dig +short @"$dns" -p "$dport" MX "$domain" | sort -n | awk '{print $2}'); do
	a=$(dig +short @"$dns" -p "$dport" A "$h" | head -1)
	exec 3<>"/dev/tcp/$a/$port"
	IFS= read -r -t 10 line <&3
	case $line in 220*) ;; *) echo "no greeting from $h ($a): $line" >&2; exit 1 ;; esac
	printf 'QUIT\r\n' >&3
	IFS= read -r -t 10 line <&3 || true
	exec 3<&- 3>&-
done
