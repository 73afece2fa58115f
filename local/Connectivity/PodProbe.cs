using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Trellis.Local.Pods;
using Trellis.Netlink;

namespace Trellis.Local.Connectivity;

public enum ProbeOutcome
{
    /// <summary>Connected (TCP, SCTP) or got a datagram back (UDP), with the server's answer.</summary>
    Answered,
    /// <summary>Actively refused: a TCP reset or an ICMP port/admin-prohibited error, i.e. no server there or a REJECT rule.</summary>
    Refused,
    /// <summary>No answer within the timeout: dropped on the way (a DROP rule) or nothing there at all.</summary>
    TimedOut,
    /// <summary>No route or no neighbour (ICMP host/net unreachable).</summary>
    Unreachable,
    /// <summary>The protocol cannot be tried from here (no SCTP in this kernel).</summary>
    Unsupported,
}

/// <summary>One probe: what happened, the answer (Answered) or the error, and how long it took.</summary>
public sealed record ProbeResult(ProbeOutcome Outcome, string Detail, TimeSpan Elapsed)
{
    /// <summary>The connection was allowed and a server answered: what a NetworkPolicy truth table calls "connected".</summary>
    public bool Connected => Outcome == ProbeOutcome.Answered;

    public override string ToString() => Outcome switch
    {
        ProbeOutcome.Answered => $"answered \"{Detail}\" in {Elapsed.TotalMilliseconds:0} ms",
        ProbeOutcome.TimedOut => $"no answer within {Elapsed.TotalSeconds:0.#} s",
        _ => $"{Outcome.ToString().ToLowerInvariant()}: {Detail} ({Elapsed.TotalMilliseconds:0} ms)",
    };
}

/// <summary>
/// A connection attempt from inside one network namespace to an address, port and protocol, as
/// agnhost connect does in Kubernetes' own network tests, without a process per probe: the socket
/// is made by a thread that enters the namespace and ends, then used with async I/O from here.
/// Many probes may run at once.
/// </summary>
public static class PodProbe
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(1);

    public static async Task<ProbeResult> ProbeAsync(string fromNamespacePath, IPAddress address, int port, string protocol, TimeSpan timeout, CancellationToken ct)
    {
        if (port is < 1 or > 65535) throw new ArgumentOutOfRangeException(nameof(port), port, "a port is 1..65535");
        var clock = Stopwatch.StartNew();
        var (type, protocolType) = protocol.ToUpperInvariant() switch
        {
            "TCP" => (SocketType.Stream, ProtocolType.Tcp),
            "UDP" => (SocketType.Dgram, ProtocolType.Udp),
            "SCTP" => (SocketType.Stream, (ProtocolType)PortResponders.SctpProtocol),
            _ => throw new ArgumentException($"protocol must be TCP, UDP or SCTP, not \"{protocol}\"", nameof(protocol)),
        };
        Socket socket;
        try
        {
            socket = NetworkNamespaceRunner.Run(fromNamespacePath, () => new Socket(address.AddressFamily, type, protocolType));
        }
        catch (SocketException e) when (protocolType == (ProtocolType)PortResponders.SctpProtocol)
        {
            return new ProbeResult(ProbeOutcome.Unsupported, $"SCTP is not offered by this kernel (socket: {e.Message})", clock.Elapsed);
        }
        using (socket)
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
            deadline.CancelAfter(timeout);
            try
            {
                var answer = type == SocketType.Dgram
                    ? await DatagramAsync(socket, new IPEndPoint(address, port), timeout, deadline.Token)
                    : await StreamAsync(socket, new IPEndPoint(address, port), deadline.Token);
                return new ProbeResult(ProbeOutcome.Answered, answer, clock.Elapsed);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                return new ProbeResult(ProbeOutcome.TimedOut, $"no answer from {address}:{port}/{protocol}", clock.Elapsed);
            }
            catch (SocketException e)
            {
                var outcome = e.SocketErrorCode switch
                {
                    SocketError.ConnectionRefused or SocketError.ConnectionReset or SocketError.AccessDenied => ProbeOutcome.Refused,
                    SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.HostDown => ProbeOutcome.Unreachable,
                    SocketError.TimedOut => ProbeOutcome.TimedOut,
                    _ => ProbeOutcome.Refused,
                };
                return new ProbeResult(outcome, e.Message, clock.Elapsed);
            }
        }
    }

    private static async Task<string> StreamAsync(Socket socket, IPEndPoint target, CancellationToken ct)
    {
        await socket.ConnectAsync(target, ct);
        var buffer = new byte[512];
        var received = new MemoryStream();
        while (received.Length < 4096)
        {
            int n = await socket.ReceiveAsync(buffer, SocketFlags.None, ct);
            if (n == 0) break;
            received.Write(buffer, 0, n);
        }
        return Encoding.UTF8.GetString(received.ToArray());
    }

    /// <summary>
    /// A datagram, sent again at thirds of the timeout (one can be lost while the first hop resolves
    /// its neighbour); the socket is connected so an ICMP port unreachable comes back as a refusal.
    /// </summary>
    private static async Task<string> DatagramAsync(Socket socket, IPEndPoint target, TimeSpan timeout, CancellationToken ct)
    {
        await socket.ConnectAsync(target, ct);
        var buffer = new byte[2048];
        var receive = socket.ReceiveAsync(buffer, SocketFlags.None, ct).AsTask();
        for (int attempt = 0; attempt < 3; attempt++)
        {
            await socket.SendAsync("probe"u8.ToArray(), SocketFlags.None, ct);
            var resend = Task.Delay(timeout / 3, ct);
            if (await Task.WhenAny(receive, resend) == receive) break;
        }
        int n = await receive;
        return Encoding.UTF8.GetString(buffer, 0, n);
    }
}
