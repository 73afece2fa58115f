#!/usr/bin/env python3
"""Splits the BGP messages out of a pcap (Ethernet, IPv4/IPv6, TCP port 179) and writes each
sender's distinct messages, in the order first sent, as <sender>.txt: one message a line,
"<TYPE> <receiver> <hex>". Usage: extract.py capture.pcap outdir ADDRESS=NAME..."""
import ipaddress
import struct
import sys

TYPES = {1: "OPEN", 2: "UPDATE", 3: "NOTIFICATION", 4: "KEEPALIVE", 5: "ROUTE-REFRESH"}


def packets(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    if linktype != 1:
        raise SystemExit(f"link type {linktype}: only Ethernet captures are read")
    offset = 24
    while offset + 16 <= len(data):
        _, _, caplen, _ = struct.unpack(endian + "IIII", data[offset:offset + 16])
        yield data[offset + 16:offset + 16 + caplen]
        offset += 16 + caplen


def segments(path):
    for frame in packets(path):
        ethertype = struct.unpack(">H", frame[12:14])[0]
        ip = frame[14:]
        if ethertype == 0x0800:
            header = (ip[0] & 0x0F) * 4
            total = struct.unpack(">H", ip[2:4])[0]
            proto, src, dst = ip[9], ipaddress.ip_address(ip[12:16]), ipaddress.ip_address(ip[16:20])
            tcp = ip[header:total]
        elif ethertype == 0x86DD:
            length = struct.unpack(">H", ip[4:6])[0]
            proto, src, dst = ip[6], ipaddress.ip_address(ip[8:24]), ipaddress.ip_address(ip[24:40])
            tcp = ip[40:40 + length]
        else:
            continue
        if proto != 6:
            continue
        sport, dport, seq = struct.unpack(">HHI", tcp[:8])
        flags = tcp[13]
        payload = tcp[(tcp[12] >> 4) * 4:]
        yield (str(src), sport, str(dst), dport), seq, flags, payload


def streams(path):
    """Per direction and connection, the byte stream in sequence order, retransmissions dropped."""
    found = {}
    for key, seq, flags, payload in segments(path):
        stream = found.setdefault(key, {"start": None, "parts": {}, "order": len(found)})
        if flags & 0x02:  # SYN
            stream["start"] = (seq + 1) & 0xFFFFFFFF
        if payload:
            stream["parts"].setdefault(seq, payload)
    for key, stream in sorted(found.items(), key=lambda kv: kv[1]["order"]):
        if stream["start"] is None or not stream["parts"]:
            continue
        data, expected = bytearray(), stream["start"]
        for seq in sorted(stream["parts"], key=lambda s: (s - stream["start"]) & 0xFFFFFFFF):
            part = stream["parts"][seq]
            skip = (expected - seq) & 0xFFFFFFFF
            if skip < len(part):
                data += part[skip:]
                expected = (expected + len(part) - skip) & 0xFFFFFFFF
        yield key, bytes(data)


def messages(data):
    offset = 0
    while offset + 19 <= len(data):
        if data[offset:offset + 16] != b"\xff" * 16:
            raise SystemExit("stream lost BGP framing")
        length = struct.unpack(">H", data[offset + 16:offset + 18])[0]
        if offset + length > len(data):
            break
        yield data[offset:offset + length]
        offset += length


def main():
    path, outdir, *names = sys.argv[1:]
    name_of = dict(n.split("=", 1) for n in names)
    written = {}
    for (src, _, dst, _), data in streams(path):
        sender = name_of.get(src)
        if sender is None:
            continue
        lines, seen = written.setdefault(sender, ([], set()))
        for message in messages(data):
            if message in seen:
                continue
            seen.add(message)
            lines.append(f"{TYPES.get(message[18], message[18])} {dst} {message.hex()}")
    for sender, (lines, _) in written.items():
        with open(f"{outdir}/{sender}.txt", "w") as f:
            f.write(f"# BGP messages sent by {sender}, captured by capture.sh; one a line: TYPE RECEIVER HEX\n")
            f.write("\n".join(lines) + "\n")
        print(f"{sender}: {len(lines)} distinct messages")


main()
