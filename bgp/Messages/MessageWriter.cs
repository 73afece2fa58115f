using System.Buffers.Binary;

namespace Trellis.Bgp.Messages;

/// <summary>A growing big-endian buffer with length fields filled in afterwards.</summary>
internal sealed class MessageWriter
{
    private byte[] _buffer = new byte[64];

    public int Length { get; private set; }

    public void Byte(byte value) => Span(1)[0] = value;

    public void UInt16(ushort value) => BinaryPrimitives.WriteUInt16BigEndian(Span(2), value);

    public void UInt32(uint value) => BinaryPrimitives.WriteUInt32BigEndian(Span(4), value);

    public void Bytes(ReadOnlySpan<byte> value) => value.CopyTo(Span(value.Length));

    public int Reserve8()
    {
        Byte(0);
        return Length - 1;
    }

    public int Reserve16()
    {
        UInt16(0);
        return Length - 2;
    }

    public void Patch8(int at, int value, string field)
    {
        if (value > byte.MaxValue) throw new InvalidOperationException($"{field} of {value} octets does not fit one octet");
        _buffer[at] = (byte)value;
    }

    public void Patch16(int at, ushort value) => BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(at), value);

    public ReadOnlySpan<byte> AsSpan() => _buffer.AsSpan(0, Length);

    public byte[] ToArray() => _buffer.AsSpan(0, Length).ToArray();

    private Span<byte> Span(int size)
    {
        if (Length + size > _buffer.Length) Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, Length + size));
        var span = _buffer.AsSpan(Length, size);
        Length += size;
        return span;
    }
}
