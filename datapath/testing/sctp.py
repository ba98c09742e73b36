#!/usr/bin/env python3
# SCTP INIT chunks over a raw socket, for namespaces on a kernel without the sctp module (a raw
# IPPROTO_SCTP socket needs no module: the datapath only judges the first packet of an association).
#   sctp.py send <src address|-> <dst address> <src port> <dst port>   one INIT, exit 0 once sent
#   sctp.py listen                                                     a JSON line per INIT received:
#                                                                      {"src", "dst", "sport", "dport"}
import json, os, socket, struct, sys

def crc32c(data):
    # RFC 9260 appendix B: CRC32c (Castagnoli), reflected, bitwise (INITs are 32 bytes).
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF

def init_packet(sport, dport):
    tag = struct.unpack('!I', os.urandom(4))[0] or 1
    # INIT: type 1, flags 0, length 20, initiate tag, a_rwnd, outbound/inbound streams, initial TSN
    chunk = struct.pack('!BBHIIHHI', 1, 0, 20, tag, 65535, 1, 1, tag)
    header = struct.pack('!HHII', sport, dport, 0, 0)
    crc = crc32c(header + chunk)
    # The checksum goes in little-endian byte order (RFC 9260 appendix B).
    return struct.pack('!HHI', sport, dport, 0) + struct.pack('<I', crc) + chunk

def send(src, dst, sport, dport):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_SCTP)
    if src != '-':
        s.bind((src, 0))
    s.sendto(init_packet(int(sport), int(dport)), (dst, 0))

def listen():
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_SCTP)
    print(json.dumps({'ready': True}), flush=True)
    while True:
        data = s.recv(65535)
        ihl = (data[0] & 0x0F) * 4
        if len(data) < ihl + 16 or data[ihl + 12] != 1:
            continue  # not an INIT
        sport, dport = struct.unpack('!HH', data[ihl:ihl + 4])
        src, dst = socket.inet_ntoa(data[12:16]), socket.inet_ntoa(data[16:20])
        print(json.dumps({'src': src, 'dst': dst, 'sport': sport, 'dport': dport}), flush=True)

if sys.argv[1] == 'send':
    send(*sys.argv[2:6])
else:
    listen()
