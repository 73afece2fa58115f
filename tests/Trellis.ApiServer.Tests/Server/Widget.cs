using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace Trellis.ApiServer.Tests.Server;

/// <summary>The custom resource the tests register through <see cref="TestServer.WidgetCrd"/>.</summary>
public sealed class Widget : IKubernetesObject<V1ObjectMeta>
{
    public const string Group = "test.trellis.io";
    public const string Version = "v1";
    public const string Plural = "widgets";

    [JsonPropertyName("apiVersion")] public string ApiVersion { get; set; } = "test.trellis.io/v1";
    [JsonPropertyName("kind")] public string Kind { get; set; } = "Widget";
    [JsonPropertyName("metadata")] public V1ObjectMeta Metadata { get; set; } = new();
    [JsonPropertyName("spec")] public WidgetSpec Spec { get; set; } = new();
    [JsonPropertyName("status")] public WidgetStatus? Status { get; set; }
}

public sealed class WidgetSpec
{
    [JsonPropertyName("size")] public int? Size { get; set; }
    [JsonPropertyName("color")] public string? Color { get; set; }
    [JsonPropertyName("tags")] public List<string>? Tags { get; set; }
    [JsonPropertyName("unknown")] public string? Unknown { get; set; }
}

public sealed class WidgetStatus
{
    [JsonPropertyName("observedGeneration")] public long? ObservedGeneration { get; set; }
    [JsonPropertyName("conditions")] public List<V1Condition>? Conditions { get; set; }
}

public sealed class WidgetList : IKubernetesObject<V1ListMeta>, IItems<Widget>
{
    [JsonPropertyName("apiVersion")] public string ApiVersion { get; set; } = "test.trellis.io/v1";
    [JsonPropertyName("kind")] public string Kind { get; set; } = "WidgetList";
    [JsonPropertyName("metadata")] public V1ListMeta Metadata { get; set; } = new();
    [JsonPropertyName("items")] public IList<Widget> Items { get; set; } = [];
}
