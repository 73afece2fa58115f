using System.Runtime.InteropServices;

namespace Trellis.Linux;

/// <summary>
/// open(2) flags. Most are the same everywhere, but O_DIRECTORY, O_NOFOLLOW and O_TMPFILE
/// differ between x86-64 and arm64, so they are chosen at start-up rather than compiled in.
/// </summary>
public static class OpenFlags
{
    private static readonly bool s_arm64 = RuntimeInformation.ProcessArchitecture == Architecture.Arm64;

    public const int ReadOnly = 0x0, WriteOnly = 0x1, ReadWrite = 0x2;
    public const int Create = 0x40, Exclusive = 0x80, NoControllingTerminal = 0x100, Truncate = 0x200;
    public const int Append = 0x400, NonBlocking = 0x800, CloseOnExec = 0x80000;

    public static readonly int Directory = s_arm64 ? 0x4000 : 0x10000;
    public static readonly int NoFollow = s_arm64 ? 0x8000 : 0x20000;

    /// <summary>An unnamed file in the given directory, linkable later with linkat (O_TMPFILE includes O_DIRECTORY).</summary>
    public static readonly int Temporary = 0x400000 | Directory;
}
