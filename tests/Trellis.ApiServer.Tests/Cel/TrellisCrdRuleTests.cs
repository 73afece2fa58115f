using System.Text.Json.Nodes;
using Trellis.ApiServer.Tests.Server;
using Trellis.Testing;

namespace Trellis.ApiServer.Tests.Cel;

/// <summary>
/// Every x-kubernetes-validations rule of config/crd, through the server: each accepts objects it
/// should and refuses, with its message at its field, the objects it should not.
/// </summary>
public sealed class TrellisCrdRuleTests(TrellisCrdServer server) : IClassFixture<TrellisCrdServer>
{
    private const string PodNetworks = "/apis/trellis.io/v1alpha1/podnetworks";
    private const string NodeSubnets = "/apis/trellis.io/v1alpha1/nodesubnets";
    private static int s_counter;
    private TestServer _t => server.Server;

    private static string Name(string prefix) => $"{prefix}{Interlocked.Increment(ref s_counter)}";

    private static JsonObject PodNetwork(string name, string spec) =>
        JsonNode.Parse($$"""{"apiVersion":"trellis.io/v1alpha1","kind":"PodNetwork","metadata":{"name":"{{name}}"},"spec":{{spec}}}""")!.AsObject();

    /// <summary>A NodeSubnet for a node of its own, named &lt;podNetwork&gt;.&lt;nodeName&gt; as its root rule requires.</summary>
    private static JsonObject NodeSubnet(string spec, string? name = null)
    {
        var node = Name("node");
        var named = spec.Replace("\"nodeName\":\"node1\"", $"\"nodeName\":\"{node}\"");
        return JsonNode.Parse($$"""{"apiVersion":"trellis.io/v1alpha1","kind":"NodeSubnet","metadata":{"name":"{{name ?? "default." + node}}"},"spec":{{named}}}""")!.AsObject();
    }

    private const string GoodSubnet = """{"nodeName":"node1","podNetwork":"default","cidrs":["10.244.1.0/24"],"gateways":["10.244.1.1"],"nodeAddresses":["192.168.1.11"],"networkCIDRs":["10.244.0.0/16"]}""";
    private const string GoodDualStackSubnet = """{"nodeName":"node1","podNetwork":"default","cidrs":["10.244.1.0/24","fd00:10:244:1::/64"],"gateways":["10.244.1.1","fd00:10:244:1::1"],"nodeAddresses":["192.168.1.11","fd00::11"],"networkCIDRs":["10.244.0.0/16","fd00:10:244::/48"]}""";

    private async Task<(int Code, JsonNode? Body)> Create(string collection, JsonObject obj) =>
        await _t.SendAsync(HttpMethod.Post, collection, obj.ToJsonString());

    private static void AssertRefused((int Code, JsonNode? Body) reply, string field, string message)
    {
        Assert.True(reply.Code == 422, $"expected 422, got {reply.Code}: {reply.Body}");
        var causes = reply.Body!["details"]!["causes"]!.AsArray();
        Assert.True(causes.Any(c => c!["field"]!.GetValue<string>() == field && c["message"]!.GetValue<string>().Contains(message, StringComparison.Ordinal)),
            $"no cause at {field} saying \"{message}\": {reply.Body}");
    }

