using System.Net;
using Trellis.Linux;
using Trellis.Testing;
using Xunit;

namespace Trellis.Ipam.Tests;

public sealed class AllocationStoreTests
{
    private static readonly Attachment Pod1 = new("pod1", "eth0");
    private static readonly Attachment Pod2 = new("pod2", "eth0");
    private static readonly IPAddress A2 = IPAddress.Parse("10.244.1.2");
    private static readonly IPAddress A3 = IPAddress.Parse("10.244.1.3");

    private static AllocationRecord Record(Attachment owner, PodIdentity? pod = null) =>
        new(owner, pod, DateTimeOffset.UtcNow);

    private static IPAddress? Reserve(AllocationStore store, AllocationHold hold, Attachment owner, params IPAddress[] candidates) =>
        store.ReserveFirstFree(candidates, Record(owner), hold);

    /// <summary>Reads a record without the shared flock .NET's File API takes, which a held record refuses.</summary>
    private static byte[] ReadRecordFile(string path)
    {
        using var file = FileDescriptor.Open(path, OpenFlags.ReadOnly | OpenFlags.NoFollow);
        return file.ReadAll(AllocationRecordFormat.MaxBytes);
    }

    private static ulong LinkCount(string path)
    {
        using var file = FileDescriptor.Open(path, OpenFlags.ReadOnly | OpenFlags.NoFollow | OpenFlags.NonBlocking);
        return file.Status().LinkCount;
    }

    [Fact]
    public void AReservationIsExclusiveCompleteAndRecordsItsOwnerAndPod()
    {
        using var dir = new TemporaryDirectory();
        using var store = AllocationStore.Open(dir.Path, "net");
        using var hold = new AllocationHold();
        var record = Record(Pod1, new PodIdentity("default", "web", "uid-1"));
        Assert.Equal(A2, store.ReserveFirstFree([A2], record, hold));
        store.Flush();
        Assert.Equal(A3, Reserve(store, hold, Pod2, A2, A3));
        Assert.Null(Reserve(store, hold, Pod2, A2, A3));

        var path = Path.Combine(dir.Path, "net", "10.244.1.2");
        Assert.Equal(record, AllocationRecordFormat.Decode(ReadRecordFile(path)));
        Assert.Equal(1UL, LinkCount(path));
        Assert.Equal(["10.244.1.2", "10.244.1.3", "lock"], Directory.EnumerateFiles(store.Directory).Select(Path.GetFileName).Order());
        Assert.Equal([new Allocation(A2, record)], store.List().Where(a => a.Owner == Pod1));
    }

