using System.Net;
using System.Net.Sockets;
using System.Text;
using Trellis.Netlink;

namespace Trellis.Local.Pods;

/// <summary>A declared containerPort: the number and TCP, UDP or SCTP.</summary>
public sealed record ServedPort(int Port, string Protocol)
{
    public override string ToString() => $"{Port}/{Protocol}";
}

/// <summary>A declared port nothing answers on, and why.</summary>
public sealed record PortProblem(ServedPort Port, string Reason);

/// <summary>
/// The servers "inside" one pod, like agnhost serve-hostname: every TCP or SCTP connection and every
/// UDP datagram on a declared port is answered with <c>namespace/name</c>. The sockets are opened
/// inside the pod's network namespace by one short-lived thread that enters it, and from then on
/// served by async I/O in this process, so a node with hundreds of pods costs no process and no
/// thread per pod: a socket stays in the namespace it was made in, whichever thread uses it.
/// </summary>
public sealed class PortResponders : IAsyncDisposable
{
    public const int SctpProtocol = 132;

    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _sockets;
    private readonly List<Task> _loops = [];
    private readonly byte[] _answer;

    private PortResponders(List<Socket> sockets, byte[] answer, IReadOnlyList<ServedPort> served, IReadOnlyList<PortProblem> problems)
    {
        _sockets = sockets;
        _answer = answer;
        Served = served;
        Problems = problems;
    }

    /// <summary>The ports answered on.</summary>
    public IReadOnlyList<ServedPort> Served { get; }

    /// <summary>The declared ports that could not be served (no SCTP in this kernel, a port taken twice).</summary>
    public IReadOnlyList<PortProblem> Problems { get; }

    /// <param name="namespacePath">The pod's network namespace; null for the caller's own (a hostNetwork pod on this node).</param>
    /// <param name="answer">What every connection and datagram gets back: the pod's <c>namespace/name</c>.</param>
    public static PortResponders Open(string? namespacePath, string answer, IReadOnlyList<ServedPort> ports)
    {
        var opened = namespacePath is null ? OpenAll(ports) : NetworkNamespaceRunner.Run(namespacePath, () => OpenAll(ports));
        var responders = new PortResponders(opened.Sockets.Select(s => s.Socket).ToList(), Encoding.UTF8.GetBytes(answer),
            opened.Sockets.Select(s => s.Port).ToList(), opened.Problems);
        foreach (var (socket, port) in opened.Sockets)
            responders._loops.Add(port.Protocol == "UDP" ? responders.AnswerDatagramsAsync(socket) : responders.AnswerConnectionsAsync(socket));
        return responders;
    }

    private static (List<(Socket Socket, ServedPort Port)> Sockets, List<PortProblem> Problems) OpenAll(IReadOnlyList<ServedPort> ports)
    {
        var sockets = new List<(Socket, ServedPort)>();
        var problems = new List<PortProblem>();
        foreach (var port in ports.Distinct())
        {
            try
            {
                sockets.Add((Bind(port), port));
            }
            catch (SocketException e) when (port.Protocol == "SCTP" && e.SocketErrorCode is SocketError.ProtocolNotSupported or SocketError.ProtocolType or SocketError.SocketNotSupported)
            {
                problems.Add(new PortProblem(port, $"SCTP is not offered by this kernel (socket: {e.Message})"));
            }
            catch (SocketException e)
            {
                problems.Add(new PortProblem(port, $"cannot listen on {port}: {e.Message}"));
            }
        }
        return (sockets, problems);
    }

    /// <summary>One socket for IPv4 and IPv6 (dual-stack on ::), or IPv4 only where the namespace has no IPv6.</summary>
    private static Socket Bind(ServedPort port)
    {
        var (type, protocol) = port.Protocol switch
        {
            "TCP" => (SocketType.Stream, ProtocolType.Tcp),
            "UDP" => (SocketType.Dgram, ProtocolType.Udp),
            "SCTP" => (SocketType.Stream, (ProtocolType)SctpProtocol),
            _ => throw new SocketException((int)SocketError.ProtocolNotSupported),
        };
        try
        {
            return Listen(new IPEndPoint(IPAddress.IPv6Any, port.Port));
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressFamilyNotSupported or SocketError.AddressNotAvailable)
        {
            return Listen(new IPEndPoint(IPAddress.Any, port.Port));
        }

        Socket Listen(IPEndPoint endpoint)
        {
            var socket = new Socket(endpoint.AddressFamily, type, protocol);
            try
            {
                if (endpoint.AddressFamily == AddressFamily.InterNetworkV6) socket.DualMode = true;
                socket.Bind(endpoint);
                if (type == SocketType.Stream) socket.Listen(128);
                return socket;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
    }

    private async Task AnswerConnectionsAsync(Socket listener)
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket connection;
            try { connection = await listener.AcceptAsync(_stop.Token); }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException || (e is SocketException && _stop.IsCancellationRequested)) { return; }
            catch (SocketException) { continue; }
            _ = AnswerAsync(connection);
        }
    }

    private async Task AnswerAsync(Socket connection)
    {
        using (connection)
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                timeout.CancelAfter(TimeSpan.FromSeconds(5));
                await connection.SendAsync(_answer, SocketFlags.None, timeout.Token);
                connection.Shutdown(SocketShutdown.Send);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // A client that went away or never read: nothing to answer any more.
            }
        }
    }

    private async Task AnswerDatagramsAsync(Socket socket)
    {
        var buffer = new byte[2048];
        EndPoint any = socket.AddressFamily == AddressFamily.InterNetworkV6 ? new IPEndPoint(IPAddress.IPv6Any, 0) : new IPEndPoint(IPAddress.Any, 0);
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var received = await socket.ReceiveFromAsync(buffer, SocketFlags.None, any, _stop.Token);
                await socket.SendToAsync(_answer, SocketFlags.None, received.RemoteEndPoint, _stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException || (e is SocketException && _stop.IsCancellationRequested)) { return; }
            catch (SocketException)
            {
                // An ICMP error for an earlier reply (the client's port closed) surfaces here; keep serving.
            }
        }
    }

    /// <summary>Closes every socket, so nothing holds the pod's namespace any more.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        foreach (var socket in _sockets) socket.Dispose();
        try { await Task.WhenAll(_loops); } catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException) { }
        _stop.Dispose();
    }
}
