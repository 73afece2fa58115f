namespace Trellis.Bgp.Session;

/// <summary>The states of RFC 4271 §8.2.2, as a peer's status shows them.</summary>
public enum SessionState
{
    /// <summary>Not started, or stopped.</summary>
    Idle,
    /// <summary>Connecting to the peer.</summary>
    Connect,
    /// <summary>Waiting to retry after a failed attempt, accepting the peer's own connection meanwhile.</summary>
    Active,
    OpenSent,
    OpenConfirm,
    Established,
}
