using System.Text.Json;
using Trellis.ApiServer.Selectors;

namespace Trellis.ApiServer.Tests.Selectors;

public sealed class LabelSelectorTests
{
    private static readonly Dictionary<string, string> Labels = new()
    {
        ["app"] = "web",
        ["tier"] = "front",
        ["trellis.io/network"] = "blue",
        ["empty"] = "",
    };

    [Theory]
    [InlineData("", true)]
    [InlineData("app=web", true)]
    [InlineData("app==web", true)]
    [InlineData("app=db", false)]
    [InlineData("app!=db", true)]
    [InlineData("app!=web", false)]
    [InlineData("missing!=x", true)]
    [InlineData("app in (web,db)", true)]
    [InlineData("app in (db)", false)]
    [InlineData("app notin (db)", true)]
    [InlineData("app notin (web, db)", false)]
    [InlineData("missing notin (x)", true)]
    [InlineData("missing in (x)", false)]
    [InlineData("app", true)]
    [InlineData("missing", false)]
    [InlineData("!missing", true)]
    [InlineData("!app", false)]
    [InlineData("app=web,tier=front", true)]
    [InlineData("app=web,tier=back", false)]
    [InlineData("trellis.io/network=blue", true)]
    [InlineData(" app = web , !missing ", true)]
    [InlineData("empty=", true)]
    [InlineData("app=", false)]
    [InlineData("in in (x)", false)]
    public void Matches(string selector, bool expected) =>
        Assert.Equal(expected, LabelSelector.Parse(selector).Matches(Labels));

    [Theory]
    [InlineData("app in web")]
    [InlineData("app in (web")]
    [InlineData("=web")]
    [InlineData("app=web,")]
    [InlineData("app ~ web")]
    [InlineData("app=-bad")]
    [InlineData("-app=web")]
    public void RefusesMalformedSelectorsNamingThem(string selector)
    {
        var e = Assert.Throws<FormatException>(() => LabelSelector.Parse(selector));
        Assert.Contains(selector, e.Message);
    }

    [Fact]
    public void ReadsLabelsFromAnObject()
    {
        using var document = JsonDocument.Parse("""{"metadata":{"name":"a","labels":{"zone":"east"}}}""");
        Assert.True(LabelSelector.Parse("zone=east").Matches(document.RootElement));
        Assert.False(LabelSelector.Parse("zone=west").Matches(document.RootElement));
        using var unlabelled = JsonDocument.Parse("""{"metadata":{"name":"a"}}""");
        Assert.True(LabelSelector.Parse("!zone").Matches(unlabelled.RootElement));
    }
}
