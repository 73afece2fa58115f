using System.Text.RegularExpressions;
using Trellis.Linux;
using Trellis.Local.Namespaces;
using Trellis.Netlink;

namespace Trellis.Local.Cluster;

/// <summary>
/// Removes everything a local cluster made: the `up` process, agents, every process left in
/// its namespaces, the namespaces, and the state directory. Safe after a crash and when run twice.
/// </summary>
public static class Teardown
{
    public static TeardownSummary Run(StateStore store, string prefix, bool quiet = false)
    {
        var state = store.Load();
        int processes = 0;
        if (state is not null)
        {
            prefix = state.Prefix;
            // The `up` process tears its own world down on SIGTERM; give it the chance first.
            if (LocalCluster.ProcessIsAlive(state.UpProcessId) && IsOurs(state.UpProcessId))
                processes += Stop(state.UpProcessId, TimeSpan.FromSeconds(30)) ? 1 : 0;
            // Kubelets first: a pod's sockets (its servers) live in its kubelet and hold its namespace.
            foreach (var pid in state.Nodes.Select(n => n.KubeletProcessId).Concat(state.Nodes.Select(n => n.AgentProcessId)).OfType<int>())
                if (LocalCluster.ProcessIsAlive(pid) && IsOurs(pid))
                    processes += Stop(pid) ? 1 : 0;
        }

        // Containers hold the node namespaces' agents; podman removes them and their records.
        if (state?.Images == true) processes += Containers.Podman.RemoveClusterContainers(prefix);

        var owned = new HashSet<string>(state?.Namespaces ?? []);
        var pattern = new Regex($"^{Regex.Escape(prefix)}-");
        foreach (var name in NamedNetworkNamespace.List().Where(n => pattern.IsMatch(n))) owned.Add(name);

        int namespaces = 0;
        // Pods first, then nodes, then the underlay: each namespace's links die with it.
        foreach (var name in owned.OrderByDescending(n => n.Count(c => c == '-')).ThenBy(n => n))
        {
            if (!NamedNetworkNamespace.Exists(name)) continue;
            processes += KillProcessesIn(name);
            NamedNetworkNamespace.Delete(name);
            namespaces++;
        }

        bool removedState = Directory.Exists(store.Directory);
        if (removedState) Directory.Delete(store.Directory, recursive: true);
        var summary = new TeardownSummary(namespaces, processes, removedState);
        if (!quiet) Console.Error.WriteLine($"removed {summary.Namespaces} namespaces, stopped {summary.Processes} processes{(removedState ? $", deleted {store.Directory}" : "")}");
        return summary;
    }

    /// <summary>SIGTERM, then SIGKILL if it has not ended in time.</summary>
    public static bool Stop(int pid, TimeSpan? grace = null)
    {
        if (!Directory.Exists($"/proc/{pid}")) return false;
        LibC.Kill(pid, LibC.SIGTERM);
        if (!WaitGone(pid, grace ?? TimeSpan.FromSeconds(5))) LibC.Kill(pid, LibC.SIGKILL);
        return true;
    }

    /// <summary>Waits until the process has ended (gone, or a zombie nobody reaped yet); false if it still runs after <paramref name="timeout"/>.</summary>
    public static bool WaitGone(int pid, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Directory.Exists($"/proc/{pid}") && !IsZombie(pid))
        {
            if (DateTime.UtcNow >= deadline) return false;
            Thread.Sleep(20);
        }
        return true;
    }

    /// <summary>Processes whose network namespace is this one (what `ip netns pids` finds).</summary>
    private static int KillProcessesIn(string name)
    {
        var target = NamespaceIdentity(NamedNetworkNamespace.PathOf(name));
        if (target is null) return 0;
        int killed = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid) || pid == Environment.ProcessId) continue;
            string? link;
            try { link = new FileInfo(Path.Combine(dir, "ns", "net")).LinkTarget; }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
            if (link == target && LibC.Kill(pid, LibC.SIGKILL) == 0) killed++;
        }
        return killed;
    }

    /// <summary>"net:[inode]", the form /proc/PID/ns/net links to, for a namespace file.</summary>
    private static string? NamespaceIdentity(string path)
    {
        ulong inode = LibC.InodeOf(path);
        return inode == 0 ? null : $"net:[{inode}]";
    }

    private static bool IsOurs(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/cmdline").Contains("trellis", StringComparison.Ordinal); }
        catch (IOException) { return false; }
    }

    private static bool IsZombie(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/stat").Split(')')[^1].TrimStart().StartsWith('Z'); }
        catch (IOException) { return true; }
    }
}

public sealed record TeardownSummary(int Namespaces, int Processes, bool RemovedState);
