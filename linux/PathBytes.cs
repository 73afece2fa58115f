using System.Buffers;
using System.Text;

namespace Trellis.Linux;

/// <summary>A path as the kernel takes it: UTF-8 with a terminating NUL, from a pooled buffer.</summary>
internal readonly ref struct PathBytes
{
    private readonly byte[] _buffer;
    private readonly int _length;

    public PathBytes(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Contains('\0')) throw new ArgumentException($"path \"{path.Replace("\0", "\\0")}\" holds a NUL character", nameof(path));
        _length = Encoding.UTF8.GetByteCount(path) + 1;
        _buffer = ArrayPool<byte>.Shared.Rent(_length);
        Encoding.UTF8.GetBytes(path, _buffer);
        _buffer[_length - 1] = 0;
    }

    public ReadOnlySpan<byte> Span => _buffer.AsSpan(0, _length);

    public void Dispose() => ArrayPool<byte>.Shared.Return(_buffer);
}