    [Theory]
    [InlineData("""{"cidrs":["10.244.0.0/16"]}""")]
    [InlineData("""{"cidrs":["10.244.0.0/16","fd00:10:244::/48"],"blockSize":{"ipv4":24,"ipv6":64}}""")]
    [InlineData("""{"cidrs":["10.244.0.0/16","10.245.0.0/16"],"blockSize":{"ipv4":16}}""")]
    [InlineData("""{"cidrs":["fd00::/8"],"blockSize":{"ipv6":8}}""")]
    [InlineData("""{"cidrs":["0.0.0.0/0"],"blockSize":{"ipv4":0}}""")]
    [InlineData("""{"cidrs":["10.244.0.0/16"],"mtu":576}""")]
    [InlineData("""{"cidrs":["10.244.0.0/16"],"mtu":68}""")]
    [InlineData("""{"cidrs":["10.244.0.0/16"],"mtu":1279}""")]
    [InlineData("""{"cidrs":["10.244.0.0/16","fd00:10:244::/48"],"blockSize":{"ipv4":24,"ipv6":64},"mtu":1280}""")]
    [InlineData("""{"cidrs":["fd00:10:244::/48"],"blockSize":{"ipv6":64},"mtu":65535}""")]
    [InlineData("""{"cidrs":["10.244.0.0/16"],"mtu":0}""")]
    [InlineData("""{"cidrs":["10.244.0.0/16"],"mtu":9000}""")]
    [InlineData("""{"cidrs":["10.244.0.0/16"],"maxBlocksPerNode":1,"blockGrowth":{"minFreeAddresses":0,"minFreePercent":0,"releaseEmptyAfterSeconds":0}}""")]
    [InlineData("""{"cidrs":["10.244.0.0/16"],"maxBlocksPerNode":64,"blockGrowth":{"minFreeAddresses":65536,"minFreePercent":100,"releaseEmptyAfterSeconds":2592000}}""")]
    public async Task PodNetworkRulesAcceptValidNetworks(string spec)
    {
        var reply = await Create(PodNetworks, PodNetwork(Name("ok"), spec));
        Assert.True(reply.Code == 201, $"{spec} was refused: {reply.Body}");
    }

    [Theory]
    [InlineData("""{"cidrs":["10.244.0.1/16"]}""", "spec.cidrs[0]", "Invalid value: \"10.244.0.1/16\": must be a CIDR in canonical form with no host bits set")]
    [InlineData("""{"cidrs":["10.244.0.0"]}""", "spec.cidrs[0]", "must be a CIDR in canonical form")]
    [InlineData("""{"cidrs":["010.244.0.0/16"]}""", "spec.cidrs[0]", "must be a CIDR in canonical form")]
    [InlineData("""{"cidrs":["fd00:0:0::/48"]}""", "spec.cidrs[0]", "must be a CIDR in canonical form")]
    [InlineData("""{"cidrs":["FD00::/48"]}""", "spec.cidrs[0]", "must be a CIDR in canonical form")]
    [InlineData("""{"cidrs":["10.244.0.0/33"]}""", "spec.cidrs[0]", "must be a CIDR in canonical form")]
    [InlineData("""{"cidrs":["::ffff:10.0.0.0/104"]}""", "spec.cidrs[0]", "must be a CIDR in canonical form")]
    [InlineData("""{"cidrs":["10.0.0.0/8","10.244.0.0/16"]}""", "spec.cidrs", "Invalid value: ranges must not overlap one another")]
    [InlineData("""{"cidrs":["fd00::/8","fd00:10:244::/48"],"blockSize":{"ipv6":64}}""", "spec.cidrs", "ranges must not overlap one another")]
    [InlineData("""{"cidrs":["10.244.0.0/16"],"blockSize":{"ipv4":8}}""", "spec.blockSize", "blockSize must not be shorter than the prefix of any range of its family")]
    [InlineData("""{"cidrs":["fd00:10:244::/48"],"blockSize":{"ipv6":32}}""", "spec.blockSize", "blockSize must not be shorter than the prefix of any range of its family")]
    [InlineData("""{"cidrs":["10.244.0.0/16","fd00:10:244::/48"],"blockSize":{"ipv4":24,"ipv6":40}}""", "spec.blockSize", "blockSize.ipv6 to the IPv6 ranges")]
    [InlineData("""{"cidrs":["10.244.0.0/16"],"mtu":67}""", "spec.mtu", "Invalid value: 67: mtu must be 0 (derive from the underlay) or at least 68")]
    [InlineData("""{"cidrs":["10.244.0.0/16"],"mtu":65536}""", "spec.mtu", "65535")]
    [InlineData("""{"cidrs":["10.244.0.0/16","fd00:10:244::/48"],"blockSize":{"ipv4":24,"ipv6":64},"mtu":1279}""", "spec.mtu", "mtu must be 0 (derive from the underlay) or at least 1280 when a range is IPv6")]
    [InlineData("""{"cidrs":["fd00:10:244::/48"],"blockSize":{"ipv6":64},"mtu":576}""", "spec.mtu", "at least 1280 when a range is IPv6")]
    [InlineData("""{"cidrs":["10.244.0.0/16"],"mtu":1}""", "spec.mtu", "mtu must be 0")]
    [InlineData("""{"cidrs":["10.244.0.0/16"],"maxBlocksPerNode":0}""", "spec.maxBlocksPerNode", "maxBlocksPerNode must be within 1..64")]
    [InlineData("""{"cidrs":["10.244.0.0/16"],"maxBlocksPerNode":65}""", "spec.maxBlocksPerNode", "maxBlocksPerNode must be within 1..64")]
    [InlineData("""{"cidrs":["10.244.0.0/16"],"blockGrowth":{"minFreePercent":101}}""", "spec.blockGrowth.minFreePercent", "minFreePercent must be a percentage within 0..100")]
    [InlineData("""{"cidrs":["10.244.0.0/16"],"blockGrowth":{"minFreePercent":-1}}""", "spec.blockGrowth.minFreePercent", "minFreePercent must be a percentage within 0..100")]
    [InlineData("""{"cidrs":["10.244.0.0/16"],"blockGrowth":{"minFreeAddresses":-1}}""", "spec.blockGrowth.minFreeAddresses", "minFreeAddresses must be within 0..65536")]
    [InlineData("""{"cidrs":["10.244.0.0/16"],"blockGrowth":{"releaseEmptyAfterSeconds":-5}}""", "spec.blockGrowth.releaseEmptyAfterSeconds", "releaseEmptyAfterSeconds must be within 0..2592000")]
    public async Task PodNetworkRulesRefuseInvalidNetworks(string spec, string field, string message) =>
        AssertRefused(await Create(PodNetworks, PodNetwork(Name("bad"), spec)), field, message);

