using System.Runtime.InteropServices;

namespace Trellis.Netlink.Messages;

/// <summary>struct ifinfomsg (16 bytes).</summary>
internal readonly record struct IfInfoMessage(byte Family, ushort DeviceType, int Index, uint Flags, uint Change)
{
    public const int Size = 16;

    public void WriteTo(NetlinkMessageWriter writer)
    {
        var span = writer.Reserve(Size);
        span[0] = Family;
        MemoryMarshal.Write(span[2..], DeviceType);
        MemoryMarshal.Write(span[4..], Index);
        MemoryMarshal.Write(span[8..], Flags);
        MemoryMarshal.Write(span[12..], Change);
    }

    public static IfInfoMessage Read(ReadOnlySpan<byte> payload) => payload.Length < Size
        ? throw new InvalidDataException($"ifinfomsg needs {Size} bytes, got {payload.Length}")
        : new(payload[0], MemoryMarshal.Read<ushort>(payload[2..]), MemoryMarshal.Read<int>(payload[4..]),
            MemoryMarshal.Read<uint>(payload[8..]), MemoryMarshal.Read<uint>(payload[12..]));
}

/// <summary>struct ifaddrmsg (8 bytes).</summary>
internal readonly record struct IfAddrMessage(byte Family, byte PrefixLength, byte Flags, byte Scope, int Index)
{
    public const int Size = 8;

    public void WriteTo(NetlinkMessageWriter writer)
    {
        var span = writer.Reserve(Size);
        span[0] = Family;
        span[1] = PrefixLength;
        span[2] = Flags;
        span[3] = Scope;
        MemoryMarshal.Write(span[4..], Index);
    }

    public static IfAddrMessage Read(ReadOnlySpan<byte> payload) => payload.Length < Size
        ? throw new InvalidDataException($"ifaddrmsg needs {Size} bytes, got {payload.Length}")
        : new(payload[0], payload[1], payload[2], payload[3], MemoryMarshal.Read<int>(payload[4..]));
}

/// <summary>struct rtmsg (12 bytes).</summary>
internal readonly record struct RouteMessage(byte Family, byte DestinationLength, byte SourceLength, byte Tos,
    byte Table, byte Protocol, byte Scope, byte Type, uint Flags)
{
    public const int Size = 12;

    public void WriteTo(NetlinkMessageWriter writer)
    {
        var span = writer.Reserve(Size);
        span[0] = Family;
        span[1] = DestinationLength;
        span[2] = SourceLength;
        span[3] = Tos;
        span[4] = Table;
        span[5] = Protocol;
        span[6] = Scope;
        span[7] = Type;
        MemoryMarshal.Write(span[8..], Flags);
    }

    public static RouteMessage Read(ReadOnlySpan<byte> payload) => payload.Length < Size
        ? throw new InvalidDataException($"rtmsg needs {Size} bytes, got {payload.Length}")
        : new(payload[0], payload[1], payload[2], payload[3], payload[4], payload[5], payload[6], payload[7],
            MemoryMarshal.Read<uint>(payload[8..]));
}

/// <summary>struct ndmsg (12 bytes).</summary>
internal readonly record struct NeighborMessage(byte Family, int Index, ushort State, byte Flags, byte Type)
{
    public const int Size = 12;

    public void WriteTo(NetlinkMessageWriter writer)
    {
        var span = writer.Reserve(Size);
        span[0] = Family;
        MemoryMarshal.Write(span[4..], Index);
        MemoryMarshal.Write(span[8..], State);
        span[10] = Flags;
        span[11] = Type;
    }

    public static NeighborMessage Read(ReadOnlySpan<byte> payload) => payload.Length < Size
        ? throw new InvalidDataException($"ndmsg needs {Size} bytes, got {payload.Length}")
        : new(payload[0], MemoryMarshal.Read<int>(payload[4..]), MemoryMarshal.Read<ushort>(payload[8..]), payload[10], payload[11]);
}
