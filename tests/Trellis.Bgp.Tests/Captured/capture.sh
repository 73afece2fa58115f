#!/usr/bin/env bash
# Captures BGP messages from FRR, BIRD 2 and GoBGP 3 talking to each other, once, for the
# codec's byte-for-byte fixtures. Run as root on a machine with frr, bird2, gobgpd and tcpdump:
#   bash tests/Trellis.Bgp.Tests/Captured/capture.sh
# It builds three router namespaces on a switch namespace (never the root namespace), lets
# every pair peer over IPv4 and IPv6 (graceful restart on, 4-octet AS on GoBGP), announces,
# withdraws, asks for route refresh, shuts sessions down and peers once with a wrong AS, all
# while tcpdump records the switch; extract.py then writes each router's messages as hex.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d /tmp/bgp-capture.XXXXXX)
chmod 755 "$tmp"
ns=(cap$$-sw cap$$-frr cap$$-bird cap$$-gobgp)
cleanup() {
  for n in "${ns[@]}"; do
    for pid in $(ip netns pids "$n" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    ip netns del "$n" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
for n in "${ns[@]}"; do ip netns add "$n"; ip -n "$n" link set lo up; done
ip -n "${ns[0]}" link add br0 type bridge
ip -n "${ns[0]}" link set br0 up
i=0
for n in "${ns[@]:1}"; do
  i=$((i + 1))
  ip -n "$n" link add eth0 type veth peer name leg$i netns "${ns[0]}"
  ip -n "${ns[0]}" link set leg$i master br0
  ip -n "${ns[0]}" link set leg$i up
  ip -n "$n" addr add 10.99.0.$i/24 dev eth0
  ip -n "$n" addr add fd99::$i/64 dev eth0 nodad
  ip -n "$n" link set eth0 up
done

ip netns exec "${ns[0]}" tcpdump -i br0 -U -s 0 -w "$tmp/bgp.pcap" 'tcp port 179' 2>"$tmp/tcpdump.log" &
sleep 1

# FRR 65001: IPv4 with MED/communities on one prefix; IPv6 over MP-BGP; configured with a
# wrong AS for GoBGP's IPv6 session, so it refuses it with "Bad Peer AS".
mkdir -p "$tmp/frr"
cat >"$tmp/frr/bgpd.conf" <<CONF
frr defaults datacenter
hostname frr
log file $tmp/frr/bgpd.log
route-map ATTRS permit 10
 set metric 50
 set community 65001:100 no-export
 set large-community 65001:1:2
router bgp 65001
 bgp router-id 10.99.0.1
 no bgp ebgp-requires-policy
 no bgp network import-check
 bgp graceful-restart
 neighbor 10.99.0.2 remote-as 65002
 neighbor 10.99.0.3 remote-as 4200000003
 neighbor fd99::2 remote-as 65002
 neighbor fd99::3 remote-as 65099
 address-family ipv4 unicast
  network 10.50.1.0/24
  network 10.50.2.0/24 route-map ATTRS
  no neighbor fd99::2 activate
  no neighbor fd99::3 activate
 exit-address-family
 address-family ipv6 unicast
  network fd50:1::/64
  network fd50:2::/48
  neighbor fd99::2 activate
  neighbor fd99::3 activate
 exit-address-family
CONF
for p in 10.99.0.2 10.99.0.3 fd99::2 fd99::3; do
  sed -i "/^ neighbor $p remote-as/a\\ neighbor $p timers 1 3\\n neighbor $p timers connect 1" "$tmp/frr/bgpd.conf"
done
touch "$tmp/frr/zebra.conf"
chown -R frr:frr "$tmp/frr"
frr=(-u frr -g frr -z "$tmp/frr/zserv.api" --vty_socket "$tmp/frr" -P 0 -d)
ip netns exec "${ns[1]}" /usr/lib/frr/zebra "${frr[@]}" -i "$tmp/frr/zebra.pid" -f "$tmp/frr/zebra.conf"
ip netns exec "${ns[1]}" /usr/lib/frr/bgpd "${frr[@]}" -i "$tmp/frr/bgpd.pid" -f "$tmp/frr/bgpd.conf"
vty() { vtysh --vty_socket "$tmp/frr" "$@"; }

# BIRD 65002: static routes, one with MED and a community, re-exported to the others.
mkdir -p "$tmp/bird"
cat >"$tmp/bird/bird.conf" <<CONF
router id 10.99.0.2;
protocol device { }
protocol static s4 { ipv4; route 10.60.1.0/24 blackhole; route 10.60.2.0/25 blackhole { bgp_med = 20; bgp_community.add((65002,7)); }; }
protocol static s6 { ipv6; route fd60:1::/64 blackhole; route fd60:2::/56 blackhole; }
template bgp peer { hold time 3; keepalive time 1; connect retry time 1; graceful restart on; }
protocol bgp frr4 from peer { local 10.99.0.2 as 65002; neighbor 10.99.0.1 as 65001; ipv4 { import all; export all; }; }
protocol bgp gobgp4 from peer { local 10.99.0.2 as 65002; neighbor 10.99.0.3 as 4200000003; ipv4 { import all; export all; }; }
protocol bgp frr6 from peer { local fd99::2 as 65002; neighbor fd99::1 as 65001; ipv6 { import all; export all; }; }
protocol bgp gobgp6 from peer { local fd99::2 as 65002; neighbor fd99::3 as 4200000003; ipv6 { import all; export all; }; }
CONF
ip netns exec "${ns[2]}" bird -c "$tmp/bird/bird.conf" -s "$tmp/bird/bird.ctl" -P "$tmp/bird/bird.pid"
birdc() { command birdc -s "$tmp/bird/bird.ctl" "$@"; }

# GoBGP 4200000003 (a 4-octet AS, so its OPEN carries AS_TRANS).
mkdir -p "$tmp/gobgp"
{
  printf '[global.config]\n  as = 4200000003\n  router-id = "10.99.0.3"\n'
  for p in 10.99.0.1:65001:ipv4-unicast 10.99.0.2:65002:ipv4-unicast fd99::1:65001:ipv6-unicast fd99::2:65002:ipv6-unicast; do
    family=${p##*:}; rest=${p%:*}; as=${rest##*:}; address=${rest%:*}
    printf '[[neighbors]]\n  [neighbors.config]\n    neighbor-address = "%s"\n    peer-as = %s\n' "$address" "$as"
    printf '  [neighbors.timers.config]\n    connect-retry = 1\n    hold-time = 3\n    keepalive-interval = 1\n'
    printf '  [neighbors.graceful-restart.config]\n    enabled = true\n    restart-time = 30\n'
    printf '  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = "%s"\n' "$family"
    printf '    [neighbors.afi-safis.mp-graceful-restart.config]\n      enabled = true\n'
  done
} >"$tmp/gobgp/gobgpd.toml"
ip netns exec "${ns[3]}" gobgpd -f "$tmp/gobgp/gobgpd.toml" --api-hosts 127.0.0.1:50051 --pprof-disable >"$tmp/gobgp/gobgpd.log" 2>&1 &
gobgp() { ip netns exec "${ns[3]}" /usr/bin/gobgp "$@"; }

sleep 8
gobgp global rib add 10.70.1.0/24 -a ipv4
gobgp global rib add 10.70.2.0/24 -a ipv4 med 30 community 4200:3
gobgp global rib add fd70:1::/64 -a ipv6
sleep 3
echo "--- established"
vty -c 'show bgp summary'
birdc show protocols
gobgp neighbor

# Withdrawals, IPv4 and MP_UNREACH.
vty -c 'conf t' -c 'router bgp 65001' -c 'address-family ipv4 unicast' -c 'no network 10.50.1.0/24' \
    -c 'exit-address-family' -c 'address-family ipv6 unicast' -c 'no network fd50:1::/64'
birdc disable s6
gobgp global rib del 10.70.1.0/24 -a ipv4
gobgp global rib del fd70:1::/64 -a ipv6
sleep 3
# ROUTE-REFRESH from each.
vty -c 'clear bgp ipv4 unicast 10.99.0.2 soft in'
birdc reload in gobgp4
gobgp neighbor 10.99.0.1 softresetin
sleep 2
# NOTIFICATIONs: administrative shutdowns (FRR with an RFC 8203 message) and reset.
vty -c 'conf t' -c 'router bgp 65001' -c 'neighbor 10.99.0.2 shutdown message maintenance'
birdc disable gobgp4
gobgp neighbor 10.99.0.1 reset
sleep 2
kill %1
wait %1 2>/dev/null || true
python3 "$here/extract.py" "$tmp/bgp.pcap" "$here" \
  10.99.0.1=frr-8.4.4 fd99::1=frr-8.4.4 10.99.0.2=bird-2.0.12 fd99::2=bird-2.0.12 10.99.0.3=gobgp-3.10.0 fd99::3=gobgp-3.10.0
