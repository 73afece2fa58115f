using System.Net;
using Trellis.Ipam;
using Trellis.Netlink;
using Trellis.NodeAgent.Reclaiming;

namespace Trellis.NodeAgent.Tests.Reclaiming;

public sealed class HostEndsTests
{
    private static readonly Attachment A = new("sandbox-a", "eth0");
    private static readonly Attachment B = new("sandbox-b", "eth0");

    private static Link Veth(string name, string? alias, string kind = "veth") => new(7, name, kind, 1500, null, true, null, null, alias);

    [Fact]
    public void A_sandbox_is_up_while_its_marked_host_end_exists_under_any_of_its_names()
    {
        Assert.Equal([A], HostEnds.Present([Veth(HostInterface.Name(A, 0), HostInterface.Mark(A))], [A, B]));
        Assert.Equal([A], HostEnds.Present([Veth(HostInterface.Name(A, 3), HostInterface.Mark(A))], [A, B]));
        Assert.Empty(HostEnds.Present([], [A, B]));
    }

    [Fact]
    public void A_link_marked_as_another_attachments_or_not_a_veth_is_not_its_sandbox()
    {
        Assert.Empty(HostEnds.Present([Veth(HostInterface.Name(A, 0), HostInterface.Mark(B))], [A]));
        Assert.Empty(HostEnds.Present([Veth(HostInterface.Name(A, 0), null, kind: "bridge")], [A]));
        Assert.Empty(HostEnds.Present([Veth("eth0", HostInterface.Mark(A))], [A]));
    }

    [Fact]
    public void An_unmarked_veth_under_one_of_its_names_counts_as_up_since_whose_it_is_cannot_be_told()
    {
        Assert.Equal([A], HostEnds.Present([Veth(HostInterface.Name(A, 1), null)], [A]));
    }

    [Fact]
    public void Reclaims_are_counted_once_per_NodeSubnet_and_given_back_when_the_write_fails()
    {
        var tally = new ReclaimTally();
        int changes = 0;
        tally.Changed += () => changes++;
        tally.Add(IPAddress.Parse("10.244.1.2"));
        tally.Add(IPAddress.Parse("10.244.2.2"));
        tally.Add(IPAddress.Parse("10.244.1.3"));
        Assert.Equal(3, changes);
        var first = tally.Take(a => a.ToString().StartsWith("10.244.1.", StringComparison.Ordinal));
        Assert.Equal(2, first.Count);
        Assert.Empty(tally.Take(a => a.ToString().StartsWith("10.244.1.", StringComparison.Ordinal)));
        tally.GiveBack(first);
        Assert.Equal(2, tally.Take(a => a.ToString().StartsWith("10.244.1.", StringComparison.Ordinal)).Count);
        Assert.Equal([IPAddress.Parse("10.244.2.2")], tally.Take(_ => true));
    }
}
