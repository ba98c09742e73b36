#!/usr/bin/env python3
# One ICMP (v4) or ICMPv6 echo over a raw socket, for pods without ping(8):
#   ping.py <address> <identifier> <timeout seconds>   -> exit 0 on a matching reply, 1 otherwise
import socket, struct, sys, time

addr, ident, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
v6 = ':' in addr

def checksum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff

req_type, rep_type = (128, 129) if v6 else (8, 0)
sock = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP)
payload = b'weft'
hdr = struct.pack('!BBHHH', req_type, 0, 0, ident, 1)
# The kernel computes the ICMPv6 checksum (it covers a pseudo header); ICMPv4 needs ours.
pkt = hdr + payload if v6 else struct.pack('!BBHHH', req_type, 0, checksum(hdr + payload), ident, 1) + payload
sock.sendto(pkt, (addr, 0))
deadline = time.time() + timeout
while time.time() < deadline:
    sock.settimeout(max(0.01, deadline - time.time()))
    try:
        data, _ = sock.recvfrom(2048)
    except socket.timeout:
        break
    icmp = data if v6 else data[(data[0] & 0x0f) * 4:]
    t, _, _, i, _ = struct.unpack('!BBHHH', icmp[:8])
    if t == rep_type and i == ident:
        sys.exit(0)
sys.exit(1)
