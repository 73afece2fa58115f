using System.Text.Json.Nodes;
using Trellis.Cni.Config;
using Trellis.Cni.Spec;

namespace Trellis.Cni.Commands;

/// <summary>VERSION: the versions this plugin speaks, answered in the caller's version when it is one of them.</summary>
public static class VersionCommand
{
    public static string Run(string? standardInput)
    {
        var supported = new JsonArray();
        foreach (var version in CniVersion.Supported) supported.Add((JsonNode)JsonValue.Create(version.ToString()));
        var reply = new JsonObject
        {
            ["cniVersion"] = NetworkConfigParser.VersionForErrors(standardInput).ToString(),
            ["supportedVersions"] = supported,
        };
        return JsonText.Write(reply);
    }
}
