using System.Buffers.Binary;
using System.Net;
using System.Net.NetworkInformation;
using System.Runtime.InteropServices;
using System.Text;
using Trellis.Netlink.Messages;

namespace Trellis.Netlink;

/// <summary>One netlink message inside a received datagram; <see cref="Payload"/> starts at the family struct.</summary>
internal readonly ref struct NetlinkMessage
{
    public NetlinkMessage(ushort type, ushort flags, uint sequence, uint portId, ReadOnlySpan<byte> payload)
    {
        Type = type;
        Flags = flags;
        Sequence = sequence;
        PortId = portId;
        Payload = payload;
    }

    public ushort Type { get; }
    public ushort Flags { get; }
    public uint Sequence { get; }
    public uint PortId { get; }
    public ReadOnlySpan<byte> Payload { get; }
}

/// <summary>Walks the messages of one datagram. Truncated or malformed input ends the walk with an exception, never a read past the end.</summary>
internal ref struct NetlinkMessageReader
{
    private ReadOnlySpan<byte> _rest;

    public NetlinkMessageReader(ReadOnlySpan<byte> datagram)
    {
        _rest = datagram;
        Current = default;
    }

    public NetlinkMessage Current { get; private set; }

    public readonly NetlinkMessageReader GetEnumerator() => this;

    public bool MoveNext()
    {
        if (_rest.Length < Nlmsg.HeaderSize) return false;
        uint length = MemoryMarshal.Read<uint>(_rest);
        if (length < Nlmsg.HeaderSize || length > _rest.Length)
            throw new InvalidDataException($"netlink message length {length} does not fit the {_rest.Length} bytes received");
        Current = new NetlinkMessage(
            MemoryMarshal.Read<ushort>(_rest[4..]),
            MemoryMarshal.Read<ushort>(_rest[6..]),
            MemoryMarshal.Read<uint>(_rest[8..]),
            MemoryMarshal.Read<uint>(_rest[12..]),
            _rest[Nlmsg.HeaderSize..(int)length]);
        _rest = _rest[Math.Min(Nlmsg.Align((int)length), _rest.Length)..];
        return true;
    }
}

/// <summary>One attribute: its type (nested/byte-order flag bits removed) and value.</summary>
internal readonly ref struct NetlinkAttribute
{
    public NetlinkAttribute(ushort type, ReadOnlySpan<byte> value)
    {
        Type = type;
        Value = value;
    }

    public ushort Type { get; }
    public ReadOnlySpan<byte> Value { get; }

    public uint AsUInt32() => Value.Length >= 4 ? MemoryMarshal.Read<uint>(Value) : throw Malformed("u32");
    public ushort AsUInt16BigEndian() => Value.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(Value) : throw Malformed("be16");
    public byte AsUInt8() => Value.Length >= 1 ? Value[0] : throw Malformed("u8");

    public string AsString()
    {
        int end = Value.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end >= 0 ? Value[..end] : Value);
    }

    public IPAddress AsAddress() => Value.Length is 4 or 16 ? new IPAddress(Value) : throw Malformed("address");

    public PhysicalAddress AsPhysicalAddress() => new(Value.ToArray());

    public NetlinkAttributeReader Nested() => new(Value);

    private InvalidDataException Malformed(string what) =>
        new($"netlink attribute {Type} holds {Value.Length} bytes, too few for a {what}");
}

/// <summary>Walks a run of attributes (after a family struct, or inside a nested attribute).</summary>
internal ref struct NetlinkAttributeReader
{
    private ReadOnlySpan<byte> _rest;

    public NetlinkAttributeReader(ReadOnlySpan<byte> attributes)
    {
        _rest = attributes;
        Current = default;
    }

    public NetlinkAttribute Current { get; private set; }

    public readonly NetlinkAttributeReader GetEnumerator() => this;

    public bool MoveNext()
    {
        if (_rest.Length < Nlmsg.AttributeHeaderSize) return false;
        ushort length = MemoryMarshal.Read<ushort>(_rest);
        if (length < Nlmsg.AttributeHeaderSize || length > _rest.Length)
            throw new InvalidDataException($"netlink attribute length {length} does not fit the {_rest.Length} bytes left");
        Current = new NetlinkAttribute(
            (ushort)(MemoryMarshal.Read<ushort>(_rest[2..]) & Nlmsg.NLA_TYPE_MASK),
            _rest[Nlmsg.AttributeHeaderSize..length]);
        _rest = _rest[Math.Min(Nlmsg.Align(length), _rest.Length)..];
        return true;
    }
}
