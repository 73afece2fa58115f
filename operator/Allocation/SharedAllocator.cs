namespace Trellis.Operator.Allocation;

/// <summary>One <see cref="BlockAllocator"/> for all networks, used by concurrent reconciles one at a time (never across an await).</summary>
public sealed class SharedAllocator(BlockAllocator allocator)
{
    private readonly object _gate = new();

    public void Use(Action<BlockAllocator> action)
    {
        lock (_gate) action(allocator);
    }

    public T Use<T>(Func<BlockAllocator, T> func)
    {
        lock (_gate) return func(allocator);
    }
}
