using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Trellis.NetworkPolicy.Ruleset;

namespace Trellis.NetworkPolicy.Compiling;

/// <summary>
/// The names of the objects in the policy table. Policy objects carry the policy's own
/// "namespace/name" so that `nft list table` reads like the policies (the nftables scanner takes
/// letters, digits, '/', '.', '-' and '_' in a name); a name too long for nftables' 256 bytes, or
/// with other characters, falls back to a hash of it.
/// </summary>
public static partial class ObjectNames
{
    public const string Table = "trellis-policy";
    public const string IngressChain = "pod-ingress";
    public const string EgressChain = "pod-egress";

    private const int LongestReadableId = 180;

    public static string Prefix(PolicyDirection direction) => direction == PolicyDirection.Ingress ? "in" : "out";

    /// <summary>The base chain's name for a direction.</summary>
    public static string BaseChain(PolicyDirection direction) => direction == PolicyDirection.Ingress ? IngressChain : EgressChain;

    /// <summary>The verdict map from local pod addresses to their group chain.</summary>
    public static string DispatchMap(PolicyDirection direction, IpFamily family) => $"{Prefix(direction)}.pods{family.Suffix()}";

    /// <summary>"x/deny-all", or "h" and a hash when that cannot be an nftables name.</summary>
    public static string PolicyId(string ns, string name)
    {
        var readable = $"{ns}/{name}";
        return readable.Length <= LongestReadableId && Readable().IsMatch(readable) ? readable : $"h{Hash(readable)}";
    }

    public static string PolicyChain(PolicyDirection direction, string policyId) => $"{Prefix(direction)}.{policyId}";

    public static string DropCounter(PolicyDirection direction, string policyId) => $"drop.{Prefix(direction)}.{policyId}";

    /// <summary>
    /// The address set of a peer list, shared by every rule whose peers mean the same thing
    /// (<paramref name="meaning"/> is their canonical description), so a selector used by many
    /// policies costs its addresses once.
    /// </summary>
    public static string PeerSet(string meaning, IpFamily family) => $"peers.{Hash(meaning)}.{family.Suffix()}";

    /// <summary>The (protocol, port) set of a list of numbered ports, shared like peer sets.</summary>
    public static string PortSet(string meaning) => $"ports.{Hash(meaning)}";

    /// <summary>Named ports resolved on the destinations an egress peer list allows, shared like peer sets.</summary>
    public static string EgressNamedPortSet(string meaning, IpFamily family) => $"named.{Hash(meaning)}.{family.Suffix()}";

    /// <summary>Named ports resolved on one ingress policy's own pods.</summary>
    public static string IngressNamedPortSet(string policyChain, int rule, IpFamily family) => $"{policyChain}.{rule}.named{family.Suffix()}";

    /// <summary>The chain shared by every local pod isolated by exactly this list of policies.</summary>
    public static string GroupChain(PolicyDirection direction, IEnumerable<string> policyIds) =>
        $"{Prefix(direction)}.group.{Hash(string.Join('\n', policyIds))}";

    private static string Hash(string text) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)), 0, 8);

    [GeneratedRegex("^[a-z0-9][a-z0-9.-]*/[a-z0-9][a-z0-9.-]*$")]
    private static partial Regex Readable();
}
