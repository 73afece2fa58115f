using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Trellis.Netlink.Messages;

/// <summary>
/// Reads and writes the fixed family headers as the kernel lays them out: each header is a blittable
/// struct in the C declaration's order (padding named), copied whole, never assembled byte by byte.
/// </summary>
internal static class FamilyHeader
{
    public static void Write<T>(NetlinkMessageWriter writer, in T header) where T : unmanaged =>
        MemoryMarshal.Write(writer.Reserve(Unsafe.SizeOf<T>()), in header);

    public static T Read<T>(ReadOnlySpan<byte> payload, string name) where T : unmanaged =>
        payload.Length < Unsafe.SizeOf<T>()
            ? throw new InvalidDataException($"{name} needs {Unsafe.SizeOf<T>()} bytes, got {payload.Length}")
            : MemoryMarshal.Read<T>(payload);
}

/// <summary>struct ifinfomsg (16 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly struct IfInfoMessage(byte family, ushort deviceType, int index, uint flags, uint change)
{
    public static readonly int Size = Unsafe.SizeOf<IfInfoMessage>();

    public readonly byte Family = family;
    private readonly byte _pad;
    public readonly ushort DeviceType = deviceType;
    public readonly int Index = index;
    public readonly uint Flags = flags;
    public readonly uint Change = change;

    public void WriteTo(NetlinkMessageWriter writer) => FamilyHeader.Write(writer, in this);

    public static IfInfoMessage Read(ReadOnlySpan<byte> payload) => FamilyHeader.Read<IfInfoMessage>(payload, "ifinfomsg");
}

/// <summary>struct ifaddrmsg (8 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly struct IfAddrMessage(byte family, byte prefixLength, byte flags, byte scope, int index)
{
    public static readonly int Size = Unsafe.SizeOf<IfAddrMessage>();

    public readonly byte Family = family;
    public readonly byte PrefixLength = prefixLength;
    public readonly byte Flags = flags;
    public readonly byte Scope = scope;
    public readonly int Index = index;

    public void WriteTo(NetlinkMessageWriter writer) => FamilyHeader.Write(writer, in this);

    public static IfAddrMessage Read(ReadOnlySpan<byte> payload) => FamilyHeader.Read<IfAddrMessage>(payload, "ifaddrmsg");
}

/// <summary>struct rtmsg (12 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly struct RouteMessage(byte family, byte destinationLength, byte sourceLength, byte tos,
    byte table, byte protocol, byte scope, byte type, uint flags)
{
    public static readonly int Size = Unsafe.SizeOf<RouteMessage>();

    public readonly byte Family = family;
    public readonly byte DestinationLength = destinationLength;
    public readonly byte SourceLength = sourceLength;
    public readonly byte Tos = tos;
    public readonly byte Table = table;
    public readonly byte Protocol = protocol;
    public readonly byte Scope = scope;
    public readonly byte Type = type;
    public readonly uint Flags = flags;

    public void WriteTo(NetlinkMessageWriter writer) => FamilyHeader.Write(writer, in this);

    public static RouteMessage Read(ReadOnlySpan<byte> payload) => FamilyHeader.Read<RouteMessage>(payload, "rtmsg");
}

/// <summary>struct ndmsg (12 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly struct NeighborMessage(byte family, int index, ushort state, byte flags, byte type)
{
    public static readonly int Size = Unsafe.SizeOf<NeighborMessage>();

    public readonly byte Family = family;
    private readonly byte _pad1;
    private readonly ushort _pad2;
    public readonly int Index = index;
    public readonly ushort State = state;
    public readonly byte Flags = flags;
    public readonly byte Type = type;

    public void WriteTo(NetlinkMessageWriter writer) => FamilyHeader.Write(writer, in this);

    public static NeighborMessage Read(ReadOnlySpan<byte> payload) => FamilyHeader.Read<NeighborMessage>(payload, "ndmsg");
}