    private const string BgpPeer = """{"address":"192.168.1.1","asn":65000}""";

    [Theory]
    [InlineData("""{"cidrs":["10.244.0.0/16"],"routing":{"mode":"BGP","bgp":{"peers":[""" + BgpPeer + """]}}}""")]
    [InlineData("""{"cidrs":["10.244.0.0/16"],"routing":{"mode":"BGP","bgp":{"peers":[{"address":"fd00::1","asn":65000},{"address":"10.0.0.1","asn":65001}]}}}""")]
    [InlineData("""{"cidrs":["10.244.0.0/16"],"routing":{"mode":"Direct","bgp":{"peers":[""" + BgpPeer + """]}}}""")]
    [InlineData("""{"cidrs":["10.244.0.0/16"],"routing":{"mode":"VXLAN"}}""")]
    [InlineData("""{"cidrs":["10.244.0.0/16"],"routing":{"mode":"BGP","bgp":{"peers":[""" + BgpPeer + """],"holdTime":0}}}""")]
    [InlineData("""{"cidrs":["10.244.0.0/16"],"routing":{"mode":"BGP","bgp":{"peers":[""" + BgpPeer + """],"holdTime":3}}}""")]
    [InlineData("""{"cidrs":["10.244.0.0/16"],"routing":{"mode":"BGP","bgp":{"peers":[""" + BgpPeer + """],"holdTime":65535}}}""")]
    public async Task PodNetworkBgpRulesAcceptValidRouting(string spec)
    {
        var reply = await Create(PodNetworks, PodNetwork(Name("bgp"), spec));
        Assert.True(reply.Code == 201, $"{spec} was refused: {reply.Body}");
    }

