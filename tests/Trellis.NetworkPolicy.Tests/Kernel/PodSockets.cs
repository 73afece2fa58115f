using System.Net;
using System.Net.Sockets;
using System.Text;
using Trellis.Netlink;
using Trellis.NetworkPolicy.Facts;

namespace Trellis.NetworkPolicy.Tests.Kernel;

/// <summary>What a probe saw: the server's answer, or nothing before the timeout (the packets were dropped).</summary>
public sealed record ProbeResult(string? Answer, string? Error)
{
    public bool Answered => Answer is not null;
}

/// <summary>
/// Servers and probes as sockets of this test process, each created inside a pod's network
/// namespace (a socket keeps the namespace it was made in), so hundreds of probes run at once
/// without a process each. Every server answers with its pod's "namespace/name", like agnhost's
/// serve-hostname, so a probe knows who answered.
/// </summary>
public sealed class PodSockets : IAsyncDisposable
{
    private readonly List<Socket> _listeners = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _serving = [];

    /// <summary>TCP and UDP servers on <paramref name="ports"/> of both families inside <paramref name="namespacePath"/>.</summary>
    public void Serve(string namespacePath, string identity, IEnumerable<int> ports)
    {
        var sockets = NetworkNamespaceRunner.Run(namespacePath, () => ports.SelectMany(port => new[]
        {
            Bound(SocketType.Stream, ProtocolType.Tcp, port),
            Bound(SocketType.Dgram, ProtocolType.Udp, port),
        }).ToList());
        var reply = Encoding.ASCII.GetBytes(identity);
        foreach (var socket in sockets)
        {
            _listeners.Add(socket);
            _serving.Add(socket.SocketType == SocketType.Stream ? ServeTcpAsync(socket, reply) : ServeUdpAsync(socket, reply));
        }
    }

    private static Socket Bound(SocketType type, ProtocolType protocol, int port)
    {
        var socket = new Socket(AddressFamily.InterNetworkV6, type, protocol) { DualMode = true };
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        socket.Bind(new IPEndPoint(IPAddress.IPv6Any, port));
        if (type == SocketType.Stream) socket.Listen(512);
        return socket;
    }

    private async Task ServeTcpAsync(Socket listener, byte[] reply)
    {
        try
        {
            while (true)
            {
                var connection = await listener.AcceptAsync(_stop.Token);
                _ = Task.Run(async () =>
                {
                    using (connection)
                    {
                        try
                        {
                            await connection.SendAsync(reply, SocketFlags.None);
                            connection.Shutdown(SocketShutdown.Both);
                        }
                        catch (SocketException)
                        {
                        }
                    }
                });
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
    }

    private async Task ServeUdpAsync(Socket socket, byte[] reply)
    {
        var buffer = new byte[64];
        try
        {
            while (true)
            {
                var received = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.IPv6Any, 0), _stop.Token);
                await socket.SendToAsync(reply, SocketFlags.None, received.RemoteEndPoint, _stop.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
    }

    /// <summary>Sockets for <paramref name="count"/> probes of one protocol and family, made inside <paramref name="namespacePath"/>.</summary>
    public static IReadOnlyList<Socket> ProbeSockets(string namespacePath, AddressFamily family, TransportProtocol protocol, int count) =>
        NetworkNamespaceRunner.Run(namespacePath, () => Enumerable.Range(0, count).Select(_ => protocol switch
        {
            TransportProtocol.Tcp => new Socket(family, SocketType.Stream, ProtocolType.Tcp),
            TransportProtocol.Udp => new Socket(family, SocketType.Dgram, ProtocolType.Udp),
            _ => new Socket(family, SocketType.Stream, (ProtocolType)132),
        }).ToList());

    /// <summary>Whether this kernel lets a process open SCTP sockets at all.</summary>
    public static bool SctpAvailable()
    {
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, (ProtocolType)132);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Connects (TCP) or sends a datagram (UDP) and waits for the answer until <paramref name="timeout"/>.</summary>
    public static async Task<ProbeResult> ProbeAsync(Socket socket, IPAddress destination, int port, TimeSpan timeout)
    {
        using (socket)
        using (var deadline = new CancellationTokenSource(timeout))
        {
            var buffer = new byte[256];
            try
            {
                await socket.ConnectAsync(new IPEndPoint(destination, port), deadline.Token);
                if (socket.SocketType == SocketType.Dgram)
                    await socket.SendAsync("?"u8.ToArray(), SocketFlags.None, deadline.Token);
                var answer = new StringBuilder();
                while (true)
                {
                    int read = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
                    if (read == 0) break;
                    answer.Append(Encoding.ASCII.GetString(buffer, 0, read));
                    if (socket.SocketType == SocketType.Dgram) break;
                }
                return new ProbeResult(answer.ToString(), null);
            }
            catch (OperationCanceledException)
            {
                return new ProbeResult(null, null);
            }
            catch (SocketException e)
            {
                return new ProbeResult(null, $"{e.SocketErrorCode}: {e.Message}");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        foreach (var socket in _listeners) socket.Dispose();
        await Task.WhenAll(_serving);
        _stop.Dispose();
    }
}
