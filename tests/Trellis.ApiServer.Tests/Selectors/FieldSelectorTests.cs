using System.Text.Json;
using Trellis.ApiServer.Selectors;

namespace Trellis.ApiServer.Tests.Selectors;

public sealed class FieldSelectorTests
{
    private static readonly JsonDocument Event = JsonDocument.Parse("""
        {"metadata":{"name":"e1","namespace":"default"},"involvedObject":{"kind":"Node","name":"node-a"},"count":3,"spec":{"unschedulable":true}}
        """);

    [Theory]
    [InlineData("", true)]
    [InlineData("metadata.name=e1", true)]
    [InlineData("metadata.name==e1", true)]
    [InlineData("metadata.name!=e1", false)]
    [InlineData("metadata.namespace=default,involvedObject.name=node-a", true)]
    [InlineData("involvedObject.kind=Node,involvedObject.name=node-b", false)]
    [InlineData("spec.nodeName=", true)]
    [InlineData("spec.nodeName!=", false)]
    [InlineData("count=3", true)]
    [InlineData("spec.unschedulable=true", true)]
    [InlineData("metadata.name.deeper=x", false)]
    public void Matches(string selector, bool expected) =>
        Assert.Equal(expected, FieldSelector.Parse(selector).Matches(Event.RootElement));

    [Theory]
    [InlineData("metadata.name")]
    [InlineData("=x")]
    [InlineData("metadata..name=x")]
    public void RefusesMalformedSelectors(string selector) =>
        Assert.Contains(selector, Assert.Throws<FormatException>(() => FieldSelector.Parse(selector)).Message);
}