    [Theory]
    [InlineData("""{"cidrs":["10.244.0.0/16"],"routing":{"mode":"BGP"}}""", "spec.routing", "Invalid value: routing mode BGP needs routing.bgp with at least one peer")]
    [InlineData("""{"cidrs":["10.244.0.0/16"],"routing":{"mode":"BGP","bgp":{"peers":[{"address":"192.168.001.1","asn":65000}]}}}""",
        "spec.routing.bgp.peers[0].address", "Invalid value: \"192.168.001.1\": must be an IP address in canonical form, e.g. 192.168.1.1")]
    [InlineData("""{"cidrs":["10.244.0.0/16"],"routing":{"mode":"BGP","bgp":{"peers":[{"address":"fd00::1","asn":65000},{"address":"FD00::2","asn":65000}]}}}""",
        "spec.routing.bgp.peers[1].address", "must be an IP address in canonical form")]
    [InlineData("""{"cidrs":["10.244.0.0/16"],"routing":{"mode":"BGP","bgp":{"peers":[{"address":"router.example","asn":65000}]}}}""",
        "spec.routing.bgp.peers[0].address", "must be an IP address in canonical form")]
    [InlineData("""{"cidrs":["10.244.0.0/16"],"routing":{"mode":"BGP","bgp":{"peers":[{"address":"192.168.1.1","asn":65000}],"holdTime":1}}}""",
        "spec.routing.bgp.holdTime", "Invalid value: 1: holdTime must be 0 or at least 3 seconds (RFC 4271)")]
    [InlineData("""{"cidrs":["10.244.0.0/16"],"routing":{"mode":"Auto","bgp":{"peers":[{"address":"192.168.1.1","asn":65000}],"holdTime":2}}}""",
        "spec.routing.bgp.holdTime", "holdTime must be 0 or at least 3 seconds")]
    public async Task PodNetworkBgpRulesRefuseInvalidRouting(string spec, string field, string message) =>
        AssertRefused(await Create(PodNetworks, PodNetwork(Name("badbgp"), spec)), field, message);

    [Fact]
    public async Task PodNetworkModeBgpCannotLoseItsBgpSection()
    {
        var name = Name("tobgp");
        Assert.Equal(201, (await Create(PodNetworks, PodNetwork(name, """{"cidrs":["10.244.0.0/16"]}"""))).Code);
        AssertRefused(await _t.SendAsync(HttpMethod.Patch, $"{PodNetworks}/{name}", """{"spec":{"routing":{"mode":"BGP"}}}""", "application/merge-patch+json"),
            "spec.routing", "routing mode BGP needs routing.bgp with at least one peer");
        var switched = await _t.SendAsync(HttpMethod.Patch, $"{PodNetworks}/{name}", """{"spec":{"routing":{"mode":"BGP","bgp":{"peers":[""" + BgpPeer + """]}}}}""", "application/merge-patch+json");
        Assert.True(switched.Code == 200, switched.Body?.ToJsonString());
        AssertRefused(await _t.SendAsync(HttpMethod.Patch, $"{PodNetworks}/{name}", """{"spec":{"routing":{"bgp":null}}}""", "application/merge-patch+json"),
            "spec.routing", "routing mode BGP needs routing.bgp with at least one peer");
    }

    private const string BgpRouting = ""","routing":{"mode":"BGP","bgp":{"asn":64512,"peers":[{"address":"192.168.1.1","asn":65000}],"holdTime":90}}""";

    [Theory]
    [InlineData("192.168.1.1", "90")]
    [InlineData("fd00::1", "0")]
    [InlineData("10.0.0.254", "3")]
    public async Task NodeSubnetBgpRulesAcceptWhatTheOperatorResolves(string peer, string holdTime)
    {
        var spec = GoodSubnet.TrimEnd('}') + BgpRouting.Replace("192.168.1.1", peer).Replace("\"holdTime\":90", $"\"holdTime\":{holdTime}") + "}";
        var reply = await Create(NodeSubnets, NodeSubnet(spec));
        Assert.True(reply.Code == 201, $"{spec}: {reply.Body}");
    }

