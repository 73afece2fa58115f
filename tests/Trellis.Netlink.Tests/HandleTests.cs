using System.Net;
using System.Net.Sockets;
using Trellis.Addressing;
using Trellis.Testing;
using Xunit;

namespace Trellis.Netlink.Tests;

public sealed class HandleTests
{
    [Fact]
    public void One_handle_serves_many_threads_at_once()
    {
        using var ns = NetworkNamespace.Create("nl-threads");
        using var nl = NetlinkHandle.OpenNamespace(ns.Path);
        nl.AddBridge("br0");
        var link = nl.GetLink("br0");
        nl.AddAddress(link, IpPrefix.Parse("192.168.1.11/24"));
        nl.SetLinkUp(link);

        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, worker =>
        {
            for (int i = 0; i < 25; i++)
            {
                nl.AddRoute(new Route
                {
                    Destination = Cidr.Parse($"10.{worker}.{i}.0/24"),
                    Gateway = IPAddress.Parse("192.168.1.12"),
                    Protocol = 150,
                });
                Assert.Equal("br0", nl.FindLink(link.Index)?.Name);
                Assert.NotEmpty(nl.ListLinks());
            }
        });

        Assert.Equal(200, nl.ListRoutes(AddressFamily.InterNetwork).Count(r => r.Protocol == 150));
    }

    [Fact]
    public void Every_request_message_is_counted_once()
    {
        using var ns = NetworkNamespace.Create("nl-count");
        using var nl = NetlinkHandle.OpenNamespace(ns.Path);

        long start = nl.RequestsSent;
        nl.AddBridge("br0");
        nl.ListLinks();
        var link = nl.GetLink("br0");
        nl.SetLinkUp(link);
        Assert.Null(nl.FindLink("absent0"));

        Assert.Equal(5, nl.RequestsSent - start);
    }

    [Fact]
    public void Namespace_references_name_their_path_and_refuse_use_after_dispose()
    {
        using var ns = NetworkNamespace.Create("nl-ref");
        var reference = NetworkNamespaceRef.Open(ns.Path);
        Assert.Equal(ns.Path, reference.Path);
        Assert.True(reference.Fd >= 0);
        reference.Dispose();
        Assert.Throws<ObjectDisposedException>(() => reference.Fd);

        using var current = NetworkNamespaceRef.Current();
        Assert.True(current.Fd >= 0);

        var handle = NetlinkHandle.OpenNamespace(ns.Path);
        handle.Dispose();
        Assert.Throws<ObjectDisposedException>(() => handle.ListLinks());
    }
}
