using System.Net;
using System.Net.Sockets;
using Trellis.Local.Connectivity;
using Trellis.Local.Namespaces;
using Trellis.Netlink;

namespace Trellis.Local.Tests;

/// <summary>
/// A TCP connection from the underlay namespace (outside the cluster: the router) to a pod's own
/// address, accepted by a listener the test opens in the pod's sandbox, so the test sees the
/// source address the pod saw: the router's own when nothing translates on the way.
/// </summary>
public static class OutsideReach
{
    /// <summary>The source address <paramref name="pod"/> saw for a connection from <paramref name="underlayNamespace"/> to <paramref name="target"/>.</summary>
    public static IPAddress SourceSeenBy(PodEndpoint pod, IPAddress target, string underlayNamespace)
    {
        var family = target.AddressFamily;
        using var listener = NetworkNamespaceRunner.Run(pod.NamespacePath, () =>
        {
            var socket = new Socket(family, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(family == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0));
            socket.Listen(1);
            return socket;
        });
        int port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        using var client = NetworkNamespaceRunner.Run(NamedNetworkNamespace.PathOf(underlayNamespace), () => new Socket(family, SocketType.Stream, ProtocolType.Tcp));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            client.ConnectAsync(new IPEndPoint(target, port), timeout.Token).AsTask().GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            throw new InvalidOperationException($"the underlay cannot connect to {pod.Key} at {target}:{port}: {e.Message}", e);
        }
        using var accepted = listener.AcceptAsync(timeout.Token).AsTask().GetAwaiter().GetResult();
        return ((IPEndPoint)accepted.RemoteEndPoint!).Address;
    }
}