    [Theory]
    [InlineData("\"address\":\"192.168.1.1\"", "\"address\":\"192.168.1.01\"", "spec.routing.bgp.peers[0].address", "Invalid value: \"192.168.1.01\": must be an IP address in canonical form, e.g. 192.168.1.1")]
    [InlineData("\"address\":\"192.168.1.1\"", "\"address\":\"fd00:0::1\"", "spec.routing.bgp.peers[0].address", "must be an IP address in canonical form")]
    [InlineData("\"address\":\"192.168.1.1\"", "\"address\":\"\"", "spec.routing.bgp.peers[0].address", "must be an IP address in canonical form")]
    [InlineData("\"holdTime\":90", "\"holdTime\":2", "spec.routing.bgp.holdTime", "Invalid value: 2: holdTime must be 0 or at least 3 seconds (RFC 4271)")]
    public async Task NodeSubnetBgpRulesRefuseWhatNoAgentCouldUse(string replace, string with, string field, string message)
    {
        var spec = GoodSubnet.TrimEnd('}') + BgpRouting.Replace(replace, with) + "}";
        Assert.NotEqual(GoodSubnet.TrimEnd('}') + BgpRouting + "}", spec);
        AssertRefused(await Create(NodeSubnets, NodeSubnet(spec)), field, message);
    }

    [Theory]
    [InlineData("has.dot")]
    [InlineData("a234567890123456789012345678901234567890123456789012345678901234")]
    public async Task PodNetworkNamesAreDnsLabels(string name) =>
        AssertRefused(await Create(PodNetworks, PodNetwork(name, """{"cidrs":["10.244.0.0/16"]}""")), "<nil>",
            "a PodNetwork name must be a DNS label (no dots, at most 63 characters) because its NodeSubnets are named <network>.<node>");

    [Fact]
    public async Task PodNetworkRangesAreAppendOnly()
    {
        var name = Name("grow");
        Assert.Equal(201, (await Create(PodNetworks, PodNetwork(name, """{"cidrs":["10.244.0.0/16"]}"""))).Code);
        var merge = "application/merge-patch+json";
        var grown = await _t.SendAsync(HttpMethod.Patch, $"{PodNetworks}/{name}", """{"spec":{"cidrs":["10.244.0.0/16","10.245.0.0/16"]}}""", merge);
        Assert.True(grown.Code == 200, grown.Body?.ToJsonString());
        var reordered = await _t.SendAsync(HttpMethod.Patch, $"{PodNetworks}/{name}", """{"spec":{"cidrs":["10.245.0.0/16","10.244.0.0/16"]}}""", merge);
        Assert.True(reordered.Code == 200, reordered.Body?.ToJsonString());
        AssertRefused(await _t.SendAsync(HttpMethod.Patch, $"{PodNetworks}/{name}", """{"spec":{"cidrs":["10.245.0.0/16"]}}""", merge),
            "spec.cidrs", "ranges are append-only: a range may be added, but an existing range may not be removed or changed");
        AssertRefused(await _t.SendAsync(HttpMethod.Patch, $"{PodNetworks}/{name}", """{"spec":{"cidrs":["10.244.0.0/15"]}}""", merge),
            "spec.cidrs", "ranges are append-only");
        var (_, stored) = await _t.SendAsync(HttpMethod.Get, $"{PodNetworks}/{name}");
        Assert.Equal(["10.245.0.0/16", "10.244.0.0/16"], stored!["spec"]!["cidrs"]!.AsArray().Select(c => c!.GetValue<string>()));
    }

    [Fact]
    public async Task UnchangedInvalidValuesOnlyWarnOnUpdate()
    {
        // Ratcheting: a status write to an object whose spec a newer rule would refuse still succeeds.
        var name = Name("ratchet");
        Assert.Equal(201, (await Create(PodNetworks, PodNetwork(name, """{"cidrs":["10.244.0.0/16"]}"""))).Code);
        var status = await _t.SendAsync(HttpMethod.Patch, $"{PodNetworks}/{name}/status", """{"status":{"nodes":1}}""", "application/merge-patch+json");
        Assert.Equal(200, status.Code);
    }

