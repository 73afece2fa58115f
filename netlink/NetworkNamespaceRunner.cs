using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using Trellis.Linux;

namespace Trellis.Netlink;

/// <summary>
/// Runs code inside another network namespace on a dedicated thread that enters it with setns
/// and then ends, so no pooled thread is ever left in the wrong namespace and no caller
/// switches namespaces by hand (the shape of containernetworking's ns.Do).
/// </summary>
public static class NetworkNamespaceRunner
{
    private static readonly Lazy<bool> s_runtimeThreadsAtHome = new(StartRuntimeThreadsAtHome);

    public static T Run<T>(string namespacePath, Func<T> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        _ = s_runtimeThreadsAtHome.Value;
        using var target = NetworkNamespaceRef.Open(namespacePath);
        return RunOnFreshThread(() =>
        {
            if (LibC.SetNs(target.Fd, LibC.CLONE_NEWNET) != 0)
                throw new NetlinkException($"enter network namespace {namespacePath}", LibC.LastErrno);
            return action();
        });
    }

    public static void Run(string namespacePath, Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        Run(namespacePath, () =>
        {
            action();
            return true;
        });
    }

    /// <summary>
    /// A thread is born in its creator's network namespace, and .NET makes some of its own threads on
    /// first use, on whatever thread uses it first: the socket engine's epoll thread at the process's
    /// first socket, the thread pool's gate and timer threads at its first work item and timer. Born on
    /// one of our namespaced threads, the epoll thread stays in that namespace and starts thread-pool
    /// workers there, and any socket a worker opens later (an HttpClient's to 127.0.0.1) lands in the
    /// wrong namespace: "connection refused" from a server that runs fine. So they are made here first,
    /// on the caller's thread, which is never a namespaced one (those are fresh threads that end).
    /// </summary>
    private static bool StartRuntimeThreadsAtHome()
    {
        using (new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)) { }
        using var started = new ManualResetEventSlim();
        ThreadPool.UnsafeQueueUserWorkItem(s => s.Set(), started, preferLocal: false);
        started.Wait();
        Task.Delay(1).Wait();
        return true;
    }

    /// <summary>Runs <paramref name="action"/> on a new thread that ends afterwards, whatever namespace it moved into.</summary>
    private static T RunOnFreshThread<T>(Func<T> action)
    {
        T result = default!;
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                result = action();
            }
            catch (Exception exception)
            {
                failure = ExceptionDispatchInfo.Capture(exception);
            }
        }, maxStackSize: 256 * 1024) { IsBackground = true, Name = "netns" };
        thread.Start();
        thread.Join();
        failure?.Throw();
        return result;
    }
}
