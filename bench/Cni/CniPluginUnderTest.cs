using System.Diagnostics;
using System.Text.Json.Nodes;
using Trellis.Ipam;
using Trellis.Netlink;
using Trellis.Testing;

namespace Trellis.Bench.Cni;

/// <summary>
/// One plugin on its own node: a node namespace, a data directory, the config a runtime
/// would hand it, and pod namespaces made beforehand so creating them is never measured.
/// ADD and DEL exec the plugin the way a runtime does (CNI_* environment, config on stdin)
/// from a thread inside the node namespace, which the child inherits.
/// </summary>
public sealed class CniPluginUnderTest : IDisposable
{
    public const string Subnet = "10.244.1.0/24";

    private readonly string _binary;
    private readonly string _cniPath;
    private readonly string _config;
    private readonly string _directory;
    private readonly List<NetworkNamespace> _pods = [];
    private int _containerCounter;

    public string Name { get; }
    public NetworkNamespace Node { get; }
    public IReadOnlyList<NetworkNamespace> Pods => _pods;

    private CniPluginUnderTest(string name, string binary, string cniPath, string directory, NetworkNamespace node, JsonObject config)
    {
        Name = name;
        _binary = binary;
        _cniPath = cniPath;
        _directory = directory;
        Node = node;
        _config = config.ToJsonString();
    }

    /// <summary>trellis-cni with the config the node agent writes.</summary>
    public static CniPluginUnderTest Trellis(string binary, int pods) =>
        Create(NodeContract.PluginType, binary, Path.GetDirectoryName(binary)!, pods, dataDirectory => new JsonObject
        {
            ["cniVersion"] = "1.0.0",
            ["name"] = NodeContract.NetworkName,
            ["type"] = NodeContract.PluginType,
            ["bridge"] = NodeContract.DefaultBridge,
            ["mtu"] = 1500,
            ["ipam"] = new JsonObject
            {
                ["ranges"] = new JsonArray(new JsonArray(new JsonObject { ["subnet"] = Subnet })),
                ["dataDir"] = dataDirectory,
            },
        });

    /// <summary>The reference bridge + host-local doing the same job: gateway on the bridge, no masquerade.</summary>
    public static CniPluginUnderTest ReferenceBridge(string referenceDirectory, int pods) =>
        Create("bridge+host-local", Path.Combine(referenceDirectory, "bridge"), referenceDirectory, pods, dataDirectory => new JsonObject
        {
            ["cniVersion"] = "1.0.0",
            ["name"] = "reference",
            ["type"] = "bridge",
            ["bridge"] = "trellis0",
            ["mtu"] = 1500,
            ["isGateway"] = true,
            ["ipMasq"] = false,
            ["ipam"] = new JsonObject
            {
                ["type"] = "host-local",
                ["ranges"] = new JsonArray(new JsonArray(new JsonObject { ["subnet"] = Subnet })),
                ["dataDir"] = dataDirectory,
            },
        });

    private static CniPluginUnderTest Create(string name, string binary, string cniPath, int pods, Func<string, JsonObject> config)
    {
        if (!File.Exists(binary))
            throw new FileNotFoundException($"{name}: plugin {binary} is missing (run `bash scripts/build-artifacts.sh`)", binary);
        var directory = Directory.CreateTempSubdirectory("trellis-bench-cni-").FullName;
        CniPluginUnderTest? plugin = null;
        try
        {
            plugin = new CniPluginUnderTest(name, binary, cniPath, directory, NetworkNamespace.Create("bench-node"),
                config(Path.Combine(directory, "ipam")));
            for (var i = 0; i < pods; i++) plugin._pods.Add(NetworkNamespace.Create("bench-pod"));
            return plugin;
        }
        catch
        {
            if (plugin is not null) plugin.Dispose();
            else Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    public string NextContainerId() => $"bench-{Interlocked.Increment(ref _containerCounter)}";

    /// <summary>Runs <paramref name="work"/> on a fresh thread inside this plugin's node namespace.</summary>
    public T OnNode<T>(Func<T> work) => NetworkNamespaceRunner.Run(Node.Path, work);

    /// <summary>Execs the plugin once from the calling thread and returns how long it took; throws naming the plugin, verb and pod when it fails.</summary>
    public TimeSpan Exec(string command, string containerId, NetworkNamespace pod)
    {
        var info = new ProcessStartInfo(_binary)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["CNI_COMMAND"] = command;
        info.Environment["CNI_CONTAINERID"] = containerId;
        info.Environment["CNI_NETNS"] = pod.Path;
        info.Environment["CNI_IFNAME"] = "eth0";
        info.Environment["CNI_PATH"] = _cniPath;

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"{Name}: cannot start {_binary}");
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(_config);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        clock.Stop();
        if (process.ExitCode != 0)
            throw new InvalidOperationException(
                $"{Name} {command} of container {containerId} in {pod.Name} exited {process.ExitCode}: {stdout.Trim()} {stderr.Result.Trim()}");
        return clock.Elapsed;
    }

    /// <summary>
    /// Proves that a child started from a thread that entered the node namespace lands there
    /// too (fork copies the calling thread's namespaces); otherwise every figure would be a lie.
    /// </summary>
    public void VerifyChildrenInheritNodeNamespace()
    {
        var outside = NamespaceOfThisThread();
        var (inside, child) = OnNode(() => (NamespaceOfThisThread(), Shell.Run("readlink", "/proc/self/ns/net").StandardOutput.Trim()));
        if (child != inside || child == outside)
            throw new InvalidOperationException(
                $"{Name}: a child started inside {Node.Name} ({inside}) ran in {child}; setns on the worker thread is not inherited");
    }

    private static string? NamespaceOfThisThread() => new FileInfo("/proc/thread-self/ns/net").LinkTarget;

    public void Dispose()
    {
        foreach (var pod in _pods) pod.Dispose();
        Node.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
