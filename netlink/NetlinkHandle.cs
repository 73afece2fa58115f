using Trellis.Netlink.Messages;

namespace Trellis.Netlink;

/// <summary>
/// Verbs on the links, addresses, routes and neighbours of one network namespace, bound at
/// open time (the shape of vishvananda/netlink's Handle). Safe to share between threads:
/// each request/response exchange holds the handle's lock.
/// </summary>
public sealed partial class NetlinkHandle : IDisposable
{
    private readonly object _gate = new();
    private readonly NetlinkSocket _socket;
    private bool _disposed;

    private NetlinkHandle(NetlinkSocket socket, string namespacePath)
    {
        _socket = socket;
        NamespacePath = namespacePath;
    }

    /// <summary>Where the handle's socket lives ("current" for the caller's own namespace).</summary>
    public string NamespacePath { get; }

    /// <summary>Every request message sent on this handle, dumps and batched messages included.</summary>
    public long RequestsSent
    {
        get { lock (_gate) return _socket.RequestsSent; }
    }

    /// <summary>A handle on the calling process's network namespace.</summary>
    public static NetlinkHandle Open() => new(NetlinkSocket.OpenInCurrentNamespace("the current namespace"), "current");

    /// <summary>
    /// A handle on the namespace at <paramref name="path"/>. A netlink socket belongs to the
    /// namespace it was created in, so a short-lived thread enters the namespace, creates the
    /// socket and ends; the caller's thread never moves.
    /// </summary>
    public static NetlinkHandle OpenNamespace(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var socket = NetworkNamespaceRunner.Run(path, () => NetlinkSocket.OpenInCurrentNamespace(path));
        return new NetlinkHandle(socket, path);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _socket.Dispose();
        }
    }

    /// <summary>One acknowledged request; replies that come before the ack go to <paramref name="visit"/>.</summary>
    private void Execute(ushort type, ushort flags, string operation, Action<NetlinkMessageWriter> write,
        Action<NetlinkMessage>? visit = null)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var writer = _socket.Begin(type, (ushort)(flags | Nlmsg.NLM_F_ACK));
            write(writer);
            _socket.RunAcknowledged(operation, visit);
        }
    }

    private List<T> Dump<T>(ushort type, string operation, Action<NetlinkMessageWriter> write, MessageDecoder<T> decode)
        where T : class
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var writer = _socket.Begin(type, Nlmsg.NLM_F_DUMP);
            write(writer);
            return _socket.RunDump(operation, decode);
        }
    }
}
