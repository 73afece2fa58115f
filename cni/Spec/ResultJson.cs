using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using Trellis.Addressing;

namespace Trellis.Cni.Spec;

/// <summary>
/// Turns results into the JSON of a requested spec version and reads a previous plugin's
/// result back. Chaining works on the JSON tree so that fields this plugin does not model
/// (a route's mtu, an interface's socketPath) pass through untouched.
/// </summary>
public static class ResultJson
{
    /// <summary>
    /// The result to print: <paramref name="previous"/>'s interfaces, IPs and routes followed by
    /// <paramref name="ours"/>, whose interface indices are shifted past the previous ones.
    /// </summary>
    public static string Write(CniResult ours, JsonObject? previous, CniVersion version)
    {
        var root = previous is null ? new JsonObject() : (JsonObject)previous.DeepClone();
        root["cniVersion"] = version.ToString();

        var interfaces = ArrayOf(root, "interfaces");
        var ips = ArrayOf(root, "ips");
        var routes = ArrayOf(root, "routes");
        int offset = interfaces.Count;

        foreach (var item in ips.OfType<JsonObject>()) ShapeIp(item, version);

        foreach (var iface in ours.Interfaces) interfaces.Add((JsonNode)InterfaceNode(iface));
        foreach (var ip in ours.Ips)
        {
            var node = new JsonObject();
            if (version.IpsCarryVersion) node["version"] = ip.Address.Address.AddressFamily == AddressFamily.InterNetworkV6 ? "6" : "4";
            if (ip.Interface is int index) node["interface"] = index + offset;
            node["address"] = ip.Address.ToString();
            if (ip.Gateway is not null) node["gateway"] = ip.Gateway.ToString();
            ips.Add((JsonNode)node);
        }
        foreach (var route in ours.Routes)
        {
            var node = new JsonObject { ["dst"] = route.Destination.ToString() };
            if (route.Gateway is not null) node["gw"] = route.Gateway.ToString();
            routes.Add((JsonNode)node);
        }
        if (!ours.Dns.IsEmpty || root["dns"] is not JsonObject)
            root["dns"] = DnsNode(ours.Dns);

        return JsonText.Write(root);
    }

    private static JsonArray ArrayOf(JsonObject root, string name)
    {
        if (root[name] is JsonArray existing) return existing;
        var created = new JsonArray();
        root[name] = created;
        return created;
    }

    /// <summary>Adds or drops the per-IP "version" a result of <paramref name="version"/> needs.</summary>
    private static void ShapeIp(JsonObject ip, CniVersion version)
    {
        if (!version.IpsCarryVersion)
        {
            ip.Remove("version");
            return;
        }
        if (ip["version"] is not null) return;
        var address = ip["address"]?.GetValueKind() == JsonValueKind.String ? ip["address"]!.GetValue<string>() : null;
        ip["version"] = address is not null && address.Contains(':') ? "6" : "4";
    }

    private static JsonObject InterfaceNode(ResultInterface iface)
    {
        var node = new JsonObject { ["name"] = iface.Name };
        if (iface.Mac is not null) node["mac"] = iface.Mac;
        if (iface.Mtu is int mtu) node["mtu"] = mtu;
        if (iface.Sandbox is not null) node["sandbox"] = iface.Sandbox;
        return node;
    }

    private static JsonObject DnsNode(DnsSettings dns)
    {
        var node = new JsonObject();
        if (dns.Nameservers.Count > 0) node["nameservers"] = StringArray(dns.Nameservers);
        if (dns.Domain is not null) node["domain"] = dns.Domain;
        if (dns.Search.Count > 0) node["search"] = StringArray(dns.Search);
        if (dns.Options.Count > 0) node["options"] = StringArray(dns.Options);
        return node;
    }

    private static JsonArray StringArray(IEnumerable<string> values)
    {
        var array = new JsonArray();
        foreach (var value in values) array.Add((JsonNode)JsonValue.Create(value));
        return array;
    }

    /// <summary>
    /// Reads a result (any supported version) into the model; fields it does not model are
    /// skipped. Throws a <see cref="CniException"/> (code 7) naming the bad field.
    /// </summary>
    public static CniResult Read(JsonObject result)
    {
        var interfaces = new List<ResultInterface>();
        if (result["interfaces"] is JsonArray interfaceArray)
            foreach (var node in interfaceArray)
            {
                if (node is not JsonObject item || StringField(item, "name") is not string name)
                    throw Invalid("prevResult.interfaces: each interface needs a \"name\"");
                interfaces.Add(new ResultInterface(name, StringField(item, "mac"), IntField(item, "mtu"), StringField(item, "sandbox")));
            }

        var ips = new List<ResultIp>();
        if (result["ips"] is JsonArray ipArray)
            foreach (var node in ipArray)
            {
                if (node is not JsonObject item || !IpPrefix.TryParse(StringField(item, "address"), out var address, out _))
                    throw Invalid($"prevResult.ips: \"{node?["address"]}\" is not an address/prefix");
                IPAddress? gateway = null;
                if (StringField(item, "gateway") is string gatewayText && !IPAddress.TryParse(gatewayText, out gateway))
                    throw Invalid($"prevResult.ips: gateway \"{gatewayText}\" is not an address");
                ips.Add(new ResultIp(address, gateway, IntField(item, "interface")));
            }

        var routes = new List<ResultRoute>();
        if (result["routes"] is JsonArray routeArray)
            foreach (var node in routeArray)
            {
                if (node is not JsonObject item || !Cidr.TryParse(StringField(item, "dst"), out var destination, out var error))
                    throw Invalid($"prevResult.routes: \"{node?["dst"]}\" is not a CIDR");
                IPAddress? gateway = null;
                if (StringField(item, "gw") is string gatewayText && !IPAddress.TryParse(gatewayText, out gateway))
                    throw Invalid($"prevResult.routes: gw \"{gatewayText}\" is not an address");
                routes.Add(new ResultRoute(destination, gateway));
            }

        return new CniResult(interfaces, ips, routes, DnsSettings.Empty);
    }

    private static CniException Invalid(string message) => new(CniErrorCode.InvalidConfig, message);

    private static string? StringField(JsonObject item, string name) =>
        item[name] is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    private static int? IntField(JsonObject item, string name) =>
        item[name] is JsonValue value && value.GetValueKind() == JsonValueKind.Number && value.TryGetValue<int>(out var number) ? number : null;
}
