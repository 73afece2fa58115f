using Trellis.Testing;

namespace Trellis.Bgp.Tests;

/// <summary>One message a real router sent (see Captured/README.md).</summary>
public sealed record CapturedMessage(string Router, string Type, string Receiver, byte[] Bytes)
{
    public override string ToString() => $"{Router} {Type} to {Receiver}";
}

public static class CapturedMessages
{
    public const string Frr = "frr-8.4.4";
    public const string Bird = "bird-2.0.12";
    public const string GoBgp = "gobgp-3.10.0";

    public static readonly string[] Routers = [Frr, Bird, GoBgp];

    public static IReadOnlyList<CapturedMessage> Of(string router) =>
        File.ReadLines(Path.Combine(RepositoryRoot.Find(), "tests", "Trellis.Bgp.Tests", "Captured", router + ".txt"))
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .Select(line => line.Split(' '))
            .Select(parts => new CapturedMessage(router, parts[0], parts[1], Convert.FromHexString(parts[2])))
            .ToList();

    public static IEnumerable<CapturedMessage> All => Routers.SelectMany(Of);

    /// <summary>The one captured message of <paramref name="router"/> whose hex contains <paramref name="hexFragment"/>.</summary>
    public static CapturedMessage Find(string router, string type, string hexFragment) =>
        Of(router).Single(m => m.Type == type && Convert.ToHexStringLower(m.Bytes).Contains(hexFragment));
}
