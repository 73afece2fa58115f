using System.Diagnostics;
using System.Text.Json.Nodes;
using Trellis.Local.Namespaces;

namespace Trellis.Local.Pods;

/// <summary>A pod attachment as the runtime tracks it: enough to run DEL later.</summary>
public sealed record PodAttachment(string ContainerId, string NetnsPath, string InterfaceName);

/// <summary>
/// What a container runtime's libcni does with a conflist, done the same way: each plugin is
/// executed in order with the CNI environment and its config on stdin, the previous plugin's
/// result as prevResult; DEL runs the list in reverse. Plugins run inside the node's namespace.
/// </summary>
public sealed class CniRuntime(string nodeNamespace, IReadOnlyList<string> pluginDirectories)
{
    public async Task<JsonObject> AddAsync(string conflistPath, PodAttachment pod, CancellationToken ct)
    {
        var list = LoadConflist(conflistPath);
        JsonNode? result = null;
        foreach (var plugin in Plugins(list))
            result = await InvokeAsync("ADD", list, plugin, pod, result, ct)
                ?? throw new CniInvocationException($"plugin {plugin["type"]} returned no result for ADD of {pod.ContainerId}");
        return (JsonObject)(result ?? throw new CniInvocationException($"{conflistPath} has no plugins"));
    }

    public async Task DeleteAsync(string conflistPath, PodAttachment pod, JsonObject? previousResult, CancellationToken ct)
    {
        var list = LoadConflist(conflistPath);
        foreach (var plugin in Plugins(list).Reverse())
            await InvokeAsync("DEL", list, plugin, pod, previousResult, ct);
    }

    private static JsonObject LoadConflist(string path)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                ?? throw new CniInvocationException($"{path} is not a JSON object");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new CniInvocationException($"{path} is not valid JSON: {e.Message}");
        }
    }

    private static IEnumerable<JsonObject> Plugins(JsonObject list) =>
        (list["plugins"] as JsonArray ?? throw new CniInvocationException("conflist has no \"plugins\" list")).OfType<JsonObject>();

    private async Task<JsonNode?> InvokeAsync(string command, JsonObject list, JsonObject plugin, PodAttachment pod, JsonNode? previous, CancellationToken ct)
    {
        var type = plugin["type"]?.GetValue<string>() ?? throw new CniInvocationException("a plugin in the conflist has no type");
        var binary = pluginDirectories.Select(d => Path.Combine(d, type)).FirstOrDefault(File.Exists)
            ?? throw new CniInvocationException($"plugin {type} not found in {string.Join(":", pluginDirectories)}");

        var config = (JsonObject)plugin.DeepClone();
        config["name"] = list["name"]?.DeepClone();
        config["cniVersion"] = list["cniVersion"]?.DeepClone();
        if (previous is not null) config["prevResult"] = previous.DeepClone();

        var info = InNamespace.StartInfo(nodeNamespace, binary, []);
        info.RedirectStandardInput = info.RedirectStandardOutput = info.RedirectStandardError = true;
        info.Environment["CNI_COMMAND"] = command;
        info.Environment["CNI_CONTAINERID"] = pod.ContainerId;
        info.Environment["CNI_NETNS"] = pod.NetnsPath;
        info.Environment["CNI_IFNAME"] = pod.InterfaceName;
        info.Environment["CNI_PATH"] = string.Join(":", pluginDirectories);

        using var process = Process.Start(info) ?? throw new CniInvocationException($"cannot start {binary}");
        await process.StandardInput.WriteAsync(config.ToJsonString());
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        var output = await stdout;
        if (process.ExitCode != 0)
        {
            string message = output;
            try { message = JsonNode.Parse(output)?["msg"]?.GetValue<string>() ?? output; } catch (System.Text.Json.JsonException) { }
            throw new CniInvocationException($"{type} {command} for {pod.ContainerId} failed (exit {process.ExitCode}): {message.Trim()} {(await stderr).Trim()}");
        }
        return string.IsNullOrWhiteSpace(output) ? previous : JsonNode.Parse(output);
    }
}

public sealed class CniInvocationException(string message) : Exception(message);
