using System.Threading.Channels;

namespace Trellis.ApiServer.Storage;

/// <summary>
/// One watch on the store: the events that precede the live stream (synthetic ADDED or a
/// history replay), then a bounded queue of live events. A watcher that cannot keep up is
/// closed rather than allowed to grow, as the real server does; the client relists.
/// </summary>
public sealed class Watcher : IDisposable
{
    private readonly Channel<StoreEvent> _channel;
    private readonly Action<Watcher> _unregister;
    private int _closed;

    internal Watcher(StorageKey key, string? @namespace, IReadOnlyList<StoreEvent> initial, int capacity, Action<Watcher> unregister)
    {
        Key = key;
        Namespace = @namespace;
        Initial = initial;
        _unregister = unregister;
        _channel = Channel.CreateBounded<StoreEvent>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    public StorageKey Key { get; }
    public string? Namespace { get; }
    public IReadOnlyList<StoreEvent> Initial { get; }
    public ChannelReader<StoreEvent> Events => _channel.Reader;
    /// <summary>True when the store closed this watch because its queue was full.</summary>
    public bool Overflowed { get; private set; }

    internal void Offer(StoreEvent e)
    {
        if (Volatile.Read(ref _closed) != 0) return;
        if (Namespace is not null && e.Object.Namespace != Namespace) return;
        if (!_channel.Writer.TryWrite(e))
        {
            Overflowed = true;
            Close();
        }
    }

    internal void Close()
    {
        if (Interlocked.Exchange(ref _closed, 1) == 0) _channel.Writer.TryComplete();
    }

    public void Dispose()
    {
        Close();
        _unregister(this);
    }
}
