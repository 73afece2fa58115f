using System.Net;
using Trellis.Cni.Config;
using Trellis.Cni.Ipam;
using Xunit;

namespace Trellis.Cni.Tests;

public sealed class AllocationStoreTests
{
    private static readonly Attachment Pod1 = new("pod1", "eth0");
    private static readonly Attachment Pod2 = new("pod2", "eth0");

    [Fact]
    public void AReservationIsExclusiveAndRecordsItsOwner()
    {
        using var dir = new TemporaryDirectory();
        using var store = AllocationStore.Open(dir.Path, "net");
        var address = IPAddress.Parse("10.244.1.2");
        Assert.True(store.TryReserve(address, Pod1));
        Assert.False(store.TryReserve(address, Pod2));
        Assert.True(store.IsReserved(address));
        Assert.Equal("pod1\neth0", File.ReadAllText(Path.Combine(dir.Path, "net", "10.244.1.2")));
        Assert.Equal(["10.244.1.2", "lock"], Directory.EnumerateFiles(store.Directory).Select(Path.GetFileName).Order());
        Assert.Equal([address], store.FindByOwner(Pod1));
        Assert.Empty(store.FindByOwner(Pod2));
    }

    [Fact]
    public void FilesAndDirectoriesAreForRootAlone()
    {
        using var dir = new TemporaryDirectory();
        using (var store = AllocationStore.Open(Path.Combine(dir.Path, "ipam"), "net"))
        {
            store.TryReserve(IPAddress.Parse("fd00::2"), Pod1);
            store.SetLastReserved(1, IPAddress.Parse("fd00::2"));
        }
        var owner = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        Assert.Equal(owner | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.Combine(dir.Path, "ipam")));
        Assert.Equal(owner | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.Combine(dir.Path, "ipam", "net")));
        foreach (var file in Directory.EnumerateFiles(Path.Combine(dir.Path, "ipam", "net")))
            Assert.Equal(owner, File.GetUnixFileMode(file));
    }

    [Fact]
    public void ReleaseByOwnerFreesOnlyThatOwnersAddresses()
    {
        using var dir = new TemporaryDirectory();
        using var store = AllocationStore.Open(dir.Path, "net");
        store.TryReserve(IPAddress.Parse("10.244.1.2"), Pod1);
        store.TryReserve(IPAddress.Parse("fd00::2"), Pod1);
        store.TryReserve(IPAddress.Parse("10.244.1.3"), Pod2);
        Assert.Equal(2, store.ReleaseByOwner(Pod1).Count);
        Assert.Empty(store.ReleaseByOwner(Pod1));
        Assert.Equal([(IPAddress.Parse("10.244.1.3"), (Attachment?)Pod2)], store.List());
    }

    [Fact]
    public void LastReservedIsKeptPerRangeSet()
    {
        using var dir = new TemporaryDirectory();
        using var store = AllocationStore.Open(dir.Path, "net");
        Assert.Null(store.LastReserved(0));
        store.SetLastReserved(0, IPAddress.Parse("10.244.1.9"));
        store.SetLastReserved(1, IPAddress.Parse("fd00::9"));
        Assert.Equal(IPAddress.Parse("10.244.1.9"), store.LastReserved(0));
        Assert.Equal(IPAddress.Parse("fd00::9"), store.LastReserved(1));
        Assert.Empty(store.List());
    }

    [Fact]
    public void AFileCutShortByACrashStaysReservedWithoutAnOwner()
    {
        using var dir = new TemporaryDirectory();
        using var store = AllocationStore.Open(dir.Path, "net");
        File.WriteAllText(Path.Combine(store.Directory, "10.244.1.7"), "");
        Assert.True(store.IsReserved(IPAddress.Parse("10.244.1.7")));
        Assert.False(store.TryReserve(IPAddress.Parse("10.244.1.7"), Pod1));
        Assert.Equal([(IPAddress.Parse("10.244.1.7"), (Attachment?)null)], store.List());
    }

    [Fact]
    public async Task TheLockKeepsASecondOpenerWaitingUntilTheFirstIsDone()
    {
        using var dir = new TemporaryDirectory();
        var first = AllocationStore.Open(dir.Path, "net");
        var second = Task.Run(() => AllocationStore.Open(dir.Path, "net"));
        Assert.NotSame(second, await Task.WhenAny(second, Task.Delay(300)));
        first.Dispose();
        Assert.Same(second, await Task.WhenAny(second, Task.Delay(TimeSpan.FromSeconds(10))));
        (await second).Dispose();
    }
}
