using Trellis.Local.Pods;
using Xunit;

namespace Trellis.Local.Tests.Pods;

public sealed class SandboxNamesTests
{
    [Fact]
    public void A_sandbox_is_named_for_its_pod() =>
        Assert.Equal("trellis-pod-x-a", SandboxNames.Preferred("trellis", "x", "a"));

    [Fact]
    public void A_name_too_long_for_a_file_is_cut_and_hashed_and_stays_distinct()
    {
        var longName = new string('a', 253);
        var one = SandboxNames.Preferred("trellis", "x", longName);
        var other = SandboxNames.Preferred("trellis", "y", longName);
        Assert.True(one.Length <= SandboxNames.MaxLength);
        Assert.StartsWith("trellis-pod-x-aaaa", one);
        Assert.NotEqual(one, other);
        Assert.Equal(one, SandboxNames.Preferred("trellis", "x", longName));
    }

    [Fact]
    public void Names_that_meet_get_a_unique_form_per_sandbox()
    {
        Assert.Equal(SandboxNames.Preferred("t", "a-b", "c"), SandboxNames.Preferred("t", "a", "b-c"));
        var first = SandboxNames.Unique("t", "a", "b-c", SandboxIds.New());
        var second = SandboxNames.Unique("t", "a", "b-c", SandboxIds.New());
        Assert.NotEqual(first, second);
        Assert.StartsWith("t-pod-a-b-c-", first);
    }

    [Theory]
    [InlineData("trellis-pod-x-a", true)]
    [InlineData("trellis-node1", false)]
    [InlineData("trellis-underlay", false)]
    [InlineData("trellis2-pod-x-a", false)]
    public void Sandboxes_are_told_apart_from_nodes(string name, bool sandbox) =>
        Assert.Equal(sandbox, SandboxNames.IsSandbox("trellis", name));
}
