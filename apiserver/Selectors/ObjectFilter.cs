using System.Text.Json;

namespace Trellis.ApiServer.Selectors;

/// <summary>The label and field selectors of one list or watch request, both required to match.</summary>
public sealed record ObjectFilter(LabelSelector Labels, FieldSelector Fields)
{
    public static readonly ObjectFilter Everything = new(LabelSelector.Everything, FieldSelector.Everything);

    public bool IsEverything => Labels.IsEverything && Fields.IsEverything;

    public bool Matches(JsonElement obj) => Labels.Matches(obj) && Fields.Matches(obj);
}