    [Theory]
    [InlineData(GoodSubnet)]
    [InlineData(GoodDualStackSubnet)]
    [InlineData("""{"nodeName":"node1","podNetwork":"default","cidrs":["10.0.0.0/8"],"gateways":["10.0.0.1"],"nodeAddresses":[],"networkCIDRs":["10.0.0.0/8"]}""")]
    [InlineData("""{"nodeName":"node1","podNetwork":"default","cidrs":["fd00::/32"],"gateways":["fd00::1"],"nodeAddresses":["fd00::11"],"networkCIDRs":["fd00::/16"]}""")]
    public async Task NodeSubnetRulesAcceptWhatTheOperatorWrites(string spec)
    {
        var reply = await Create(NodeSubnets, NodeSubnet(spec));
        Assert.True(reply.Code == 201, reply.Body?.ToJsonString());
    }

    [Theory]
    [InlineData("\"gateways\":[\"10.244.1.1\"]", "\"gateways\":[\"10.244.1.1\",\"10.244.1.2\"]", "spec.gateways", "gateways must hold exactly one address per block in cidrs, in the same order")]
    [InlineData("\"gateways\":[\"10.244.1.1\"]", "\"gateways\":[\"10.244.2.1\"]", "spec.gateways", "every gateway must lie inside one of the node's blocks (cidrs)")]
    [InlineData("\"networkCIDRs\":[\"10.244.0.0/16\"]", "\"networkCIDRs\":[\"10.245.0.0/16\"]", "spec.cidrs", "every block in cidrs must lie inside one of the network's ranges (networkCIDRs)")]
    [InlineData("\"cidrs\":[\"10.244.1.0/24\"]", "\"cidrs\":[\"10.244.1.1/24\"]", "spec.cidrs[0]", "must be a CIDR in canonical form with no host bits set, e.g. 10.244.1.0/24")]
    [InlineData("\"cidrs\":[\"10.244.1.0/24\"],\"gateways\":[\"10.244.1.1\"]", "\"cidrs\":[\"10.244.1.0/24\",\"10.244.1.0/24\"],\"gateways\":[\"10.244.1.1\",\"10.244.1.1\"]", "spec.cidrs", "blocks must be distinct")]
    [InlineData("\"gateways\":[\"10.244.1.1\"]", "\"gateways\":[\"10.244.001.1\"]", "spec.gateways[0]", "must be an IP address in canonical form, e.g. 10.244.1.1 or fd00:10:244:1::1")]
    [InlineData("\"nodeAddresses\":[\"192.168.1.11\"]", "\"nodeAddresses\":[\"fd00:0::11\"]", "spec.nodeAddresses[0]", "must be an IP address in canonical form, e.g. 192.168.1.11")]
    [InlineData("\"nodeAddresses\":[\"192.168.1.11\"]", "\"nodeAddresses\":[\"node1.example\"]", "spec.nodeAddresses[0]", "must be an IP address in canonical form")]
    [InlineData("\"networkCIDRs\":[\"10.244.0.0/16\"]", "\"networkCIDRs\":[\"10.244.0.0/16\",\"10.244.0.0\"]", "spec.networkCIDRs[1]", "must be a CIDR in canonical form with no host bits set, e.g. 10.244.0.0/16")]
    [InlineData("\"podNetwork\":\"default\"", "\"podNetwork\":\"default\",\"mtu\":67", "spec.mtu", "mtu must be 0 (derive from the underlay) or at least 68")]
    [InlineData("\"cidrs\":[\"10.244.1.0/24\"],\"gateways\":[\"10.244.1.1\"],\"nodeAddresses\":[\"192.168.1.11\"],\"networkCIDRs\":[\"10.244.0.0/16\"]",
        "\"cidrs\":[\"fd00:10:244:1::/64\"],\"gateways\":[\"fd00:10:244:1::1\"],\"nodeAddresses\":[\"192.168.1.11\"],\"networkCIDRs\":[\"fd00:10:244::/48\"],\"mtu\":1279",
        "spec.mtu", "at least 1280 when a block is IPv6")]
    [InlineData("\"cidrs\":[\"10.244.1.0/24\"],\"gateways\":[\"10.244.1.1\"],\"nodeAddresses\":[\"192.168.1.11\"],\"networkCIDRs\":[\"10.244.0.0/16\"]",
        "\"cidrs\":[\"10.0.0.0/7\"],\"gateways\":[\"10.0.0.1\"],\"nodeAddresses\":[\"192.168.1.11\"],\"networkCIDRs\":[\"10.0.0.0/7\"]",
        "spec.cidrs[0]", "a block must not be shorter than /8 (IPv4) or /32 (IPv6): agents refuse blocks that large")]
    [InlineData("\"cidrs\":[\"10.244.1.0/24\"],\"gateways\":[\"10.244.1.1\"],\"nodeAddresses\":[\"192.168.1.11\"],\"networkCIDRs\":[\"10.244.0.0/16\"]",
        "\"cidrs\":[\"fd00::/31\"],\"gateways\":[\"fd00::1\"],\"nodeAddresses\":[\"192.168.1.11\"],\"networkCIDRs\":[\"fd00::/16\"]",
        "spec.cidrs[0]", "a block must not be shorter than /8 (IPv4) or /32 (IPv6)")]
    public async Task NodeSubnetRulesRefuseInconsistentSubnets(string replace, string with, string field, string message)
    {
        Assert.Contains(replace, GoodSubnet);
        AssertRefused(await Create(NodeSubnets, NodeSubnet(GoodSubnet.Replace(replace, with))), field, message);
    }

