using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace Trellis.Local.Output;

/// <summary>Renders a list the way `kubectl get` does: the server's Table, priority-0 columns, aligned.</summary>
public static class KubectlTable
{
    public static async Task<string> RenderAsync(HttpClient http, string path, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.Add(MediaTypeWithQualityHeaderValue.Parse("application/json;as=Table;v=v1;g=meta.k8s.io"));
        using var response = await http.SendAsync(request, ct);
        response.EnsureSuccessStatusCode();
        var table = JsonNode.Parse(await response.Content.ReadAsStringAsync(ct))!;
        var columns = (table["columnDefinitions"] as JsonArray ?? [])
            .Select((c, i) => (Index: i, Name: c!["name"]!.GetValue<string>().ToUpperInvariant(), Priority: c["priority"]?.GetValue<int>() ?? 0))
            .Where(c => c.Priority == 0).ToList();
        var rows = (table["rows"] as JsonArray ?? [])
            .Select(r => columns.Select(c => Cell(r!["cells"]![c.Index])).ToList()).ToList();
        if (rows.Count == 0) return "No resources found.\n";
        var widths = columns.Select((c, i) => Math.Max(c.Name.Length, rows.Max(r => r[i].Length))).ToList();
        var lines = new[] { columns.Select(c => c.Name).ToList() }.Concat(rows)
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
