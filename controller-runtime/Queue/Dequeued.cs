namespace Trellis.ControllerRuntime.Queue;

/// <summary>What <see cref="WorkQueue{TKey}.GetAsync"/> hands out: a key to process, or the news that the queue is shut down and drained.</summary>
public readonly record struct Dequeued<TKey>(TKey Key, bool ShutDown);
