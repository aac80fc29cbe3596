#!/bin/bash
# Regenerates the captures whose frames the codec tests paste as hex fixtures (CONVENTIONS rule 10).
# Needs root, iproute2, iputils ping, socat, ethtool and dumpcap; the tests themselves need none of them.
# Topology (only 10.77.x.x, only in namespaces this script creates and deletes):
#   nlfx1 v1 10.77.9.1/24 --- v2 10.77.9.2/24 nlfx2 (router) v3 10.77.10.1/24 mtu 1280 --- v4 10.77.10.2/24 nlfx3
# Checksum offload is turned off so that UDP checksums on the wire are complete, not CHECKSUM_PARTIAL.
set -euo pipefail
out=${1:-.}
cleanup() { for n in nlfx1 nlfx2 nlfx3; do ip netns del $n 2>/dev/null || true; done; }
trap cleanup EXIT
for n in nlfx1 nlfx2 nlfx3; do ip netns add $n; done
ip link add v1 netns nlfx1 address 02:4e:4c:09:00:01 type veth peer name v2 netns nlfx2 address 02:4e:4c:09:00:02
ip link add v3 netns nlfx2 address 02:4e:4c:0a:00:01 type veth peer name v4 netns nlfx3 address 02:4e:4c:0a:00:02
ip -n nlfx1 addr add 10.77.9.1/24 dev v1
ip -n nlfx2 addr add 10.77.9.2/24 dev v2
ip -n nlfx2 addr add 10.77.10.1/24 dev v3
ip -n nlfx3 addr add 10.77.10.2/24 dev v4
ip -n nlfx2 link set v3 mtu 1280
ip -n nlfx3 link set v4 mtu 1280
for n in nlfx1 nlfx2 nlfx3; do ip -n $n link set lo up; done
ip -n nlfx1 link set v1 up; ip -n nlfx2 link set v2 up; ip -n nlfx2 link set v3 up; ip -n nlfx3 link set v4 up
ip -n nlfx1 route add 10.77.10.0/24 via 10.77.9.2
ip -n nlfx3 route add 10.77.9.0/24 via 10.77.10.1
ip netns exec nlfx2 sysctl -qw net.ipv4.ip_forward=1
for x in "nlfx1 v1" "nlfx2 v2" "nlfx2 v3" "nlfx3 v4"; do set -- $x; ip netns exec $1 ethtool -K $2 tx off rx off >/dev/null; done

# linux-codecs.pcap: ARP request/reply, echo request/reply, time exceeded, frag needed, UDP, port unreachable.
ip netns exec nlfx1 dumpcap -q -i v1 -f "not ip6" -w "$out/linux-codecs.pcap" -P & cap=$!
sleep 2
ip netns exec nlfx1 ping -c1 -W1 10.77.9.2                      # ARP first, then echo request/reply
ip netns exec nlfx1 ping -c1 -W1 -t 1 10.77.10.2 || true        # TTL 1 through the router: time exceeded
ip netns exec nlfx1 ping -c1 -W1 -M do -s 1400 10.77.10.2 || true   # DF over the 1280 hop: frag needed
ip netns exec nlfx2 socat -u UDP-RECV:7777 - >/dev/null & rcv=$!
sleep 0.5
ip netns exec nlfx1 bash -c 'echo hi | socat - UDP:10.77.9.2:7777,sourceport=40000'
ip netns exec nlfx1 bash -c 'echo hi > /dev/udp/10.77.9.2/9'   # nobody listens: port unreachable
sleep 1; kill $rcv; kill $cap; wait $cap || true

# linux-ipv4-options-fragments.pcap: record-route echo (IHL 15) and a 1600-byte echo in two fragments.
ip netns exec nlfx1 dumpcap -q -i v1 -f "not ip6" -w "$out/linux-ipv4-options-fragments.pcap" -P & cap=$!
sleep 2
ip netns exec nlfx1 ping -c1 -W1 -R 10.77.9.2
ip netns exec nlfx1 ping -c1 -W1 -s 1600 -M dont 10.77.9.2
sleep 1; kill $cap; wait $cap || true
