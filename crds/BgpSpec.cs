using System.Text.Json.Serialization;
using k8s.Models;

namespace Trellis.Crds;

/// <summary>
/// Announcing each node's blocks over BGP (<c>routing.bgp</c>). Required by mode BGP, where the
/// peers are the routers every node uses as its default gateway; with the other modes it only
/// announces, so pods are reachable from outside without NAT. In a NodeSubnet the peers are
/// already the node's own (the operator applied each peer's nodeSelector).
/// </summary>
public sealed class BgpSpec
{
    public const long DefaultAsn = 64512;
    public const int DefaultHoldTime = 90;

    /// <summary>The nodes' AS number (four octets, RFC 6793).</summary>
    [JsonPropertyName("asn")] public long Asn { get; set; } = DefaultAsn;

    [JsonPropertyName("peers")] public IList<BgpPeerSpec> Peers { get; set; } = new List<BgpPeerSpec>();

    /// <summary>Seconds without a message before a session is declared dead; 0 (no keepalives) or 3..65535.</summary>
    [JsonPropertyName("holdTime")] public int HoldTime { get; set; } = DefaultHoldTime;

    [JsonPropertyName("gracefulRestart")] public GracefulRestartSpec GracefulRestart { get; set; } = new();
}

public sealed class BgpPeerSpec
{
    public const int DefaultPort = 179;

    /// <summary>The router's address.</summary>
    [JsonPropertyName("address")] public string Address { get; set; } = "";

    [JsonPropertyName("asn")] public long Asn { get; set; }

    [JsonPropertyName("port")] public int Port { get; set; } = DefaultPort;

    /// <summary>TCP MD5 signature key (RFC 2385), at most 80 octets; absent for none.</summary>
    [JsonPropertyName("password")] public string? Password { get; set; }

    /// <summary>Which nodes peer with this router (as racks peer with their own top-of-rack router); absent selects every node.</summary>
    [JsonPropertyName("nodeSelector")] public V1LabelSelector? NodeSelector { get; set; }
}

/// <summary>RFC 4724: routers keep a node's routes while its agent restarts.</summary>
public sealed class GracefulRestartSpec
{
    public const int DefaultRestartTime = 120;

    [JsonPropertyName("enabled")] public bool Enabled { get; set; } = true;

    /// <summary>Seconds routers keep the routes of a restarting agent (0..4095).</summary>
    [JsonPropertyName("restartTime")] public int RestartTime { get; set; } = DefaultRestartTime;
}

/// <summary>One BGP session of a node's agent, as the NodeSubnet status reports it.</summary>
public sealed class BgpPeerStatus
{
    [JsonPropertyName("address")] public string Address { get; set; } = "";
    [JsonPropertyName("asn")] public long Asn { get; set; }

    /// <summary>One of <see cref="BgpSessionStates.All"/>.</summary>
    [JsonPropertyName("state")] public string State { get; set; } = "";

    /// <summary>When the session became Established; absent while it is not.</summary>
    [JsonPropertyName("establishedSince")] public DateTime? EstablishedSince { get; set; }

    [JsonPropertyName("prefixesSent")] public int PrefixesSent { get; set; }
    [JsonPropertyName("prefixesReceived")] public int PrefixesReceived { get; set; }

    /// <summary>What last went wrong with this session, in words.</summary>
    [JsonPropertyName("lastError")] public string? LastError { get; set; }
}

/// <summary>The session states of RFC 4271 §8.2.2, as <see cref="BgpPeerStatus.State"/> names them.</summary>
public static class BgpSessionStates
{
    public static readonly IReadOnlyList<string> All = ["Idle", "Connect", "Active", "OpenSent", "OpenConfirm", "Established"];
}
