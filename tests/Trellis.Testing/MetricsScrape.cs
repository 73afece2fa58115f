using System.Text.Json;

namespace Trellis.Testing;

/// <summary>One sample as Prometheus' own Python client parsed it: its name (with _total, _bucket, …), labels and value.</summary>
public sealed record MetricSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>What a scrape of /healthz, /readyz and /metrics found: the status codes, and the families and samples of /metrics.</summary>
public sealed record MetricsScrape(int Healthz, int Readyz, int Metrics, string ContentType, IReadOnlyDictionary<string, string> FamilyTypes, IReadOnlyList<MetricSample> Samples)
{
    /// <summary>
    /// Scrapes <paramref name="baseUrl"/> with Debian's python3-prometheus-client (software nobody here wrote): a
    /// /metrics it cannot parse fails the scrape. Runs inside <paramref name="inside"/> when given.
    /// </summary>
    public static MetricsScrape Run(string baseUrl, NetworkNamespace? inside = null)
    {
        // Debian's interpreter, where the Debian package is installed (a python3 earlier on PATH may be another).
        string[] command = ["/usr/bin/python3", "-c", Script, baseUrl];
        var result = inside is null ? Shell.Run(command[0], command[1..]) : inside.Run(command[0], command[1..]);
        if (!result.Succeeded)
            throw new InvalidOperationException($"scraping {baseUrl} failed: {result.StandardError.Trim()}");
        using var json = JsonDocument.Parse(result.StandardOutput);
        var root = json.RootElement;
        var families = root.GetProperty("families").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
        var samples = root.GetProperty("samples").EnumerateArray().Select(s => new MetricSample(s[0].GetString()!,
            s[1].EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!), s[2].GetDouble())).ToList();
        return new MetricsScrape(root.GetProperty("healthz").GetInt32(), root.GetProperty("readyz").GetInt32(), root.GetProperty("metrics").GetInt32(),
            root.GetProperty("contentType").GetString() ?? "", families, samples);
    }

    public double? Value(string sample, Func<IReadOnlyDictionary<string, string>, bool>? labels = null) =>
        Samples.FirstOrDefault(s => s.Name == sample && (labels is null || labels(s.Labels)))?.Value;

    private const string Script = """
        import json, sys, urllib.request, urllib.error
        from prometheus_client.parser import text_string_to_metric_families
        base = sys.argv[1]
        def get(path):
            try:
                with urllib.request.urlopen(base + path, timeout=10) as r:
                    return r.status, r.headers.get("Content-Type", ""), r.read().decode()
            except urllib.error.HTTPError as e:
                return e.code, e.headers.get("Content-Type", ""), e.read().decode()
        healthz = get("/healthz")[0]
        readyz = get("/readyz")[0]
        code, content_type, text = get("/metrics")
        families = list(text_string_to_metric_families(text)) if code == 200 else []
        print(json.dumps({
            "healthz": healthz, "readyz": readyz, "metrics": code, "contentType": content_type,
            "families": {f.name: f.type for f in families},
            "samples": [[s.name, s.labels, s.value] for f in families for s in f.samples],
        }))
        """;
}
