using System.Diagnostics;
using System.Text.Json.Nodes;
using Trellis.Local.Namespaces;

namespace Trellis.Local.Pods;

/// <summary>
/// A pod attachment as the runtime passes it to CNI: CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME,
/// CNI_ARGS, and the capability arguments libcni turns into each plugin's runtimeConfig.
/// </summary>
public sealed record PodAttachment(string ContainerId, string NetnsPath, string InterfaceName, string? Args = null, JsonObject? CapabilityArgs = null);

/// <summary>
/// What a container runtime's libcni does with a conflist, done the same way: each plugin is
/// executed in order with the CNI environment and its config on stdin, with name, cniVersion,
/// the previous plugin's result as prevResult, and runtimeConfig for the capabilities it declares;
/// DEL runs the list in reverse. Plugins run inside the node's namespace: through
/// <see cref="InNamespace"/> when a node namespace is given, directly when the caller already is there.
/// </summary>
public sealed class CniRuntime(string? nodeNamespace, IReadOnlyList<string> pluginDirectories)
{
    /// <summary>How long one plugin may take before it is killed and the call fails.</summary>
    public static readonly TimeSpan PluginTimeout = TimeSpan.FromSeconds(60);

    public async Task<JsonObject> AddAsync(string conflistPath, PodAttachment pod, CancellationToken ct)
    {
        var list = LoadConflist(conflistPath);
        JsonNode? result = null;
        foreach (var plugin in Plugins(list))
            result = await InvokeAsync("ADD", list, plugin, pod, result, ct)
                ?? throw new CniInvocationException($"plugin type=\"{plugin["type"]}\" returned no result for ADD of {pod.ContainerId}");
        return (JsonObject)(result ?? throw new CniInvocationException($"{conflistPath} has no plugins"));
    }

    public async Task DeleteAsync(string conflistPath, PodAttachment pod, JsonObject? previousResult, CancellationToken ct)
    {
        var list = LoadConflist(conflistPath);
        foreach (var plugin in Plugins(list).Reverse())
            await InvokeAsync("DEL", list, plugin, pod, previousResult, ct);
    }

    /// <summary>CNI_ARGS as containerd's CRI plugin passes them (IgnoreUnknown first, so plugins that do not know a key accept it).</summary>
    public static string KubernetesArgs(string podNamespace, string podName, string sandboxId, string podUid) =>
        $"IgnoreUnknown=1;K8S_POD_NAMESPACE={podNamespace};K8S_POD_NAME={podName};K8S_POD_INFRA_CONTAINER_ID={sandboxId};K8S_POD_UID={podUid}";

    private static JsonObject LoadConflist(string path)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                ?? throw new CniInvocationException($"{path} is not a JSON object");
        }
        catch (FileNotFoundException)
        {
            throw new CniInvocationException($"network is not ready: no CNI configuration {path}");
        }
        catch (DirectoryNotFoundException)
        {
            throw new CniInvocationException($"network is not ready: no CNI configuration {path}");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new CniInvocationException($"{path} is not valid JSON: {e.Message}");
        }
    }

    private static IEnumerable<JsonObject> Plugins(JsonObject list) =>
        (list["plugins"] as JsonArray ?? throw new CniInvocationException("conflist has no \"plugins\" list")).OfType<JsonObject>();

    /// <summary>libcni's buildOneConfig: name and cniVersion from the list, prevResult, runtimeConfig from the declared capabilities.</summary>
    public static JsonObject PluginConfig(JsonObject list, JsonObject plugin, JsonNode? previous, JsonObject? capabilityArgs)
    {
        var config = (JsonObject)plugin.DeepClone();
        config["name"] = list["name"]?.DeepClone();
        config["cniVersion"] = list["cniVersion"]?.DeepClone();
        if (previous is not null) config["prevResult"] = previous.DeepClone();
        if (capabilityArgs is not null && plugin["capabilities"] is JsonObject capabilities)
        {
            var runtimeConfig = new JsonObject();
            foreach (var (capability, enabled) in capabilities)
                if (enabled is JsonValue on && on.TryGetValue<bool>(out var yes) && yes && capabilityArgs[capability] is { } value)
                    runtimeConfig[capability] = value.DeepClone();
            if (runtimeConfig.Count > 0) config["runtimeConfig"] = runtimeConfig;
        }
        return config;
    }

    private async Task<JsonNode?> InvokeAsync(string command, JsonObject list, JsonObject plugin, PodAttachment pod, JsonNode? previous, CancellationToken ct)
    {
        var type = plugin["type"]?.GetValue<string>() ?? throw new CniInvocationException("a plugin in the conflist has no type");
        var network = list["name"]?.GetValue<string>() ?? "";
        var binary = pluginDirectories.Select(d => Path.Combine(d, type)).FirstOrDefault(File.Exists)
            ?? throw new CniInvocationException($"plugin type=\"{type}\" name=\"{network}\" failed ({command.ToLowerInvariant()}): failed to find plugin \"{type}\" in path [{string.Join(" ", pluginDirectories)}]");
        var config = PluginConfig(list, plugin, previous, pod.CapabilityArgs);

        var info = nodeNamespace is null ? new ProcessStartInfo(binary) { UseShellExecute = false } : InNamespace.StartInfo(nodeNamespace, binary, []);
        info.RedirectStandardInput = info.RedirectStandardOutput = info.RedirectStandardError = true;
        info.Environment["CNI_COMMAND"] = command;
        info.Environment["CNI_CONTAINERID"] = pod.ContainerId;
        info.Environment["CNI_NETNS"] = pod.NetnsPath;
        info.Environment["CNI_IFNAME"] = pod.InterfaceName;
        info.Environment["CNI_PATH"] = string.Join(":", pluginDirectories);
        if (pod.Args is not null) info.Environment["CNI_ARGS"] = pod.Args;

        using var process = Process.Start(info) ?? throw new CniInvocationException($"cannot start {binary}");
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(PluginTimeout);
        try
        {
            await process.StandardInput.WriteAsync(config.ToJsonString());
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync(deadline.Token);
            var stderr = process.StandardError.ReadToEndAsync(deadline.Token);
            await process.WaitForExitAsync(deadline.Token);
            var output = await stdout;
            if (process.ExitCode != 0)
            {
                string message = output;
                try { message = JsonNode.Parse(output)?["msg"]?.GetValue<string>() ?? output; } catch (System.Text.Json.JsonException) { }
                var details = (await stderr).Trim();
                throw new CniInvocationException($"plugin type=\"{type}\" name=\"{network}\" failed ({command.ToLowerInvariant()}): {message.Trim()}" +
                    (details.Length > 0 ? $" ({details})" : ""));
            }
            return string.IsNullOrWhiteSpace(output) ? previous : JsonNode.Parse(output);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new CniInvocationException($"plugin type=\"{type}\" name=\"{network}\" failed ({command.ToLowerInvariant()}): no answer within {PluginTimeout.TotalSeconds:0}s");
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }
}

public sealed class CniInvocationException(string message) : Exception(message);
