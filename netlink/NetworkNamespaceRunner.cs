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
    public static T Run<T>(string namespacePath, Func<T> action)
    {
        ArgumentNullException.ThrowIfNull(action);
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
