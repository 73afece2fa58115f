using System.Text.Json;

namespace Trellis.NetworkPolicy.Ruleset;

/// <summary>Reads the counters out of `nft -j list counters table inet trellis-policy`.</summary>
public static class CounterListing
{
    /// <exception cref="FormatException">The text is not nft's JSON listing.</exception>
    public static IReadOnlyDictionary<string, CounterValue> Parse(string json)
    {
        var counters = new Dictionary<string, CounterValue>(StringComparer.Ordinal);
        try
        {
            using var document = JsonDocument.Parse(json);
            foreach (var item in document.RootElement.GetProperty("nftables").EnumerateArray())
                if (item.TryGetProperty("counter", out var counter))
                    counters[counter.GetProperty("name").GetString()!] =
                        new CounterValue(counter.GetProperty("packets").GetInt64(), counter.GetProperty("bytes").GetInt64());
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new FormatException($"nft's counter listing is not the JSON expected: {e.Message}", e);
        }
        return counters;
    }
}
