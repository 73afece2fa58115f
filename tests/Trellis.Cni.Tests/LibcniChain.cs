using System.Text.Json.Nodes;
using Trellis.Testing;

namespace Trellis.Cni.Tests;

/// <summary>The plugin that makes the pod's interface at the head of a chain.</summary>
public enum LibcniMainPlugin
{
    TrellisCni,

    /// <summary>Debian's reference bridge + host-local: proves the chain and its witnesses on a known-good plugin.</summary>
    ReferenceBridge,
}

/// <summary>
/// One node as a container runtime sees it: a node namespace, a plugin directory, a conflist
/// chaining the main plugin with the reference tuning and portmap plugins, and the libcni
/// driver (out/libcni-driver) that calls them inside the node namespace exactly as
/// containerd or CRI-O would through libcni.
/// </summary>
public sealed class LibcniChain : IDisposable
{
    public const string Subnet = "10.244.1.0/24";
    public const string Gateway = "10.244.1.1";
    public const string TunedMac = "c2:11:22:33:44:55";
    public const string TunedSysctl = "net.ipv4.conf.eth0.arp_notify";

    private readonly string _directory;
    private readonly JsonArray _plugins;

    public NetworkNamespace Node { get; }
    public string DataDirectory => Path.Combine(_directory, "ipam");
    public string CacheDirectory => Path.Combine(_directory, "cache");
    public string BinDirectory => Path.Combine(_directory, "bin");

    private LibcniChain(string directory, NetworkNamespace node, JsonArray plugins)
    {
        _directory = directory;
        Node = node;
        _plugins = plugins;
    }

    public static string DriverPath => Path.Combine(RepositoryRoot.Find(), "out", "libcni-driver");

    /// <param name="withChainedPlugins">False for a list holding the main plugin alone.</param>
    public static LibcniChain Create(LibcniMainPlugin main, bool withChainedPlugins = true)
    {
        RequireExecutable(DriverPath, "the libcni driver");
        var mainBinary = main == LibcniMainPlugin.TrellisCni ? RepositoryRoot.CniPluginPath : "/usr/lib/cni/bridge";
        RequireExecutable(mainBinary, "the main plugin");

        var directory = Directory.CreateTempSubdirectory("trellis-libcni-").FullName;
        NetworkNamespace? node = null;
        try
        {
            var plugins = new JsonArray(MainPluginConfig(main, Path.Combine(directory, "ipam")));
            if (withChainedPlugins)
            {
                plugins.Add(new JsonObject
                {
                    ["type"] = "tuning",
                    ["mac"] = TunedMac,
                    ["sysctl"] = new JsonObject { [TunedSysctl] = "1" },
                });
                plugins.Add(new JsonObject
                {
                    ["type"] = "portmap",
                    ["capabilities"] = new JsonObject { ["portMappings"] = true },
                    ["snat"] = true,
                });
            }
            node = NetworkNamespace.Create("node");
            var chain = new LibcniChain(directory, node, plugins);
            Directory.CreateDirectory(chain.BinDirectory);
            File.CreateSymbolicLink(Path.Combine(chain.BinDirectory, "trellis-cni"), RepositoryRoot.CniPluginPath);
            foreach (var reference in new[] { "bridge", "host-local", "tuning", "portmap", "loopback" })
                File.CreateSymbolicLink(Path.Combine(chain.BinDirectory, reference), $"/usr/lib/cni/{reference}");
            return chain;
        }
        catch
        {
            node?.Dispose();
            Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    /// <summary>
    /// Runs one verb through libcni inside the node namespace. Port mappings go on every verb
    /// because runtimes hand DEL the same capability arguments as ADD (portmap needs them to
    /// find its chains). GC and STATUS need a list at 1.1.0, which libcni 1.1.2 cannot read
    /// ADD results of and the Debian reference plugins do not speak: hence the version per call.
    /// </summary>
    public CommandResult Invoke(string verb, string containerId, NetworkNamespace? pod, string? portMappings = null,
        string? validAttachments = null, string cniVersion = "1.0.0")
    {
        var conflistPath = Path.Combine(_directory, $"trellis-{cniVersion}.conflist");
        var conflist = new JsonObject { ["cniVersion"] = cniVersion, ["name"] = "trellis", ["plugins"] = _plugins.DeepClone() };
        File.WriteAllText(conflistPath, conflist.ToJsonString());
        var arguments = new List<string>
        {
            verb, "--conflist", conflistPath, "--bin-dir", BinDirectory, "--cache-dir", CacheDirectory,
            "--id", containerId, "--ifname", "eth0", "--netns", pod?.Path ?? "",
        };
        if (portMappings is not null) arguments.AddRange(["--port-mappings", portMappings]);
        if (validAttachments is not null) arguments.AddRange(["--valid-attachments", validAttachments]);
        return Node.Run(DriverPath, [.. arguments]);
    }

    /// <summary>Files under the IPAM data directory that mention the container: its allocation record.</summary>
    public IReadOnlyList<string> AllocationFilesOf(string containerId) =>
        Directory.Exists(DataDirectory)
            ? Directory.EnumerateFiles(DataDirectory, "*", SearchOption.AllDirectories)
                .Where(file => File.ReadAllText(file).Contains(containerId, StringComparison.Ordinal))
                .ToList()
            : [];

    public void Dispose()
    {
        Node.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private static JsonObject MainPluginConfig(LibcniMainPlugin main, string dataDirectory)
    {
        var ranges = new JsonArray(new JsonArray(new JsonObject { ["subnet"] = Subnet }));
        return main == LibcniMainPlugin.TrellisCni
            ? new JsonObject
            {
                ["type"] = "trellis-cni",
                ["bridge"] = "trellis0",
                ["mtu"] = 1500,
                ["ipam"] = new JsonObject { ["ranges"] = ranges, ["dataDir"] = dataDirectory },
            }
            : new JsonObject
            {
                ["type"] = "bridge",
                ["bridge"] = "trellis0",
                ["mtu"] = 1500,
                ["isGateway"] = true,
                ["isDefaultGateway"] = true,
                ["ipMasq"] = false,
                ["ipam"] = new JsonObject { ["type"] = "host-local", ["ranges"] = ranges, ["dataDir"] = dataDirectory },
            };
    }

    private static void RequireExecutable(string path, string what)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"{what} is missing at {path}: run `bash scripts/build-artifacts.sh` first", path);
    }
}
