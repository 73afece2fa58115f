using System.Diagnostics;
using System.Text.Json.Nodes;
using Trellis.Ipam;
using Trellis.Testing;
using Xunit;

namespace Trellis.Cni.Tests;

/// <summary>
/// A node for end-to-end tests: its own network namespace, its own IPAM directory, and the
/// published trellis-cni run inside it exactly as a container runtime runs it (CNI_* in the
/// environment, configuration on stdin).
/// </summary>
public sealed class PluginNode : IDisposable
{
    public const string DefaultRanges = """[[{"subnet":"10.244.1.0/24"}]]""";

    private readonly TemporaryDirectory _dataDir;

    /// <param name="memoryBackedData">The IPAM data directory on tmpfs (<see cref="TemporaryDirectory.MemoryBacked"/>).</param>
    public PluginNode(bool memoryBackedData = false) =>
        _dataDir = new TemporaryDirectory("trellis-cni-test-", memoryBackedData ? TemporaryDirectory.MemoryBacked : null);

    public NetworkNamespace Namespace { get; } = NetworkNamespace.Create("node");

    public string DataDir => _dataDir.Path;

    /// <summary>The network's allocation directory (dataDir/&lt;name&gt;).</summary>
    public string StoreDir => Path.Combine(DataDir, "trellis");

    public static string PluginPath
    {
        get
        {
            var path = RepositoryRoot.CniPluginPath;
            Assert.True(File.Exists(path),
                $"the published plugin is missing at {path}: run `dotnet publish cni -c Release -r linux-x64 -o out/cni` " +
                "(or scripts/build-artifacts.sh) from the repository root first");
            return path;
        }
    }

    public string Config(string ranges = DefaultRanges, string version = "1.0.0", string extra = "") =>
        $$$"""{"cniVersion":"{{{version}}}","name":"trellis","type":"trellis-cni","bridge":"trellis0","mtu":1500{{{extra}}},"ipam":{"ranges":{{{ranges}}},"dataDir":"{{{DataDir}}}"}}""";

    /// <summary>The configuration with a prevResult (for CHECK) or valid attachments (for GC) added.</summary>
    public static string With(string config, string field, JsonNode value)
    {
        var root = JsonNode.Parse(config)!.AsObject();
        root[field] = value;
        return root.ToJsonString();
    }

    public static Dictionary<string, string> Environment(string command, string? containerId, string? netns, string? ifName = "eth0")
    {
        var env = new Dictionary<string, string> { ["CNI_COMMAND"] = command, ["CNI_PATH"] = "/usr/lib/cni" };
        if (containerId is not null) env["CNI_CONTAINERID"] = containerId;
        if (netns is not null) env["CNI_NETNS"] = netns;
        if (ifName is not null) env["CNI_IFNAME"] = ifName;
        return env;
    }

    public PluginRun Run(IDictionary<string, string> environment, string config) =>
        PluginRun.From(Shell.Run("ip", ["netns", "exec", Namespace.Name, PluginPath], config, environment));

    public PluginRun Add(string containerId, NetworkNamespace pod, string config, string ifName = "eth0") =>
        Run(Environment("ADD", containerId, pod.Path, ifName), config);

    public PluginRun Del(string containerId, string? netns, string config, string ifName = "eth0") =>
        Run(Environment("DEL", containerId, netns, ifName), config);

    /// <summary>Starts the plugin without waiting, for running many at once or killing one.</summary>
    public Process Start(IDictionary<string, string> environment, string config)
    {
        var info = new ProcessStartInfo("ip")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "netns", "exec", Namespace.Name, PluginPath }) info.ArgumentList.Add(argument);
        foreach (var (key, value) in environment) info.Environment[key] = value;
        var process = Process.Start(info)!;
        process.StandardInput.Write(config);
        process.StandardInput.Close();
        return process;
    }

    /// <summary>Link names in the node namespace, lo included.</summary>
    public IReadOnlyList<string> LinkNames() => LinkNamesIn(Namespace);

    public static IReadOnlyList<string> LinkNamesIn(NetworkNamespace ns) =>
        ns.Exec("ip", "-o", "link", "show").Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(':')[1].Trim().Split('@')[0]).ToList();

    /// <summary>The reservation files: those named by an address.</summary>
    public IReadOnlyList<string> AllocationFiles() =>
        Directory.Exists(StoreDir)
            ? Directory.EnumerateFiles(StoreDir).Select(f => Path.GetFileName(f)).Where(n => System.Net.IPAddress.TryParse(n, out _)).ToList()
            : [];

    /// <summary>The allocations with their records, read as the agent reads them (no lock).</summary>
    public IReadOnlyList<Allocation> Allocations() => AllocationStore.ReadAllocations(DataDir, "trellis");

    public void Dispose()
    {
        try
        {
            Namespace.Dispose();
        }
        finally
        {
            _dataDir.Dispose();
        }
    }
}

/// <summary>One finished plugin process: exit code, stdout parsed when it is JSON, stderr for messages.</summary>
public sealed record PluginRun(int ExitCode, string StandardOutput, string StandardError)
{
    public static PluginRun From(CommandResult result) => new(result.ExitCode, result.StandardOutput, result.StandardError);

    public static PluginRun From(Process process)
    {
        var stdout = process.StandardOutput.ReadToEnd();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return new PluginRun(process.ExitCode, stdout, stderr);
    }

    public JsonObject Json => JsonNode.Parse(StandardOutput)!.AsObject();

    /// <summary>Asserts success and returns the result.</summary>
    public JsonObject Succeeded()
    {
        Assert.True(ExitCode == 0, $"plugin exited {ExitCode}: {StandardOutput} {StandardError}");
        return StandardOutput.Length == 0 ? new JsonObject() : Json;
    }

    /// <summary>Asserts the spec's error shape with <paramref name="code"/> and returns the message.</summary>
    public string FailedWith(int code)
    {
        Assert.True(ExitCode != 0, $"plugin succeeded but should have failed with code {code}: {StandardOutput}");
        var json = Json;
        Assert.True((int?)json["code"] == code, $"expected code {code}, got {StandardOutput}");
        var message = (string?)json["msg"];
        Assert.False(string.IsNullOrEmpty(message));
        Assert.NotNull((string?)json["cniVersion"]);
        return message!;
    }

    /// <summary>The pod addresses of an ADD result ("10.244.1.2/24" form).</summary>
    public IReadOnlyList<string> Addresses() =>
        Succeeded()["ips"]!.AsArray().Select(ip => (string)ip!["address"]!).ToList();
}
