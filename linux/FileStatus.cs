using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Trellis.Linux;

/// <summary>
/// The fields of struct stat that Trellis reads. The layout is the kernel's and differs
/// between x86-64 and arm64 (mode and link count swap places and sizes); both are decoded here.
/// </summary>
public readonly record struct FileStatus(ulong Device, ulong Inode, uint Mode, ulong LinkCount, long Size, DateTimeOffset Modified)
{
    /// <summary>Room for struct stat on every supported architecture.</summary>
    public const int BufferSize = 256;

    private const uint TypeMask = 0xF000;

    public bool IsRegularFile => (Mode & TypeMask) == 0x8000;
    public bool IsDirectory => (Mode & TypeMask) == 0x4000;
    public bool IsSymbolicLink => (Mode & TypeMask) == 0xA000;

    public static FileStatus Decode(ReadOnlySpan<byte> stat)
    {
        var arch = RuntimeInformation.ProcessArchitecture;
        if (arch is not (Architecture.X64 or Architecture.Arm64))
            throw new PlatformNotSupportedException($"struct stat is decoded for x86-64 and arm64 only, not {arch}");
        bool arm64 = arch == Architecture.Arm64;
        ulong device = BinaryPrimitives.ReadUInt64LittleEndian(stat);
        ulong inode = BinaryPrimitives.ReadUInt64LittleEndian(stat[8..]);
        uint mode = BinaryPrimitives.ReadUInt32LittleEndian(stat[(arm64 ? 16 : 24)..]);
        ulong links = arm64 ? BinaryPrimitives.ReadUInt32LittleEndian(stat[20..]) : BinaryPrimitives.ReadUInt64LittleEndian(stat[16..]);
        long size = BinaryPrimitives.ReadInt64LittleEndian(stat[48..]);
        long seconds = BinaryPrimitives.ReadInt64LittleEndian(stat[88..]);
        long nanoseconds = BinaryPrimitives.ReadInt64LittleEndian(stat[96..]);
        var modified = DateTimeOffset.FromUnixTimeSeconds(seconds).AddTicks(nanoseconds / 100);
        return new FileStatus(device, inode, mode, links, size, modified);
    }
}
