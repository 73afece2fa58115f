using Trellis.NetworkPolicy.Ruleset;

namespace Trellis.NetworkPolicy.Tests.Compiling;

public sealed class PolicyTableScriptTests
{
    private static PolicyTable Table(params string[] addresses) => new("t",
        [new NftCounter("drop.in.x/a", "ingress of \"x/a\"")],
        [new NftSet("s", SetKind.Addresses, IpFamily.V4, addresses.Select(a => (NftElement)new AddressElement(Addresses.AddressRange.Of(System.Net.IPAddress.Parse(a)))).ToList())],
        [new NftChain("c", "a chain", "type filter hook forward priority filter; policy accept;", [new AllowRule(new PeerMatch(IpFamily.V4, PacketEnd.Source, "s"), null, null)])]);

    [Fact]
    public void AReplacementWorksWhetherOrNotTheTableExistsAndKeepsCounterValues()
    {
        var script = PolicyTableScript.Replace(Table("10.0.0.1"), new Dictionary<string, CounterValue> { ["drop.in.x/a"] = new(5, 300) });
        Assert.StartsWith("add table inet t\ndelete table inet t\ntable inet t {\n", script);
        Assert.Contains("\tcounter drop.in.x/a {\n\t\tcomment \"ingress of ?x/a?\"\n\t\tpackets 5 bytes 300\n\t}\n", script);
        Assert.Contains("elements = { 10.0.0.1 }", script);
        Assert.Contains("\t\tip saddr @s accept\n", script);
    }

    [Fact]
    public void CommentsKeepNoCharacterThatCouldEndTheStringOrTheLine()
    {
        var table = Table("10.0.0.1") with { Counters = [new NftCounter("c", "x\"; flush ruleset\n# \\ `$")] };
        Assert.Contains("comment \"x?; flush ruleset?# ? `$\"\n", PolicyTableScript.Replace(table));
    }

    [Fact]
    public void TheStructureLeavesOutElementsAndCounterValues()
    {
        Assert.Equal(PolicyTableScript.Structure(Table("10.0.0.1")), PolicyTableScript.Structure(Table("10.0.0.2", "10.0.0.3")));
        Assert.DoesNotContain("10.0.0.1", PolicyTableScript.Structure(Table("10.0.0.1")));
    }

    [Fact]
    public void ElementChangesDeleteBeforeTheyAdd()
    {
        var changes = PolicyTableScript.ElementChanges(Table("10.0.0.1", "10.0.0.2"), Table("10.0.0.2", "10.0.0.3"));
        Assert.Equal("delete element inet t s { 10.0.0.1 }\nadd element inet t s { 10.0.0.3 }\n", changes);
        Assert.Equal("", PolicyTableScript.ElementChanges(Table("10.0.0.1"), Table("10.0.0.1")));
    }

    [Fact]
    public void AChangedStructureNeedsAReplacement()
    {
        var other = Table("10.0.0.1") with { Chains = [] };
        Assert.Null(PolicyTableScript.ElementChanges(Table("10.0.0.1"), other));
        Assert.Null(PolicyTableScript.ElementChanges(Table("10.0.0.1"), Table("10.0.0.1") with { Name = "u" }));
    }

    [Fact]
    public void LongElementListsAreWrappedAndLongCommentsCut()
    {
        var table = Table(Enumerable.Range(1, 20).Select(i => $"10.0.0.{i}").ToArray()) with
        {
            Counters = [new NftCounter("c", new string('x', 300))],
        };
        var script = PolicyTableScript.Replace(table);
        Assert.Contains(",\n\t\t\t10.0.0.9, ", script);
        Assert.Contains($"comment \"{new string('x', 120)}\"", script);
    }

    [Fact]
    public void CounterListingsAreReadFromNftJson()
    {
        const string json = """{"nftables": [{"metainfo": {"version": "1.0.6"}}, {"counter": {"family": "inet", "name": "drop.in.x/a", "table": "trellis-policy", "handle": 3, "packets": 7, "bytes": 420}}]}""";
        Assert.Equal(new CounterValue(7, 420), CounterListing.Parse(json)["drop.in.x/a"]);
        Assert.Throws<FormatException>(() => CounterListing.Parse("Error: No such file or directory"));
    }
}
