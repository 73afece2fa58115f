using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using k8s.Models;

namespace Trellis.Crds.Tests;

/// <summary>What a printer column's JSONPath leads to in the schema.</summary>
public sealed record ResolvedColumn(JsonObject? Schema, IReadOnlyList<string> FilterValues, IReadOnlyList<string> Problems);

/// <summary>
/// Follows the JSONPath subset printer columns use (<c>.a.b</c>, <c>[0]</c>, <c>[*]</c>,
/// <c>[?(@.type=="Ready")]</c>) through a structural schema, so a column cannot point at nothing.
/// </summary>
public static partial class PrinterColumnPath
{
    public static ResolvedColumn Resolve(JsonObject rootSchema, string jsonPath)
    {
        var problems = new List<string>();
        var filterValues = new List<string>();
        var tokens = Token().Matches(jsonPath);
        if (string.Concat(tokens.Select(t => t.Value)) != jsonPath)
            return new ResolvedColumn(null, filterValues, [$"'{jsonPath}' is not a JSONPath of fields, indexes and equality filters"]);

        JsonObject? node = rootSchema;
        var inMetadata = false;
        foreach (Match token in tokens)
        {
            if (token.Groups["field"].Success)
            {
                var field = token.Groups["field"].Value;
                if (inMetadata)
                {
                    // The CRD schema does not spell out metadata; the API server's ObjectMeta does.
                    if (!typeof(V1ObjectMeta).GetProperties().Any(p => TypeSchemaComparison.JsonName(p) == field))
                        problems.Add($"'{jsonPath}': metadata has no field '{field}'");
                    node = field == "creationTimestamp" ? new JsonObject { ["type"] = "string", ["format"] = "date-time" } : null;
                    inMetadata = false;
                    continue;
                }
                if (node?["properties"]?[field] is not JsonObject child)
                {
                    problems.Add($"'{jsonPath}': no field '{field}'");
                    return new ResolvedColumn(null, filterValues, problems);
                }
                inMetadata = ReferenceEquals(node, rootSchema) && field == "metadata";
                node = child;
            }
            else
            {
                if ((string?)node?["type"] != "array" || node["items"] is not JsonObject items)
                {
                    problems.Add($"'{jsonPath}': '{token.Value}' applied to something that is not an array");
                    return new ResolvedColumn(null, filterValues, problems);
                }
                if (token.Groups["filterField"].Success)
                {
                    if (items["properties"]?[token.Groups["filterField"].Value] is null)
                        problems.Add($"'{jsonPath}': array items have no field '{token.Groups["filterField"].Value}' to filter on");
                    filterValues.Add(token.Groups["filterValue"].Value);
                }
                node = items;
            }
        }
        return new ResolvedColumn(node, filterValues, problems);
    }

    [GeneratedRegex("""\.(?<field>[A-Za-z_][A-Za-z0-9_]*)|\[(?<index>[0-9]+|\*)\]|\[\?\(@\.(?<filterField>[A-Za-z_][A-Za-z0-9_]*)=="(?<filterValue>[^"]*)"\)\]""")]
    private static partial Regex Token();
}
