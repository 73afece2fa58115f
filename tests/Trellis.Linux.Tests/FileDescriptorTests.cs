using Trellis.Testing;
using Xunit;

namespace Trellis.Linux.Tests;

public sealed class FileDescriptorTests
{
    private static readonly int Directory = OpenFlags.ReadOnly | OpenFlags.Directory;

    [Fact]
    public void StatusDecodesTheKernelsStructOnThisMachine()
    {
        using var dir = new TemporaryDirectory();
        var path = Path.Combine(dir.Path, "file");
        File.WriteAllText(path, "twelve bytes");
        File.SetLastWriteTimeUtc(path, new DateTime(2024, 5, 6, 7, 8, 9, DateTimeKind.Utc));
        using var file = FileDescriptor.Open(path, OpenFlags.ReadOnly);

        var status = file.Status();
        Assert.True(status.IsRegularFile);
        Assert.False(status.IsDirectory);
        Assert.Equal(12, status.Size);
        Assert.Equal(1UL, status.LinkCount);
        Assert.Equal(new DateTimeOffset(2024, 5, 6, 7, 8, 9, TimeSpan.Zero), status.Modified);
        Assert.Equal(new FileInfo(path).Length, status.Size);
    }

    [Fact]
    public void AnUnnamedFileGetsItsNameOnceAndCountsItsLinks()
    {
        using var dir = new TemporaryDirectory();
        using var directory = FileDescriptor.Open(dir.Path, Directory);
        using var file = directory.OpenAt(".", OpenFlags.Temporary | OpenFlags.ReadWrite, 0x180);
        file.WriteAll("content"u8);
        file.DataSync();
        Assert.Equal(0UL, file.Status().LinkCount);
        Assert.Empty(System.IO.Directory.EnumerateFileSystemEntries(dir.Path));

        Assert.True(directory.TryLink(file, "name"));
        Assert.False(directory.TryLink(file, "name"));
        Assert.Equal(1UL, file.Status().LinkCount);
        Assert.Equal("content", File.ReadAllText(Path.Combine(dir.Path, "name")));
        Assert.Equal("content"u8.ToArray(), file.ReadAll(100));

        Assert.True(directory.Unlink("name"));
        Assert.False(directory.Unlink("name"));
        Assert.Equal(0UL, file.Status().LinkCount);
    }

    [Fact]
    public void NoFollowRefusesASymbolicLinkAndNamesThePath()
    {
        using var dir = new TemporaryDirectory();
        File.WriteAllText(Path.Combine(dir.Path, "target"), "precious");
        File.CreateSymbolicLink(Path.Combine(dir.Path, "link"), Path.Combine(dir.Path, "target"));
        using var directory = FileDescriptor.Open(dir.Path, Directory);

        Assert.Null(directory.TryOpenAt("link", OpenFlags.WriteOnly | OpenFlags.NoFollow, 0, out var errno));
        Assert.Equal(Errno.ELOOP, errno);
        var error = Assert.Throws<SystemCallException>(() => directory.OpenAt("link", OpenFlags.ReadOnly | OpenFlags.NoFollow));
        Assert.Equal($"open {dir.Path}/link: Too many levels of symbolic links (ELOOP)", error.Message);
        Assert.Equal("precious", File.ReadAllText(Path.Combine(dir.Path, "target")));
    }

    [Fact]
    public void ReadAllRefusesMoreThanItsLimit()
    {
        using var dir = new TemporaryDirectory();
        File.WriteAllText(Path.Combine(dir.Path, "big"), new string('x', 100));
        using var file = FileDescriptor.Open(Path.Combine(dir.Path, "big"), OpenFlags.ReadOnly);
        Assert.Equal(100, file.ReadAll(100).Length);
        Assert.Contains("longer than the 99 bytes", Assert.Throws<IOException>(() => file.ReadAll(99)).Message);
    }

    [Fact]
    public void AFlockIsExclusiveBetweenOpenFilesEvenInOneProcess()
    {
        using var dir = new TemporaryDirectory();
        var path = Path.Combine(dir.Path, "lock");
        using var first = FileDescriptor.Open(path, OpenFlags.ReadWrite | OpenFlags.Create, 0x180);
        using var second = FileDescriptor.Open(path, OpenFlags.ReadWrite);
        Assert.True(first.TryLockExclusive());
        Assert.False(second.TryLockExclusive());
        first.Dispose();
        Assert.True(second.TryLockExclusive());
    }

    [Fact]
    public void ListNamesReadsTheWholeDirectoryEveryTime()
    {
        using var dir = new TemporaryDirectory();
        var expected = Enumerable.Range(0, 300).Select(i => $"name-{i}-é").Append(".hidden").Order().ToList();
        foreach (var name in expected) File.WriteAllText(Path.Combine(dir.Path, name), "");
        System.IO.Directory.CreateDirectory(Path.Combine(dir.Path, "sub"));
        expected = expected.Append("sub").Order().ToList();
        using var directory = FileDescriptor.Open(dir.Path, Directory);
        Assert.Equal(expected, directory.ListNames().Order());
        Assert.Equal(expected, directory.ListNames().Order());
    }

    [Fact]
    public void MakeDirectoryTellsWhetherItMadeOne()
    {
        using var dir = new TemporaryDirectory();
        using var directory = FileDescriptor.Open(dir.Path, Directory);
        Assert.True(directory.MakeDirectory("sub", 0x1C0));
        Assert.False(directory.MakeDirectory("sub", 0x1C0));
        Assert.True(directory.OpenAt("sub", Directory).Status().IsDirectory);
    }

    [Fact]
    public void ANamespaceFileIsOnNsfsAndSaysWhichKindItIs()
    {
        using var net = FileDescriptor.Open("/proc/self/ns/net", OpenFlags.ReadOnly);
        using var mnt = FileDescriptor.Open("/proc/self/ns/mnt", OpenFlags.ReadOnly);
        using var plain = FileDescriptor.Open("/proc/self/status", OpenFlags.ReadOnly);
        Assert.Equal(LibC.NSFS_MAGIC, net.FileSystemType());
        Assert.NotEqual(LibC.NSFS_MAGIC, plain.FileSystemType());
        Assert.Equal(LibC.CLONE_NEWNET, LibC.Ioctl(net.Value, LibC.NS_GET_NSTYPE));
        Assert.Equal(LibC.CLONE_NEWNS, LibC.Ioctl(mnt.Value, LibC.NS_GET_NSTYPE));
    }

    [Fact]
    public void ErrorsReadAsTheCLibrarysWordsWithTheSymbolicName()
    {
        Assert.Equal("No space left on device (ENOSPC)", Errno.Describe(Errno.ENOSPC));
        Assert.Equal("ELOOP", Errno.Name(40));
        Assert.Equal("errno 4095", Errno.Name(4095));
        var error = Assert.Throws<SystemCallException>(() => FileDescriptor.Open("/nonexistent/trellis", OpenFlags.ReadOnly));
        Assert.Equal(Errno.ENOENT, error.Errno);
        Assert.Equal("open /nonexistent/trellis: No such file or directory (ENOENT)", error.Message);
    }
}