    [Theory]
    [InlineData("other.node1", "<nil>", "a NodeSubnet must be named <spec.podNetwork>.<spec.nodeName>")]
    [InlineData("default.node2", "<nil>", "a NodeSubnet must be named <spec.podNetwork>.<spec.nodeName>")]
    [InlineData("default.node1.x", "<nil>", "a NodeSubnet must be named <spec.podNetwork>.<spec.nodeName>")]
    public async Task NodeSubnetNamesAreNetworkDotNode(string name, string field, string message) =>
        AssertRefused(await Create(NodeSubnets, JsonNode.Parse(
            $$$"""{"apiVersion":"trellis.io/v1alpha1","kind":"NodeSubnet","metadata":{"name":"{{{name}}}"},"spec":{{{GoodSubnet}}}}""")!.AsObject()), field, message);

    [Fact]
    public async Task NodeSubnetNetworkNamesHaveNoDots()
    {
        var dottedNetwork = GoodSubnet.Replace("\"podNetwork\":\"default\"", "\"podNetwork\":\"a.b\"");
        var reply = await Create(NodeSubnets, JsonNode.Parse(
            $$$"""{"apiVersion":"trellis.io/v1alpha1","kind":"NodeSubnet","metadata":{"name":"a.b.node1"},"spec":{{{dottedNetwork}}}}""")!.AsObject());
        AssertRefused(reply, "spec.podNetwork", "podNetwork must be a DNS label (no dots), so that the NodeSubnet name <podNetwork>.<nodeName> is unambiguous");
    }

    [Theory]
    [InlineData("nodeName", "node2", "nodeName is immutable")]
    [InlineData("podNetwork", "other", "podNetwork is immutable")]
    public async Task NodeSubnetIdentityIsImmutable(string field, string value, string message)
    {
        var subnet = NodeSubnet(GoodSubnet);
        var name = subnet["metadata"]!["name"]!.GetValue<string>();
        Assert.Equal(201, (await Create(NodeSubnets, subnet)).Code);
        AssertRefused(await _t.SendAsync(HttpMethod.Patch, $"{NodeSubnets}/{name}", $$$"""{"spec":{"{{{field}}}":"{{{value}}}"}}""", "application/merge-patch+json"),
            $"spec.{field}", $"Invalid value: \"{value}\": {message}");
        var moved = await _t.SendAsync(HttpMethod.Patch, $"{NodeSubnets}/{name}", """{"spec":{"cidrs":["10.244.2.0/24"],"gateways":["10.244.2.1"]}}""", "application/merge-patch+json");
        Assert.True(moved.Code == 200, moved.Body?.ToJsonString());
    }
}

/// <summary>One server with the Trellis CRDs for all rule tests: every test names its objects uniquely.</summary>
public sealed class TrellisCrdServer : IAsyncLifetime
{
    public TestServer Server { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await TestServer.StartAsync();
        await TrellisCrds.RegisterAsync(Server.Client);
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();
}
