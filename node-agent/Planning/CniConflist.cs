using Trellis.Addressing;
using System.Text.Json;
using System.Text.Json.Nodes;
using Trellis.Ipam;

namespace Trellis.NodeAgent.Planning;

/// <summary>
/// Renders 10-trellis.conflist. cniVersion 1.0.0 is the newest version every plugin in the chain
/// speaks (Debian's portmap stops at 1.0.0), so it is the only one offered in cniVersions too.
/// </summary>
public static class CniConflist
{
    public const string CniVersion = "1.0.0";

    public static string Render(CniPlan plan)
    {
        var ranges = new JsonArray(plan.RangeSets.Select(set => (JsonNode)new JsonArray(set.Select(block => (JsonNode)new JsonObject
        {
            ["subnet"] = block.Cidr.ToString(),
            ["gateway"] = block.Gateway.ToString(),
        }).ToArray())).ToArray());

        var document = new JsonObject
        {
            ["cniVersion"] = CniVersion,
            ["cniVersions"] = new JsonArray(CniVersion),
            ["name"] = NodeContract.NetworkName,
            ["plugins"] = new JsonArray(
                new JsonObject
                {
                    ["type"] = NodeContract.PluginType,
                    ["bridge"] = plan.Bridge,
                    ["mtu"] = plan.Mtu,
                    ["ipam"] = new JsonObject
                    {
                        ["ranges"] = ranges,
                        ["dataDir"] = plan.IpamDataDirectory,
                    },
                },
                new JsonObject
                {
                    ["type"] = "portmap",
                    ["capabilities"] = new JsonObject { ["portMappings"] = true },
                }),
        };
        return document.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }
}
