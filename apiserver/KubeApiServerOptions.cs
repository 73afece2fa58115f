using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Trellis.ApiServer;

public sealed class KubeApiServerOptions
{
    /// <summary>0 = any free port on 127.0.0.1.</summary>
    public int Port { get; set; }

    /// <summary>
    /// Pre-bound, listening TCP sockets (for example made inside a network namespace so agents
    /// there reach the server); served in addition to 127.0.0.1. Hand them over: the server
    /// listens on their handles until it is disposed.
    /// </summary>
    public IList<Socket> AdditionalListeners { get; } = new List<Socket>();

    /// <summary>Addresses the serving certificate must name beside 127.0.0.1, ::1 and the additional listeners' (e.g. a NAT'd address clients use).</summary>
    public IList<System.Net.IPAddress> CertificateAddresses { get; } = new List<System.Net.IPAddress>();

    public TimeSpan BookmarkInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Events kept for resuming watches; a watch from before them gets 410 Gone.</summary>
    public int WatchHistoryLimit { get; set; } = 10_000;

    /// <summary>Events a single watcher may have queued before the server closes it.</summary>
    public int WatcherQueueLimit { get; set; } = 50_000;

    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>
    /// Bearer tokens and the users they stand for, beside the admin's (<see cref="KubeApiServer.AdminToken"/>)
    /// and the ServiceAccount tokens the server issues: kube-apiserver's --token-auth-file.
    /// </summary>
    public IList<Authentication.StaticToken> StaticTokens { get; } = new List<Authentication.StaticToken>();

    /// <summary>
    /// kube-apiserver's --anonymous-auth. Off (the default here): a request without a token gets
    /// 401. On: it runs as system:anonymous (group system:unauthenticated), and RBAC decides.
    /// </summary>
    public bool AnonymousAuth { get; set; }

    internal void Validate()
    {
        if (Port is < 0 or > 65535) throw new ArgumentOutOfRangeException(nameof(Port), Port, "the API server port must be 0..65535");
        if (BookmarkInterval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(BookmarkInterval), BookmarkInterval, "the bookmark interval must be positive");
        if (WatchHistoryLimit < 1) throw new ArgumentOutOfRangeException(nameof(WatchHistoryLimit), WatchHistoryLimit, "the watch history must keep at least one event");
        if (WatcherQueueLimit < 1) throw new ArgumentOutOfRangeException(nameof(WatcherQueueLimit), WatcherQueueLimit, "a watcher queue must hold at least one event");
        foreach (var socket in AdditionalListeners)
            if (socket.LocalEndPoint is null) throw new ArgumentException("every additional listener must be a bound, listening socket", nameof(AdditionalListeners));
    }
}
