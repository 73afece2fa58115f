using k8s.Models;
using Trellis.Operator.Planning;
using Xunit;

namespace Trellis.Operator.Tests.Planning;

public sealed class LabelSelectorMatchTests
{
    private static readonly Dictionary<string, string> GpuNode = new() { ["pool"] = "gpu", ["zone"] = "a" };

    private static V1LabelSelectorRequirement Expr(string key, string op, params string[] values) =>
        new() { Key = key, OperatorProperty = op, Values = values.Length == 0 ? null : values.ToList() };

    [Fact]
    public void Null_and_empty_selectors_select_every_node()
    {
        Assert.True(LabelSelectorMatch.Matches(null, GpuNode));
        Assert.True(LabelSelectorMatch.Matches(new V1LabelSelector(), null));
    }

    [Theory]
    [InlineData("gpu", true)]
    [InlineData("cpu", false)]
    public void MatchLabels_needs_every_pair(string pool, bool expected)
    {
        var selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["pool"] = pool, ["zone"] = "a" } };
        Assert.Equal(expected, LabelSelectorMatch.Matches(selector, GpuNode));
        Assert.False(LabelSelectorMatch.Matches(selector, new Dictionary<string, string> { ["pool"] = pool }));
    }

    [Theory]
    [InlineData("pool", "In", new[] { "gpu", "big" }, true)]
    [InlineData("pool", "In", new[] { "cpu" }, false)]
    [InlineData("missing", "In", new[] { "x" }, false)]
    [InlineData("pool", "NotIn", new[] { "cpu" }, true)]
    [InlineData("pool", "NotIn", new[] { "gpu" }, false)]
    [InlineData("missing", "NotIn", new[] { "x" }, true)]
    [InlineData("pool", "Exists", new string[0], true)]
    [InlineData("missing", "Exists", new string[0], false)]
    [InlineData("pool", "DoesNotExist", new string[0], false)]
    [InlineData("missing", "DoesNotExist", new string[0], true)]
    [InlineData("pool", "Gt", new[] { "1" }, false)]
    public void Expressions_follow_kubernetes_semantics(string key, string op, string[] values, bool expected)
    {
        var selector = new V1LabelSelector { MatchExpressions = [Expr(key, op, values)] };
        Assert.Equal(expected, LabelSelectorMatch.Matches(selector, GpuNode));
    }

    [Fact]
    public void Labels_and_expressions_must_all_hold()
    {
        var selector = new V1LabelSelector
        {
            MatchLabels = new Dictionary<string, string> { ["zone"] = "a" },
            MatchExpressions = [Expr("pool", "In", "gpu"), Expr("spot", "DoesNotExist")],
        };
        Assert.True(LabelSelectorMatch.Matches(selector, GpuNode));
        Assert.False(LabelSelectorMatch.Matches(selector, new Dictionary<string, string>(GpuNode) { ["spot"] = "yes" }));
    }

    [Fact]
    public void Problems_name_the_key_and_operator()
    {
        var selector = new V1LabelSelector
        {
            MatchExpressions = [Expr("pool", "In"), Expr("zone", "Exists", "a"), Expr("tier", "Near", "x"), Expr("ok", "NotIn", "y")],
        };
        var problems = LabelSelectorMatch.Problems(selector);
        Assert.Equal(3, problems.Count);
        Assert.Contains("\"pool\"", problems[0]);
        Assert.Contains("\"zone\"", problems[1]);
        Assert.Contains("Near", problems[2]);
        Assert.Empty(LabelSelectorMatch.Problems(null));
    }
}
