using System.Net;
using System.Net.Sockets;
using Trellis.Netlink;

namespace Trellis.Local.Connectivity;

/// <summary>
/// Reads a node's agent endpoint (/healthz, /readyz, /metrics on --metrics-port) from inside the node's network
/// namespace, as the kubelet's probes and a Prometheus on the node would: the socket is made in that namespace,
/// so nothing reaches the machine's own.
/// </summary>
public static class AgentEndpointReader
{
    public const int DefaultPort = 9612;

    public sealed record Answer(int StatusCode, string Body);

    public static async Task<Answer> GetAsync(string nodeNamespacePath, int port, string path, CancellationToken cancellationToken)
    {
        using var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, ct) =>
            {
                var socket = NetworkNamespaceRunner.Run(nodeNamespacePath, () => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
                try
                {
                    await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, context.DnsEndPoint.Port), ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(10) };
        try
        {
            using var response = await http.GetAsync($"http://127.0.0.1:{port}{path}", cancellationToken);
            return new Answer((int)response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken));
        }
        catch (HttpRequestException e)
        {
            throw new Cluster.LocalClusterException($"the agent's endpoint on port {port} does not answer {path} ({e.Message}); is the agent running (`trellis-local status`)?");
        }
    }
}
