using Trellis.Testing;
using Xunit;

namespace Trellis.Netlink.Tests;

public sealed class NamespaceRunnerTests
{
    [Fact]
    public void Sysctl_written_inside_a_namespace_is_seen_there_and_not_in_the_root_namespace()
    {
        using var ns = NetworkNamespace.Create("nl-sysctl");
        string rootBefore = Sysctl.Read("net/ipv4/ip_forward");
        string flipped = rootBefore == "1" ? "0" : "1";

        NetworkNamespaceRunner.Run(ns.Path, () => Sysctl.Write("net/ipv4/ip_forward", flipped));

        Assert.Equal(flipped, NetworkNamespaceRunner.Run(ns.Path, () => Sysctl.Read("net.ipv4.ip_forward")));
        Assert.Equal($"net.ipv4.ip_forward = {flipped}", ns.Exec("sysctl", "net.ipv4.ip_forward").Trim());
        Assert.Equal(rootBefore, Sysctl.Read("net/ipv4/ip_forward"));
        Assert.Equal(rootBefore, File.ReadAllText("/proc/sys/net/ipv4/ip_forward").Trim());
    }

    [Fact]
    public void Runner_leaves_the_calling_thread_in_its_own_namespace_and_passes_failures_through()
    {
        using var ns = NetworkNamespace.Create("nl-runner");
        string before = ThreadNamespace();

        string inside = NetworkNamespaceRunner.Run(ns.Path, ThreadNamespace);

        Assert.NotEqual(before, inside);
        Assert.Equal(before, ThreadNamespace());
        var thrown = Assert.Throws<InvalidOperationException>(() => NetworkNamespaceRunner.Run(ns.Path, () => throw new InvalidOperationException("boom")));
        Assert.Equal("boom", thrown.Message);
    }

    private static string ThreadNamespace() =>
        new FileInfo($"/proc/{Environment.ProcessId}/task/{Gettid()}/ns/net").LinkTarget
        ?? throw new InvalidOperationException("no namespace link for this thread");

    private static int Gettid() => int.Parse(new DirectoryInfo("/proc/thread-self").LinkTarget!.Split('/')[^1]);

    [Fact]
    public void Missing_namespace_and_bad_sysctl_keys_are_named_in_the_error()
    {
        var missing = Assert.Throws<NetlinkException>(() => NetlinkHandle.OpenNamespace("/run/netns/trl-no-such-namespace"));
        Assert.Contains("/run/netns/trl-no-such-namespace", missing.Message);
        Assert.True(missing.IsNotFound);

        var key = Assert.Throws<ArgumentException>(() => Sysctl.Read("net/../../etc/passwd"));
        Assert.Contains("net/../../etc/passwd", key.Message);
        var absent = Assert.Throws<IOException>(() => Sysctl.Read("net/ipv4/no_such_key"));
        Assert.Contains("net/ipv4/no_such_key", absent.Message);
    }
}