    [Fact]
    public void FilesAndDirectoriesAreForRootAlone()
    {
        using var dir = new TemporaryDirectory();
        using (var store = AllocationStore.Open(Path.Combine(dir.Path, "ipam", "deeper"), "net"))
        using (var hold = new AllocationHold())
        {
            Reserve(store, hold, Pod1, IPAddress.Parse("fd00::2"));
            store.SetLastReserved(1, IPAddress.Parse("fd00::2"));
        }
        var owner = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        Assert.Equal(owner | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.Combine(dir.Path, "ipam")));
        Assert.Equal(owner | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.Combine(dir.Path, "ipam", "deeper", "net")));
        foreach (var file in Directory.EnumerateFiles(Path.Combine(dir.Path, "ipam", "deeper", "net")))
            Assert.Equal(owner, File.GetUnixFileMode(file));
    }

    [Fact]
    public void OpenExistingCreatesNothing()
    {
        using var dir = new TemporaryDirectory();
        Assert.Null(AllocationStore.OpenExisting(Path.Combine(dir.Path, "ipam"), "net"));
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Path));
        Assert.Empty(AllocationStore.ReadAllocations(Path.Combine(dir.Path, "ipam"), "net"));
        Assert.Empty(AllocationStore.AllocatedAddresses(Path.Combine(dir.Path, "ipam"), "net"));
    }

    [Fact]
    public void ReleaseFreesWhatIsHeldAndNothingElse()
    {
        using var dir = new TemporaryDirectory();
        using var store = AllocationStore.Open(dir.Path, "net");
        using var mine = new AllocationHold();
        using var theirs = new AllocationHold();
        Reserve(store, mine, Pod1, A2);
        Reserve(store, mine, Pod1, IPAddress.Parse("fd00::2"));
        Reserve(store, theirs, Pod2, A3);
        Assert.Equal([A2], store.Release(mine, [A2]));
        Assert.Equal([IPAddress.Parse("fd00::2")], store.Release(mine));
        Assert.Empty(store.Release(mine));
        Assert.Equal([A3], store.List().Select(a => a.Address));
    }

    [Fact]
    public void LastReservedIsKeptPerRangeSetAtAFixedWidth()
    {
        using var dir = new TemporaryDirectory();
        using var store = AllocationStore.Open(dir.Path, "net");
        Assert.Null(store.LastReserved(0));
        store.SetLastReserved(0, IPAddress.Parse("fd00:1234:5678:9abc:def0:1234:5678:9abc"));
        store.SetLastReserved(0, IPAddress.Parse("10.244.1.9"));
        store.SetLastReserved(1, IPAddress.Parse("fd00::9"));
        Assert.Equal(IPAddress.Parse("10.244.1.9"), store.LastReserved(0));
        Assert.Equal(IPAddress.Parse("fd00::9"), store.LastReserved(1));
        Assert.Equal(40, new FileInfo(Path.Combine(store.Directory, "last_reserved_ip.0")).Length);
        Assert.Empty(store.List());
    }

    [Fact]
    public async Task TheLockKeepsASecondOpenerWaitingUntilTheFirstIsDone()
    {
        using var dir = new TemporaryDirectory();
        var first = AllocationStore.Open(dir.Path, "net");
        var second = Task.Run(() => AllocationStore.Open(dir.Path, "net"));
        Assert.False(await second.EndsWithin(TimeSpan.FromMilliseconds(300)));
        first.Dispose();
        Assert.True(await second.EndsWithin(TimeSpan.FromSeconds(10)));
        (await second).Dispose();
    }

    [Fact]
    public async Task AnAttachmentHeldElsewhereIsReportedBusyUntilItsHolderIsDone()
    {
        using var dir = new TemporaryDirectory();
        var first = new AllocationHold();
        using (var store = AllocationStore.Open(dir.Path, "net"))
            Reserve(store, first, Pod1, A2);

        BusyRecord? busy;
        using (var store = AllocationStore.Open(dir.Path, "net"))
        {
            Assert.Null(store.TryHoldAttachment(Pod1, store.List(), out busy));
            Assert.NotNull(busy);
            using var other = store.TryHoldAttachment(Pod2, store.List(), out var none);
            Assert.Null(none);
            Assert.Empty(other!.Allocations);
        }
        var waiter = Task.Run(busy!.WaitUntilFree);
        Assert.False(await waiter.EndsWithin(TimeSpan.FromMilliseconds(300)));
        first.Dispose();
        Assert.True(await waiter.EndsWithin(TimeSpan.FromSeconds(10)));

        using (var store = AllocationStore.Open(dir.Path, "net"))
        using (var hold = store.TryHoldAttachment(Pod1, store.List(), out busy))
        {
            Assert.Null(busy);
            Assert.Equal([A2], hold!.Allocations.Select(a => a.Address));
        }
    }

    [Fact]
    public void CompareAndHoldRefusesARecordThatChangedWentOrIsBusy()
    {
        using var dir = new TemporaryDirectory();
        using var store = AllocationStore.Open(dir.Path, "net");
        using (var reserving = new AllocationHold())
        {
            Reserve(store, reserving, Pod1, A2);
            Reserve(store, reserving, Pod1, A3);
        }
        var listed = store.List().OrderBy(a => a.Address.ToString()).ToList();

        // A3 was freed and reserved again for another pod since the listing.
        using (var other = new AllocationHold())
        {
            using (var hold = store.TryHold(listed[1])) store.Release(hold!);
            Reserve(store, other, Pod2, A3);
        }
        Assert.Null(store.TryHold(listed[1]));

        // A2 is held by a running plugin.
        using (var running = store.TryHold(listed[0]))
        {
            Assert.NotNull(running);
            Assert.Null(store.TryHold(listed[0]));
        }
        using (var free = store.TryHold(listed[0]))
        {
            Assert.NotNull(free);
            store.Release(free!);
        }
        Assert.Null(store.TryHold(listed[0]));
        Assert.Equal([Pod2], store.List().Select(a => a.Owner));
    }

    [Fact]
    public async Task GcAndReclaimRunningTogetherFreeEachStaleRecordOnceAndNoNewOne()
    {
        using var dir = new TemporaryDirectory();
        var stale = Enumerable.Range(2, 40).Select(i => IPAddress.Parse($"10.244.1.{i}")).ToList();
        using (var store = AllocationStore.Open(dir.Path, "net"))
        using (var hold = new AllocationHold())
            foreach (var address in stale) Reserve(store, hold, new Attachment($"old{address.GetAddressBytes()[3]}", "eth0"), address);
        var listing = AllocationStore.ReadAllocations(dir.Path, "net");

        // Between the listing and the frees, half the addresses go to new pods.
        using (var store = AllocationStore.Open(dir.Path, "net"))
            foreach (var allocation in listing.Where(a => a.Address.GetAddressBytes()[3] % 2 == 0))
            {
                using (var hold = store.TryHold(allocation)) store.Release(hold!);
                using var fresh = new AllocationHold();
                Reserve(store, fresh, new Attachment($"new{allocation.Address.GetAddressBytes()[3]}", "eth0"), allocation.Address);
            }

        int freed = 0;
        async Task Collector() => await Task.Run(() =>
        {
            foreach (var allocation in listing)
            {
                using var store = AllocationStore.Open(dir.Path, "net");
                using var hold = store.TryHold(allocation);
                if (hold is not null) Interlocked.Add(ref freed, store.Release(hold).Count);
            }
        });
        await Task.WhenAll(Collector(), Collector(), Collector());

        Assert.Equal(20, freed);
        var left = AllocationStore.ReadAllocations(dir.Path, "net");
        Assert.Equal(20, left.Count);
        Assert.All(left, a => Assert.StartsWith("new", a.Owner!.ContainerId));
    }

    [Fact]
    public void RecordsOfTheFormerFormatAreReadHeldAndFreedAndItsStagingLeftoverGoes()
    {
        using var dir = new TemporaryDirectory();
        var network = Path.Combine(dir.Path, "net");
        Directory.CreateDirectory(network);
        // Exactly what the plugin wrote before the store moved here, including a crash between link and unlink.
        File.WriteAllText(Path.Combine(network, "10.244.1.2"), "c1\neth0");
        File.WriteAllText(Path.Combine(network, "fd00::2"), "c1\neth0");
        File.WriteAllText(Path.Combine(network, "10.244.1.3"), "c2\neth0");
        Assert.Equal(0, LibC.LinkAt(LibC.AT_FDCWD, Path.Combine(network, "10.244.1.3"), LibC.AT_FDCWD, Path.Combine(network, "reserving"), 0));
        File.WriteAllText(Path.Combine(network, "last_reserved_ip.0"), "10.244.1.3");
        File.WriteAllText(Path.Combine(network, "lock"), "");
        var written = File.GetLastWriteTimeUtc(Path.Combine(network, "10.244.1.2"));

        using var store = AllocationStore.Open(dir.Path, "net");
        Assert.Equal(A3, store.LastReserved(0));
        var all = store.List();
        Assert.False(File.Exists(Path.Combine(network, "reserving")));
        Assert.Equal(1UL, LinkCount(Path.Combine(network, "10.244.1.3")));
        Assert.Equal(3, all.Count);
        var c1 = all.Where(a => a.Owner == new Attachment("c1", "eth0")).ToList();
        Assert.Equal(2, c1.Count);
        Assert.All(c1, a => Assert.True(a.Record!.IsLegacy));
        Assert.Equal(written, c1.Single(a => a.Address.Equals(A2)).Record!.Created!.Value.UtcDateTime);

        using (var hold = store.TryHoldAttachment(new Attachment("c1", "eth0"), all, out var busy))
        {
            Assert.Null(busy);
            Assert.Equal(2, store.Release(hold!).Count);
        }
        using (var hold = new AllocationHold())
            Assert.Equal(A2, Reserve(store, hold, Pod1, A2));
        store.SetLastReserved(0, A2);
        Assert.Equal(A2, store.LastReserved(0));
        Assert.Equal(["10.244.1.2", "10.244.1.3"], AllocationStore.AllocatedAddresses(dir.Path, "net").Select(a => a.ToString()).Order());
    }

    [Fact]
    public void AFileCutShortByAnOldCrashStaysTakenWithoutAnOwnerUntilFreedAsUnreadable()
    {
        using var dir = new TemporaryDirectory();
        using var store = AllocationStore.Open(dir.Path, "net");
        File.WriteAllText(Path.Combine(store.Directory, "10.244.1.7"), "");
        var address = IPAddress.Parse("10.244.1.7");
        using var hold = new AllocationHold();
        Assert.Null(Reserve(store, hold, Pod1, address));
        Assert.Equal([new Allocation(address, null)], store.List());
        Assert.Null(store.TryHold(store.List()[0]));
        Assert.True(store.ReleaseUnreadable(address));
        Assert.Empty(store.List());
    }

    [Fact]
    public void OnlyCanonicalAddressNamesAreAllocations()
    {
        Assert.Equal(A2, AllocationStore.AddressOf("10.244.1.2"));
        Assert.Equal(IPAddress.Parse("fd00::2"), AllocationStore.AddressOf("fd00::2"));
        foreach (var name in new[] { "1", "lock", "last_reserved_ip.0", "reserving", "010.244.1.2", "fd00:0::2", "fe80::1%eth0", "10.244.1.2 ", "." })
            Assert.Null(AllocationStore.AddressOf(name));
    }

    [Fact]
    public void SymbolicLinksInTheStoreAreNeverFollowed()
    {
        using var dir = new TemporaryDirectory();
        var precious = Path.Combine(dir.Path, "precious");
        File.WriteAllText(precious, "keep me");
        var data = Path.Combine(dir.Path, "data");
        var network = Path.Combine(data, "net");
        Directory.CreateDirectory(network);

        File.CreateSymbolicLink(Path.Combine(network, "10.244.1.2"), precious);
        File.CreateSymbolicLink(Path.Combine(network, "reserving"), precious);
        using (var store = AllocationStore.Open(data, "net"))
        using (var hold = new AllocationHold())
        {
            Assert.Equal([new Allocation(A2, null)], store.List());
            Assert.Equal(A3, Reserve(store, hold, Pod1, A2, A3));
            Assert.True(store.ReleaseUnreadable(A2));
        }
        Assert.False(File.Exists(Path.Combine(network, "reserving")));

        File.CreateSymbolicLink(Path.Combine(network, "last_reserved_ip.0"), precious);
        using (var store = AllocationStore.Open(data, "net"))
        {
            Assert.Contains("last_reserved_ip.0: it is a symbolic link", Assert.Throws<IOException>(() => store.LastReserved(0)).Message);
            Assert.Contains("last_reserved_ip.0", Assert.Throws<IOException>(() => store.SetLastReserved(0, A2)).Message);
        }
        File.Delete(Path.Combine(network, "last_reserved_ip.0"));

        File.Delete(Path.Combine(network, "lock"));
        File.CreateSymbolicLink(Path.Combine(network, "lock"), precious);
        var lockError = Assert.Throws<IOException>(() => AllocationStore.Open(data, "net"));
        Assert.Equal($"cannot open the allocation store {network}: open {network}/lock: it is a symbolic link, and the allocation store follows none", lockError.Message);

        var elsewhere = Path.Combine(dir.Path, "elsewhere");
        Directory.CreateDirectory(elsewhere);
        File.CreateSymbolicLink(Path.Combine(data, "other"), elsewhere);
        Assert.Contains("symbolic link", Assert.Throws<IOException>(() => AllocationStore.Open(data, "other")).Message);
        Assert.Contains("symbolic link", Assert.Throws<IOException>(() => AllocationStore.ReadAllocations(data, "other")).Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(elsewhere));
        Assert.Equal("keep me", File.ReadAllText(precious));
    }

    [Fact]
    public async Task AFifoNamedLikeAnAddressNeitherHangsNorCounts()
    {
        using var dir = new TemporaryDirectory();
        using var store = AllocationStore.Open(dir.Path, "net");
        Assert.Equal(0, Shell.Run("mkfifo", Path.Combine(store.Directory, "10.244.1.5")).ExitCode);
        var listing = Task.Run(store.List);
        Assert.True(await listing.EndsWithin(TimeSpan.FromSeconds(10)), "listing the store hung on a FIFO");
        Assert.Equal([new Allocation(IPAddress.Parse("10.244.1.5"), null)], await listing);
    }

    [Fact]
    public void AStoreWhereADirectoryShouldBeIsAReadableError()
    {
        using var dir = new TemporaryDirectory();
        File.WriteAllText(Path.Combine(dir.Path, "net"), "a file");
        var error = Assert.Throws<IOException>(() => AllocationStore.Open(dir.Path, "net"));
        Assert.Equal($"cannot open the allocation store {dir.Path}/net: open {dir.Path}/net: Not a directory (ENOTDIR)", error.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("a/b")]
    public void ANetworkNameThatIsNotOneDirectoryIsRefused(string network) =>
        Assert.Throws<ArgumentException>(() => AllocationStore.DirectoryOf("/var/lib/trellis/ipam", network));

    [Fact]
    public void ClosedBlocksAreExactlyTheLastSetWrittenAndNeverTakenForAllocations()
    {
        using var dir = new TemporaryDirectory();
        var first = Trellis.Addressing.Cidr.Parse("10.244.1.0/28");
        var second = Trellis.Addressing.Cidr.Parse("fd00:10:244::/124");
        using (var store = AllocationStore.Open(dir.Path, "net"))
        {
            Assert.Empty(store.ClosedBlocks());
            store.CloseBlocks([first, second]);
            Assert.Equal([first, second], store.ClosedBlocks());
        }
        using (var store = AllocationStore.Open(dir.Path, "net"))
        {
            Assert.Equal([first, second], store.ClosedBlocks());
            Assert.Empty(store.List());
            store.CloseBlocks([second]);
            Assert.Equal([second], store.ClosedBlocks());
            store.CloseBlocks([]);
            Assert.Empty(store.ClosedBlocks());
        }
        Assert.Empty(AllocationStore.AllocatedAddresses(dir.Path, "net"));
    }
}
