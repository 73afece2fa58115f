using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using Trellis.Addressing;
using Trellis.Cni.Environment;
using Trellis.Cni.Spec;
using Trellis.Ipam;

namespace Trellis.Cni.Config;

/// <summary>
/// Reads the network configuration from its JSON text. Pure: no file or link is looked at,
/// so every refusal happens before the plugin touches anything. Errors name the field.
/// </summary>
public static class NetworkConfigParser
{
    public static NetworkConfig Parse(string text)
    {
        var root = ParseObject(text);
        var version = ReadVersion(root);
        var name = RequiredString(root, "name");
        if (NameError(name) is string nameError) throw Invalid(nameError);

        var bridge = OptionalString(root, "bridge") ?? NodeContract.DefaultBridge;
        if (CniEnvironment.InterfaceNameError(bridge, "bridge") is string bridgeError) throw Invalid(bridgeError);

        var ipam = ReadIpam(root["ipam"]);
        int? mtu = null;
        if (root["mtu"] is JsonNode mtuNode)
        {
            if (mtuNode.GetValueKind() != JsonValueKind.Number || !mtuNode.AsValue().TryGetValue<int>(out var value))
                throw Invalid($"mtu {mtuNode.ToJsonString()} is not a whole number");
            if (MtuBounds.Problem(value, ipam.RangeSets.Any(set => set.Family == AddressFamily.InterNetworkV6)) is { } problem)
                throw Invalid($"mtu: {problem}");
            mtu = value;
        }

        return new NetworkConfig(
            version, name, bridge, mtu,
            ipam,
            ReadDns(root["dns"]),
            ReadPrevResult(root["prevResult"]),
            ReadAttachments(root, "cni.dev/valid-attachments") ?? ReadAttachments(root, "cni.dev/attachments"));
    }

