using System.Text.Json;
using Trellis.Crds;
using Trellis.NodeAgent.Planning;
using static Trellis.NodeAgent.Tests.Planning.SubnetBuilder;

namespace Trellis.NodeAgent.Tests.Planning;

public sealed class RenderingTests
{
    [Fact]
    public void Conflist_names_the_plugin_ranges_bridge_mtu_and_chains_portmap()
    {
        var plan = Plan("node1", Classic(RoutingModes.Vxlan));
        using var json = JsonDocument.Parse(CniConflist.Render(plan.Cni));
        var root = json.RootElement;

        Assert.Equal("1.0.0", root.GetProperty("cniVersion").GetString());
        Assert.Equal(["1.0.0"], root.GetProperty("cniVersions").EnumerateArray().Select(v => v.GetString()));
        Assert.Equal("trellis", root.GetProperty("name").GetString());
        var plugins = root.GetProperty("plugins");
        Assert.Equal(2, plugins.GetArrayLength());
        var trellis = plugins[0];
        Assert.Equal("trellis-cni", trellis.GetProperty("type").GetString());
        Assert.Equal("trellis0", trellis.GetProperty("bridge").GetString());
        Assert.Equal(1450, trellis.GetProperty("mtu").GetInt32());
        Assert.Equal("/var/lib/trellis/ipam", trellis.GetProperty("ipam").GetProperty("dataDir").GetString());
        var range = trellis.GetProperty("ipam").GetProperty("ranges")[0][0];
        Assert.Equal("10.244.1.0/24", range.GetProperty("subnet").GetString());
        Assert.Equal("10.244.1.1", range.GetProperty("gateway").GetString());
        Assert.Equal("portmap", plugins[1].GetProperty("type").GetString());
        Assert.True(plugins[1].GetProperty("capabilities").GetProperty("portMappings").GetBoolean());
    }

    [Fact]
    public void Conflist_holds_one_range_set_per_family()
    {
        var subnets = new[]
        {
            Subnet("node1", "192.168.1.11", RoutingModes.Direct, ["10.244.1.0/24", "fd10::1:0:0:0/80"], networkCidrs: ["10.244.0.0/16", "fd10::/64"]),
        };
        using var json = JsonDocument.Parse(CniConflist.Render(Plan("node1", subnets).Cni));
        var ranges = json.RootElement.GetProperty("plugins")[0].GetProperty("ipam").GetProperty("ranges");
        Assert.Equal(2, ranges.GetArrayLength());
        Assert.Equal("fd10::1:0:0:0/80", ranges[1][0].GetProperty("subnet").GetString());
        Assert.Equal("fd10::1:0:0:1", ranges[1][0].GetProperty("gateway").GetString());
    }

    [Fact]
    public void Masquerade_ruleset_replaces_the_table_and_never_masquerades_pod_ranges()
    {
        var plan = Plan("node1", Classic());
        var text = MasqueradeRuleset.Render(plan.Masquerade);

        Assert.Equal(
            "add table inet trellis\n" +
            "delete table inet trellis\n" +
            "table inet trellis {\n" +
            "\tset pod_ranges_ip {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\telements = { 10.244.0.0/16 }\n\t}\n" +
            "\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n" +
            "\t\tip saddr { 10.244.1.0/24 } ip daddr != @pod_ranges_ip counter masquerade\n" +
            "\t}\n}\n",
            text);
    }

    [Fact]
    public void Masquerade_ruleset_covers_ipv6_blocks_with_their_own_set()
    {
        var subnets = new[]
        {
            Subnet("node1", "192.168.1.11", RoutingModes.Direct, ["10.244.1.0/24", "fd10::1:0:0:0/80"], networkCidrs: ["10.244.0.0/16", "fd10::/64"]),
        };
        var text = MasqueradeRuleset.Render(Plan("node1", subnets).Masquerade);

        Assert.Contains("elements = { fd10::/64 }", text);
        Assert.Contains("ip6 saddr { fd10::1:0:0:0/80 } ip6 daddr != @pod_ranges_ip6 counter masquerade", text);
    }

    [Fact]
    public void Without_masquerade_the_script_only_removes_the_table()
    {
        Assert.Equal("add table inet trellis\ndelete table inet trellis\n", MasqueradeRuleset.Render(null));
    }
}
