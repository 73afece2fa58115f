using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace Trellis.Local.Output;

/// <summary>
/// Renders a list the way `kubectl get` does: the server's Table, priority-0 columns (all of them
/// with <c>wide</c>, as -o wide), aligned; <c>allNamespaces</c> puts a NAMESPACE column first, as -A.
/// </summary>
public static class KubectlTable
{
    public static async Task<string> RenderAsync(HttpClient http, string path, CancellationToken ct, bool wide = false, bool allNamespaces = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.Add(MediaTypeWithQualityHeaderValue.Parse("application/json;as=Table;v=v1;g=meta.k8s.io"));
        using var response = await http.SendAsync(request, ct);
        response.EnsureSuccessStatusCode();
        var table = JsonNode.Parse(await response.Content.ReadAsStringAsync(ct))!;
        var columns = (table["columnDefinitions"] as JsonArray ?? [])
            .Select((c, i) => (Index: i, Name: c!["name"]!.GetValue<string>().ToUpperInvariant(), Priority: c["priority"]?.GetValue<int>() ?? 0))
            .Where(c => wide || c.Priority == 0).ToList();
        var rows = (table["rows"] as JsonArray ?? [])
            .Select(r => (allNamespaces ? [r!["object"]?["metadata"]?["namespace"]?.ToString() ?? ""] : new List<string>())
                .Concat(columns.Select(c => Cell(r!["cells"]![c.Index]))).ToList()).ToList();
        if (rows.Count == 0) return "No resources found.\n";
        var header = (allNamespaces ? ["NAMESPACE"] : new List<string>()).Concat(columns.Select(c => c.Name)).ToList();
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Max(r => r[i].Length))).ToList();
        var lines = new[] { header }.Concat(rows)
            .Select(cells => string.Join("   ", cells.Select((cell, i) => i == cells.Count - 1 ? cell : cell.PadRight(widths[i]))).TrimEnd());
        return string.Join('\n', lines) + "\n";
    }

    private static string Cell(JsonNode? cell) => cell switch
    {
        null => "<none>",
        JsonArray array => string.Join(",", array.Select(a => a?.ToString())),
        _ => cell.ToString(),
    };
}