    /// <summary>The JSON object of <paramref name="text"/>; code 6 when it is not one.</summary>
    public static JsonObject ParseObject(string text)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(text);
        }
        catch (JsonException e)
        {
            throw new CniException(CniErrorCode.DecodingFailure, "network configuration on stdin is not valid JSON", e.Message);
        }
        return node as JsonObject ?? throw new CniException(CniErrorCode.DecodingFailure, "network configuration on stdin is not a JSON object");
    }

    /// <summary>The configuration's cniVersion; code 1 when this plugin does not speak it.</summary>
    public static CniVersion ReadVersion(JsonObject root)
    {
        var text = RequiredString(root, "cniVersion");
        if (!CniVersion.TryParse(text, out var version) || !version.IsSupported)
            throw new CniException(CniErrorCode.IncompatibleVersion,
                $"cniVersion \"{text}\" is not supported",
                $"supported versions: {string.Join(", ", CniVersion.Supported)}");
        return version;
    }

    /// <summary>The version to write an error in: the configuration's if it is readable and supported.</summary>
    public static CniVersion VersionForErrors(string? text)
    {
        try
        {
            if (text is not null && JsonNode.Parse(text) is JsonObject root &&
                root["cniVersion"] is JsonValue value && value.GetValueKind() == JsonValueKind.String &&
                CniVersion.TryParse(value.GetValue<string>(), out var version) && version.IsSupported)
                return version;
        }
        catch (JsonException)
        {
        }
        return CniVersion.Latest;
    }

    /// <summary>Network names become directory names under dataDir, so they follow the spec's strict form.</summary>
    public static string? NameError(string name)
    {
        if (name.Length == 0) return "name is empty";
        if (!char.IsAsciiLetterOrDigit(name[0])) return $"name \"{name}\" must start with a letter or digit";
        foreach (var c in name)
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('_' or '.' or '-'))
                return $"name \"{name}\" may hold only letters, digits, '_', '.' and '-'";
        return null;
    }

    private static IpamConfig ReadIpam(JsonNode? node)
    {
        if (node is null) return new IpamConfig([], NodeContract.DefaultIpamDataDirectory);
        if (node is not JsonObject ipam) throw Invalid("ipam must be an object");

        var dataDir = OptionalString(ipam, "dataDir", "ipam.") ?? NodeContract.DefaultIpamDataDirectory;
        if (!dataDir.StartsWith('/') || dataDir.Contains('\0'))
            throw Invalid($"ipam.dataDir \"{dataDir}\" must be an absolute path");

        var sets = new List<RangeSet>();
        if (ipam["ranges"] is JsonNode rangesNode)
        {
            if (rangesNode is not JsonArray ranges) throw Invalid("ipam.ranges must be a list of range sets");
            for (int i = 0; i < ranges.Count; i++)
            {
                var set = ReadRangeSet(ranges[i], $"ipam.ranges[{i}]");
                var sameFamily = sets.FindIndex(s => s.Family == set.Family);
                if (sameFamily >= 0)
                    throw Invalid($"ipam.ranges[{i}] is a second range set for {IpFamilyName.Of(set.Family)} (ipam.ranges[{sameFamily}] is the first); give at most one set per address family");
                sets.Add(set);
            }
        }
        return new IpamConfig(sets, dataDir);
    }

    private static RangeSet ReadRangeSet(JsonNode? node, string where)
    {
        if (node is not JsonArray array) throw Invalid($"{where} must be a list of ranges");
        if (array.Count == 0) throw Invalid($"{where} is empty");
        var ranges = new List<AddressRange>();
        for (int j = 0; j < array.Count; j++)
        {
            var range = ReadRange(array[j], $"{where}[{j}]");
            if (ranges.Count > 0 && range.Family != ranges[0].Family)
                throw Invalid($"{where}[{j}] ({range.Subnet}) mixes address families within one range set");
            foreach (var other in ranges)
                if (AddressOrder.Between(range.RangeStart, other.RangeStart, other.RangeEnd) ||
                    AddressOrder.Between(other.RangeStart, range.RangeStart, range.RangeEnd))
                    throw Invalid($"{where}[{j}] ({range}) overlaps {other}");
            ranges.Add(range);
        }
        return new RangeSet(ranges);
    }

    private static AddressRange ReadRange(JsonNode? node, string where)
    {
        if (node is not JsonObject range) throw Invalid($"{where} must be an object with a subnet");
        var subnetText = RequiredString(range, "subnet", where + ".");
        if (!Cidr.TryParse(subnetText, out var subnet, out var error))
            throw Invalid($"{where}.subnet: {error}");

        int hostBits = subnet.AddressBits - subnet.PrefixLength;
        if (hostBits < 2)
            throw Invalid($"{where}.subnet {subnet} is too small: it needs room for the network address, a gateway and at least one pod");

        var gateway = OptionalAddress(range, "gateway", where, subnet) ?? BlockGateway.Of(subnet);
        var start = OptionalAddress(range, "rangeStart", where, subnet) ?? subnet.FirstHost;
        var end = OptionalAddress(range, "rangeEnd", where, subnet) ?? DefaultRangeEnd(subnet);
        if (AddressOrder.Compare(start, end) > 0)
            throw Invalid($"{where}: rangeStart {start} is after rangeEnd {end}");
        return new AddressRange(subnet, start, end, gateway);
    }

    /// <summary>The last address pods may have: IPv4 keeps the broadcast address out.</summary>
    private static IPAddress DefaultRangeEnd(Cidr subnet) =>
        subnet.IsIPv4 ? subnet.AddressAt(subnet.Size - 2) : subnet.Last;

    private static IPAddress? OptionalAddress(JsonObject range, string field, string where, Cidr subnet)
    {
        var text = OptionalString(range, field, where + ".");
        if (text is null) return null;
        if (!IPAddress.TryParse(text, out var address) || text.Contains('%') || text.Contains('/') ||
            (address.AddressFamily == AddressFamily.InterNetwork && text.Count(c => c == '.') != 3))
            throw Invalid($"{where}.{field} \"{text}\" is not an IP address");
        if (!subnet.Contains(address))
            throw Invalid($"{where}.{field} {address} is outside subnet {subnet}");
        return address;
    }

    private static DnsSettings ReadDns(JsonNode? node)
    {
        if (node is null) return DnsSettings.Empty;
        if (node is not JsonObject dns) throw Invalid("dns must be an object");
        return new DnsSettings(
            StringList(dns, "nameservers"),
            OptionalString(dns, "domain", "dns."),
            StringList(dns, "search"),
            StringList(dns, "options"));
    }

    private static IReadOnlyList<string> StringList(JsonObject parent, string field)
    {
        if (parent[field] is not JsonNode node) return [];
        if (node is not JsonArray array || array.Any(item => item?.GetValueKind() != JsonValueKind.String))
            throw Invalid($"dns.{field} must be a list of strings");
        return array.Select(item => item!.GetValue<string>()).ToList();
    }

    private static JsonObject? ReadPrevResult(JsonNode? node) => node switch
    {
        null => null,
        JsonObject result => result,
        _ => throw Invalid("prevResult must be an object"),
    };

    /// <summary>The attachments GC must keep; libcni also sends them as cni.dev/attachments, the name an earlier spec draft used.</summary>
    private static IReadOnlyList<Attachment>? ReadAttachments(JsonObject root, string field)
    {
        if (root[field] is not JsonNode node) return null;
        if (node is not JsonArray array) throw Invalid($"{field} must be a list");
        var attachments = new List<Attachment>();
        for (int i = 0; i < array.Count; i++)
        {
            if (array[i] is not JsonObject item) throw Invalid($"{field}[{i}] must be an object");
            attachments.Add(new Attachment(
                RequiredString(item, "containerID", $"{field}[{i}]."),
                RequiredString(item, "ifname", $"{field}[{i}].")));
        }
        return attachments;
    }

    private static string RequiredString(JsonObject parent, string field, string prefix = "") =>
        OptionalString(parent, field, prefix) ?? throw Invalid($"{prefix}{field} is required");

    private static string? OptionalString(JsonObject parent, string field, string prefix = "")
    {
        if (parent[field] is not JsonNode node) return null;
        if (node.GetValueKind() != JsonValueKind.String) throw Invalid($"{prefix}{field} must be a string");
        return node.GetValue<string>();
    }

    private static CniException Invalid(string message) => new(CniErrorCode.InvalidConfig, message);
}
