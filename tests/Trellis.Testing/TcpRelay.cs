using System.Net;
using System.Net.Sockets;

namespace Trellis.Testing;

/// <summary>
/// A TCP relay on 127.0.0.1 in front of a server, for outages a test can switch on and off: while cut, the
/// relay's port refuses connections and every open one is reset, as a client sees an API server that is down.
/// </summary>
public sealed class TcpRelay : IAsyncDisposable
{
    private readonly IPEndPoint _target;
    private readonly int _port;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<(TcpClient Inbound, TcpClient Outbound)> _open = [];
    private readonly object _gate = new();
    private TcpListener? _listener;
    private int _connections;

    public TcpRelay(IPEndPoint target)
    {
        _target = target;
        _listener = Listen(0);
        _port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        Address = new Uri($"http://127.0.0.1:{_port}");
    }

    /// <summary>Where clients connect instead of the server.</summary>
    public Uri Address { get; }

    /// <summary>Connections relayed so far (a witness that the client really went through the relay).</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>The outage begins: the port refuses connections and every open connection is reset.</summary>
    public void Cut()
    {
        lock (_gate)
        {
            _listener?.Stop();
            _listener = null;
            foreach (var (inbound, outbound) in _open)
            {
                Reset(inbound);
                outbound.Dispose();
            }
            _open.Clear();
        }
    }

    /// <summary>The outage ends: the same port accepts again.</summary>
    public void Restore()
    {
        lock (_gate) _listener ??= Listen(_port);
    }

    private TcpListener Listen(int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start();
        _ = AcceptAsync(listener);
        return listener;
    }

    private async Task AcceptAsync(TcpListener listener)
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient inbound;
            try
            {
                inbound = await listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception)
            {
                return; // stopped by Cut or by disposal
            }
            _ = RelayAsync(inbound);
        }
    }

    private async Task RelayAsync(TcpClient inbound)
    {
        var outbound = new TcpClient();
        try
        {
            await outbound.ConnectAsync(_target, _stop.Token);
            lock (_gate) _open.Add((inbound, outbound));
            Interlocked.Increment(ref _connections);
            var up = inbound.GetStream().CopyToAsync(outbound.GetStream(), _stop.Token);
            var down = outbound.GetStream().CopyToAsync(inbound.GetStream(), _stop.Token);
            await Task.WhenAny(up, down);
        }
        catch (Exception)
        {
            // A reset from either side, or the relay stopping: the connection ends either way.
        }
        finally
        {
            lock (_gate) _open.Remove((inbound, outbound));
            inbound.Dispose();
            outbound.Dispose();
        }
    }

    private static void Reset(TcpClient client)
    {
        try
        {
            client.Client.LingerState = new LingerOption(true, 0);
        }
        catch (Exception)
        {
            // Already closed.
        }
        client.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        Cut();
        _stop.Dispose();
    }
}
