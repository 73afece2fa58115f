using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Trellis.ApiServer.Storage;

namespace Trellis.ApiServer.Tables;

/// <summary>What each row's "object" carries (?includeObject=).</summary>
public enum IncludeObject { None, Metadata, Object }

/// <summary>
/// Server-side printing: meta.k8s.io/v1 Table for kubectl get. Custom resources use their
/// additionalPrinterColumns; nodes get kubectl's NAME STATUS ROLES AGE VERSION, pods the <see cref="PodTable"/>; everything else
/// the type's own columns or NAME AGE.
/// </summary>
public static class TableBuilder
{
    private static readonly PrinterColumn NameColumn = new("Name", "string", ".metadata.name", "name",
        "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically.");

    private static readonly IReadOnlyList<PrinterColumn> NodeColumns =
    [
        NameColumn,
        new("Status", "string", "", "", "The status of the node"),
        new("Roles", "string", "", "", "The roles of the node"),
        new("Age", "date", ".metadata.creationTimestamp", "", "CreationTimestamp is a timestamp representing the server time when this object was created."),
        new("Version", "string", ".status.nodeInfo.kubeletVersion", "", "Kubelet Version reported by the node."),
        new("Internal-IP", "string", ".status.addresses[?(@.type==\"InternalIP\")].address", "", "List of addresses reachable to the node. Queried from cloud provider, if available.", 1),
    ];

    public static IReadOnlyList<PrinterColumn> Columns(ResourceType type)
    {
        if (type.Group.Length == 0 && type.Plural == "nodes") return NodeColumns;
        if (PodTable.Prints(type)) return PodTable.Columns;
        if (type.PrinterColumns.Count > 0) return [NameColumn, .. type.PrinterColumns];
        return [NameColumn, new PrinterColumn("Age", "date", ".metadata.creationTimestamp", "", "CreationTimestamp is a timestamp representing the server time when this object was created.")];
    }

    /// <param name="withColumns">False for watch events after the first, as the real server sends definitions once.</param>
    public static JsonObject Build(ResourceType type, IEnumerable<JsonElement> objects, string? resourceVersion, string? continueToken,
        IncludeObject include, DateTimeOffset now, bool withColumns = true)
    {
        var columns = Columns(type);
        var metadata = new JsonObject();
        if (resourceVersion is not null) metadata["resourceVersion"] = resourceVersion;
        if (continueToken is not null) metadata["continue"] = continueToken;
        var table = new JsonObject
        {
            ["kind"] = "Table",
            ["apiVersion"] = "meta.k8s.io/v1",
            ["metadata"] = metadata,
        };
        table["columnDefinitions"] = withColumns
            ? new JsonArray(columns.Select(c => (JsonNode)new JsonObject
            {
                ["name"] = c.Name,
                ["type"] = c.Type,
                ["format"] = c.Format,
                ["description"] = c.Description,
                ["priority"] = c.Priority,
            }).ToArray())
            : null;
        table["rows"] = new JsonArray(objects.Select(o => (JsonNode)Row(type, columns, o, include, now)).ToArray());
        return table;
    }

    private static JsonObject Row(ResourceType type, IReadOnlyList<PrinterColumn> columns, JsonElement obj, IncludeObject include, DateTimeOffset now)
    {
        var isNode = type.Group.Length == 0 && type.Plural == "nodes";
        var cells = new JsonArray();
        if (PodTable.Prints(type)) cells = PodTable.Cells(obj, now);
        else foreach (var column in columns)
        {
            if (isNode && column.Name == "Status") cells.Add(NodeStatus(obj));
            else if (isNode && column.Name == "Roles") cells.Add(NodeRoles(obj));
            else if (column.Compute is not null) cells.Add(column.Compute(obj));
            else cells.Add(Cell(column, obj, now));
        }
        var row = new JsonObject { ["cells"] = cells };
        switch (include)
        {
            case IncludeObject.Object:
                row["object"] = JsonNode.Parse(obj.GetRawText());
                break;
            case IncludeObject.Metadata:
                row["object"] = new JsonObject
                {
                    ["kind"] = "PartialObjectMetadata",
                    ["apiVersion"] = "meta.k8s.io/v1",
                    ["metadata"] = obj.TryGetProperty("metadata", out var m) ? JsonNode.Parse(m.GetRawText()) : new JsonObject(),
                };
                break;
        }
        return row;
    }

    /// <summary>One cell: null (printed "&lt;none&gt;") when the path reaches nothing, typed per the column.</summary>
    public static JsonNode? Cell(PrinterColumn column, JsonElement obj, DateTimeOffset now)
    {
        IReadOnlyList<JsonElement> values;
        try { values = SimpleJsonPath.Evaluate(obj, column.JsonPath); }
        catch (FormatException) { return null; }
        if (values.Count == 0) return null;
        if (values.Count == 1)
        {
            var value = values[0];
            switch (column.Type)
            {
                case "date" when value.ValueKind == JsonValueKind.String
                    && DateTimeOffset.TryParse(value.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time):
                    return HumanDuration.Format(now - time);
                case "integer" when value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var integer):
                    return integer;
                case "number" when value.ValueKind == JsonValueKind.Number:
                    return value.GetDouble();
                case "boolean" when value.ValueKind is JsonValueKind.True or JsonValueKind.False:
                    return value.GetBoolean();
            }
            if (value.ValueKind == JsonValueKind.Array && value.EnumerateArray().All(IsScalar))
                return string.Join(",", value.EnumerateArray().Select(SimpleJsonPath.Render));
            return SimpleJsonPath.Render(value);
        }
        return string.Join(",", values.Select(SimpleJsonPath.Render));
    }

    private static bool IsScalar(JsonElement e) => e.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array);

    private static string NodeStatus(JsonElement node)
    {
        var ready = SimpleJsonPath.Evaluate(node, ".status.conditions[?(@.type==\"Ready\")].status");
        var status = ready.Count == 0 ? "Unknown" : SimpleJsonPath.Render(ready[0]) switch { "True" => "Ready", "False" => "NotReady", _ => "Unknown" };
        var unschedulable = SimpleJsonPath.Evaluate(node, ".spec.unschedulable");
        if (unschedulable.Count == 1 && unschedulable[0].ValueKind == JsonValueKind.True) status += ",SchedulingDisabled";
        return status;
    }

    private static string NodeRoles(JsonElement node)
    {
        const string prefix = "node-role.kubernetes.io/";
        var roles = Selectors.LabelSelector.LabelsOf(node)
            .Select(l => l.Key.StartsWith(prefix, StringComparison.Ordinal) ? l.Key[prefix.Length..]
                : l.Key == "kubernetes.io/role" ? l.Value : null)
            .Where(r => !string.IsNullOrEmpty(r)).Order(StringComparer.Ordinal).ToArray();
        return roles.Length == 0 ? "<none>" : string.Join(",", roles);
    }
}
