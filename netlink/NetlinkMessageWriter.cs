using System.Buffers.Binary;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using Trellis.Netlink.Messages;

namespace Trellis.Netlink;

/// <summary>
/// Builds netlink messages: a header, a fixed family struct, then attributes, each padded to
/// 4 bytes, nested ones by Begin/End. Several messages may follow one another in the buffer so
/// a batch goes to the kernel in one send. Values are host byte order except where the kernel
/// wants network order (ports), which has its own method.
/// </summary>
internal sealed class NetlinkMessageWriter
{
    private byte[] _buffer;
    private int _length;
    private int _messageStart = -1;

    public NetlinkMessageWriter(int capacity = 256) => _buffer = new byte[capacity];

    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);

    public int Length => _length;

    public int MessageCount { get; private set; }

    public void Clear()
    {
        _length = 0;
        _messageStart = -1;
        MessageCount = 0;
    }

    public void BeginMessage(ushort type, ushort flags, uint sequence)
    {
        if (_messageStart >= 0) throw new InvalidOperationException("previous message not ended");
        _messageStart = _length;
        var header = Reserve(Nlmsg.HeaderSize);
        MemoryMarshal.Write(header[4..], in type);
        MemoryMarshal.Write(header[6..], in flags);
        MemoryMarshal.Write(header[8..], in sequence);
    }

    public void EndMessage()
    {
        if (_messageStart < 0) throw new InvalidOperationException("no message begun");
        uint length = (uint)(_length - _messageStart);
        MemoryMarshal.Write(_buffer.AsSpan(_messageStart), in length);
        _messageStart = -1;
        MessageCount++;
    }

    /// <summary>Room for a fixed struct (ifinfomsg, rtmsg, ...), zeroed, padded to 4 bytes.</summary>
    public Span<byte> Reserve(int size)
    {
        int padded = Nlmsg.Align(size);
        EnsureCapacity(padded);
        var span = _buffer.AsSpan(_length, padded);
        span.Clear();
        _length += padded;
        return span[..size];
    }

    public void Attribute(ushort type, ReadOnlySpan<byte> value)
    {
        var span = Reserve(Nlmsg.AttributeHeaderSize + value.Length);
        WriteAttributeHeader(span, (ushort)(Nlmsg.AttributeHeaderSize + value.Length), type);
        value.CopyTo(span[Nlmsg.AttributeHeaderSize..]);
    }

    public void AttributeUInt8(ushort type, byte value) => Attribute(type, [value]);

    public void AttributeUInt32(ushort type, uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        MemoryMarshal.Write(bytes, in value);
        Attribute(type, bytes);
    }

    public void AttributeUInt16BigEndian(ushort type, ushort value)
    {
        Span<byte> bytes = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, value);
        Attribute(type, bytes);
    }

    public void AttributeAddress(ushort type, IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        if (!address.TryWriteBytes(bytes, out int written)) throw new InvalidOperationException($"cannot encode {address}");
        Attribute(type, bytes[..written]);
    }

    /// <summary>A string attribute; names (IFLA_IFNAME) carry the terminating zero, kinds do not, as iproute2 sends them.</summary>
    public void AttributeString(ushort type, string value, bool zeroTerminated = true)
    {
        int count = Encoding.UTF8.GetByteCount(value);
        var span = Reserve(Nlmsg.AttributeHeaderSize + count + (zeroTerminated ? 1 : 0));
        WriteAttributeHeader(span, (ushort)span.Length, type);
        Encoding.UTF8.GetBytes(value, span[Nlmsg.AttributeHeaderSize..]);
    }

    /// <summary>Opens a nested attribute; pass the returned token to <see cref="EndNested"/>.</summary>
    public int BeginNested(ushort type)
    {
        int start = _length;
        WriteAttributeHeader(Reserve(Nlmsg.AttributeHeaderSize), 0, type);
        return start;
    }

    public void EndNested(int token)
    {
        ushort length = (ushort)(_length - token);
        MemoryMarshal.Write(_buffer.AsSpan(token), in length);
    }

    private static void WriteAttributeHeader(Span<byte> span, ushort length, ushort type)
    {
        MemoryMarshal.Write(span, in length);
        MemoryMarshal.Write(span[2..], in type);
    }

    private void EnsureCapacity(int extra)
    {
        if (_length + extra <= _buffer.Length) return;
        Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + extra));
    }
}
