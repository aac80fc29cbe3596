#!/bin/bash
# Regenerates the TCP captures whose frames TcpCodecTests pastes as hex fixtures (CONVENTIONS rule 10).
# Needs root, iproute2, nftables, ethtool, socat, curl, dumpcap, tshark and mergecap; the tests need none of them.
# Topology (only 10.77.x.x, only in namespaces this script creates and deletes):
#   nltcp1 v1 10.77.20.1/24 02:4e:4c:14:00:01 --- v2 10.77.20.2/24 02:4e:4c:14:00:02 nltcp2
# Checksum offload, TSO, GSO and GRO are off on both ends, so every checksum on the wire is complete (not
# CHECKSUM_PARTIAL) and every segment is what tcp_transmit_skb() built: at most one MSS, no super-packets.
# ISNs, timestamp offsets and the losses are random, so a rerun gives other bytes with the same layout.
# Usage: tcp-capture.sh [outdir]; KEEP=1 keeps the full SACK-run captures in the temporary directory.
set -euo pipefail
out=${1:-.}
tmp=$(mktemp -d)
cleanup() { for n in nltcp1 nltcp2; do ip netns del $n 2>/dev/null || true; done; [ -n "${KEEP:-}" ] || rm -rf "$tmp"; }
trap cleanup EXIT
for n in nltcp1 nltcp2; do ip netns add $n; done
ip link add v1 netns nltcp1 address 02:4e:4c:14:00:01 type veth peer name v2 netns nltcp2 address 02:4e:4c:14:00:02
ip -n nltcp1 addr add 10.77.20.1/24 dev v1
ip -n nltcp2 addr add 10.77.20.2/24 dev v2
for x in "nltcp1 v1" "nltcp2 v2"; do
    set -- $x
    ip -n $1 link set lo up
    ip -n $1 link set $2 up
    ip netns exec $1 ethtool -K $2 tx off rx off tso off gso off gro off >/dev/null
done
# Neighbours resolved up front so that no ARP sits between the segments.
ip netns exec nltcp1 ping -c1 -W1 10.77.20.2 >/dev/null

capture() { # netns iface filter file
    ip netns exec $1 dumpcap -q -i $2 -f "$3" -w "$4" -P 2>/dev/null & cap=$!
    sleep 2
}
stop() { sleep 1; kill $cap; wait $cap || true; }
first() { tshark -r "$1" -Y "$2" -T fields -e frame.number 2>/dev/null | head -1; }

# linux-tcp.pcap: a whole connection (SYN, SYN-ACK, ACK, PSH data, FINs) and a RST from a closed port.
capture nltcp1 v1 tcp "$out/linux-tcp.pcap"
ip netns exec nltcp2 socat -u TCP-LISTEN:7777,reuseaddr OPEN:/dev/null & srv=$!
sleep 0.5
# The pause keeps the FIN out of the data segment (otherwise tcp_send_fin() may piggyback it).
ip netns exec nltcp1 bash -c "(printf 'hello\n'; sleep 0.5) | socat -u - TCP:10.77.20.2:7777,sourceport=40001"
wait $srv || true
ip netns exec nltcp1 socat -u /dev/null TCP:10.77.20.2:9,sourceport=40002 2>/dev/null || true   # closed: RST
stop

# linux-tcp-sack.pcap: the receiver's ACKs carrying SACK blocks, under 20% loss on the data path.
# With timestamps (the default) at most 3 blocks fit in 40 bytes of options; without them, 4.
# The loss is an nft rule at the receiver's prerouting hook (numgen random mod 5 == 0: 20% of the data segments),
# because this kernel is built without netem (CONFIG_NET_SCH_NETEM is not set). dumpcap's packet socket sees a
# segment before netfilter drops it, but the filter keeps only the receiver's ACKs. The handshake and the FINs
# carry no payload and are never dropped.
ip netns exec nltcp2 nft -f - <<'NFT'
table ip loss {
    chain pre {
        type filter hook prerouting priority raw;
        ip length > 100 tcp dport 7778 numgen random mod 5 == 0 drop
    }
}
NFT
port=40010
sack_run() { # timestamps file block-counts...: transfers again until an ACK with each block count was seen
    local ts=$1 file=$2; shift 2
    for n in nltcp1 nltcp2; do ip netns exec $n sysctl -qw net.ipv4.tcp_timestamps=$ts; done
    for attempt in 1 2 3 4 5 6 7 8; do
        port=$((port + 1))
        capture nltcp2 v2 "tcp src port 7778" "$file"
        ip netns exec nltcp2 socat -u TCP-LISTEN:7778,reuseaddr OPEN:/dev/null & srv=$!
        sleep 0.5
        ip netns exec nltcp1 bash -c "head -c 1000000 /dev/zero | socat -u - TCP:10.77.20.2:7778,sourceport=$port"
        wait $srv || true
        stop
        local ok=1
        for k in "$@"; do [ -n "$(first "$file" "tcp.options.sack.count == $k")" ] || ok=0; done
        [ $ok = 1 ] && return 0
    done
    echo "no ACK with $* SACK blocks in 8 transfers" >&2; return 1
}
sack_run 1 "$tmp/sack-ts.pcap" 1 3
sack_run 0 "$tmp/sack-nots.pcap" 4
for n in nltcp1 nltcp2; do ip netns exec $n sysctl -qw net.ipv4.tcp_timestamps=1; done
ip netns exec nltcp2 nft delete table ip loss
# Keep the first ACK with one block, and the first with the most blocks each run allows.
a=$(first "$tmp/sack-ts.pcap" "tcp.options.sack.count == 1")
b=$(first "$tmp/sack-ts.pcap" "tcp.options.sack.count == 3")
c=$(first "$tmp/sack-nots.pcap" "tcp.options.sack.count == 4")
tshark -r "$tmp/sack-ts.pcap" -Y "frame.number == $a || frame.number == $b" -w "$tmp/ts.pcap" 2>/dev/null
tshark -r "$tmp/sack-nots.pcap" -Y "frame.number == $c" -w "$tmp/nots.pcap" 2>/dev/null
mergecap -a -F pcap -w "$out/linux-tcp-sack.pcap" "$tmp/ts.pcap" "$tmp/nots.pcap"

# linux-tcp-fastopen.pcap: curl --tcp-fastopen twice (TCP_FASTOPEN_CONNECT). The first SYN asks for a cookie,
# the SYN-ACK carries one, and the second SYN carries the cookie and the request.
# 1027 = 0x403 = TFO_CLIENT_ENABLE | TFO_SERVER_ENABLE | TFO_SERVER_WO_SOCKOPT1 (socat's listener sets no TCP_FASTOPEN).
ip netns exec nltcp2 sysctl -qw net.ipv4.tcp_fastopen=1027
printf 'HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n' > "$tmp/resp"
capture nltcp1 v1 "tcp port 8080" "$out/linux-tcp-fastopen.pcap"
ip netns exec nltcp2 socat TCP-LISTEN:8080,reuseaddr,fork EXEC:"cat $tmp/resp" & srv=$!
sleep 0.5
ip netns exec nltcp1 curl -s -m 5 --tcp-fastopen --local-port 40005 http://10.77.20.2:8080/ >/dev/null
sleep 0.5
ip netns exec nltcp1 curl -s -m 5 --tcp-fastopen --local-port 40006 http://10.77.20.2:8080/ >/dev/null
stop
kill $srv; wait $srv || true
