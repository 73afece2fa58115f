using Trellis.Ipam;
using Trellis.Testing;
using Xunit;

namespace Trellis.Cni.Tests;

/// <summary>
/// Issue 8, defect 6: fifty ADDs of one attachment at once gave five successes with five
/// addresses and an end state holding none (each failing twin's rollback undid a winner's
/// work). Now twins wait for each other: one outcome, which the kernel and the disk match.
/// </summary>
public sealed class TwinAddTests
{
    [Fact]
    public void FiftyParallelAddsOfOneAttachmentHaveOneOutcomeThatTheKernelAndDiskMatch()
    {
        const int twins = 50;
        using var node = new PluginNode();
        using var pod = NetworkNamespace.Create("pod");
        var config = node.Config("""[[{"subnet":"10.244.1.0/24"}],[{"subnet":"fd00:10:244:1::/64"}]]""");

        var runs = Enumerable.Range(0, twins).Select(_ => node.Start(PluginNode.Environment("ADD", "twin", pod.Path), config)).ToList()
            .Select(PluginRun.From).ToList();

        foreach (var run in runs) run.Succeeded();
        var outcomes = runs.Select(r => string.Join(" ", r.Addresses())).Distinct().ToList();
        Assert.True(outcomes.Count == 1, $"the twins reported {outcomes.Count} outcomes: {string.Join(" | ", outcomes)}");
        var addresses = runs[0].Addresses();
        Assert.Equal(2, addresses.Count);

        var owner = new Attachment("twin", "eth0");
        Assert.Equal(addresses.Select(a => a.Split('/')[0]).Order(), node.Allocations().Where(a => a.Owner == owner).Select(a => a.Address.ToString()).Order());
        Assert.Equal(2, node.AllocationFiles().Count);
        var podAddresses = pod.Exec("ip", "-o", "addr", "show", "dev", "eth0", "scope", "global");
        foreach (var address in addresses) Assert.Contains(address, podAddresses);
        var veths = node.LinkNames().Where(n => n.StartsWith("veth", StringComparison.Ordinal)).ToList();
        Assert.Equal([HostInterface.Name(owner, 0)], veths);
        Assert.Contains("alias trellis-cni twin/eth0", node.Namespace.Exec("ip", "-d", "link", "show", veths[0]));
        Assert.True(node.Namespace.Ping(addresses[0].Split('/')[0]), "the pod does not answer at the address every twin reported");

        node.Del("twin", pod.Path, config).Succeeded();
        Assert.Empty(node.AllocationFiles());
        Assert.Equal(["lo", "trellis0"], node.LinkNames());
    }
}
