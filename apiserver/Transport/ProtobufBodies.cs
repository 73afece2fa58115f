using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Trellis.ApiServer.Transport;

/// <summary>
/// Request bodies in Kubernetes' protobuf encoding ("k8s\0" + runtime.Unknown), turned into the
/// JSON the rest of the server reads. kubectl sends protobuf, with no fallback to JSON, for the
/// built-in kinds it creates itself: the reviews behind <c>auth can-i</c> and <c>auth whoami</c>,
/// TokenRequest (<c>create token</c>), and the generators (<c>create namespace|serviceaccount|
/// configmap|role|clusterrole|rolebinding|clusterrolebinding</c>). Only those kinds are known;
/// any other is refused with 415, which makes other clients retry in JSON.
/// </summary>
public static class ProtobufBodies
{
    public const string MediaType = "application/vnd.kubernetes.protobuf";
    private static readonly byte[] Magic = "k8s\0"u8.ToArray();

    // Field tables from k8s.io/api and apimachinery generated.proto: "number name type", where type is
    // s (string), i (int64/int32), b (bool), y (bytes, base64 in JSON), t (metav1.Time), a message name,
    // []T for repeated, map<T> for map<string, T>.
    private static readonly Dictionary<string, Dictionary<int, (string Name, string Type)>> Messages = Parse(new()
    {
        ["ObjectMeta"] = "1 name s; 2 generateName s; 3 namespace s; 5 uid s; 6 resourceVersion s; 7 generation i; 8 creationTimestamp t; 9 deletionTimestamp t; 10 deletionGracePeriodSeconds i; 11 labels map<s>; 12 annotations map<s>; 13 ownerReferences []OwnerReference; 14 finalizers []s",
        ["OwnerReference"] = "1 kind s; 3 name s; 4 uid s; 5 apiVersion s; 6 controller b; 7 blockOwnerDeletion b",
        ["ResourceAttributes"] = "1 namespace s; 2 verb s; 3 group s; 4 version s; 5 resource s; 6 subresource s; 7 name s",
        ["NonResourceAttributes"] = "1 path s; 2 verb s",
        ["SelfSubjectAccessReview"] = "1 metadata ObjectMeta; 2 spec SelfSubjectAccessReviewSpec",
        ["SelfSubjectAccessReviewSpec"] = "1 resourceAttributes ResourceAttributes; 2 nonResourceAttributes NonResourceAttributes",
        ["SubjectAccessReview"] = "1 metadata ObjectMeta; 2 spec SubjectAccessReviewSpec",
        ["LocalSubjectAccessReview"] = "1 metadata ObjectMeta; 2 spec SubjectAccessReviewSpec",
        ["SubjectAccessReviewSpec"] = "1 resourceAttributes ResourceAttributes; 2 nonResourceAttributes NonResourceAttributes; 3 user s; 4 groups []s; 5 extra map<ExtraValue>; 6 uid s",
        ["ExtraValue"] = "1 items []s",
        ["SelfSubjectRulesReview"] = "1 metadata ObjectMeta; 2 spec SelfSubjectRulesReviewSpec",
        ["SelfSubjectRulesReviewSpec"] = "1 namespace s",
        ["SelfSubjectReview"] = "1 metadata ObjectMeta",
        ["TokenRequest"] = "1 metadata ObjectMeta; 2 spec TokenRequestSpec",
        ["TokenRequestSpec"] = "1 audiences []s; 3 boundObjectRef BoundObjectReference; 4 expirationSeconds i",
        ["BoundObjectReference"] = "1 kind s; 2 apiVersion s; 3 name s; 4 uid s",
        ["Namespace"] = "1 metadata ObjectMeta; 2 spec NamespaceSpec",
        ["NamespaceSpec"] = "1 finalizers []s",
        ["ServiceAccount"] = "1 metadata ObjectMeta; 2 secrets []ObjectReference; 3 imagePullSecrets []LocalObjectReference; 4 automountServiceAccountToken b",
        ["ObjectReference"] = "1 kind s; 2 namespace s; 3 name s; 4 uid s; 5 apiVersion s; 6 resourceVersion s; 7 fieldPath s",
        ["LocalObjectReference"] = "1 name s",
        ["ConfigMap"] = "1 metadata ObjectMeta; 2 data map<s>; 3 binaryData map<y>; 4 immutable b",
        ["Role"] = "1 metadata ObjectMeta; 2 rules []PolicyRule",
        ["ClusterRole"] = "1 metadata ObjectMeta; 2 rules []PolicyRule",
        ["PolicyRule"] = "1 verbs []s; 2 apiGroups []s; 3 resources []s; 4 resourceNames []s; 5 nonResourceURLs []s",
        ["RoleBinding"] = "1 metadata ObjectMeta; 2 subjects []Subject; 3 roleRef RoleRef",
        ["ClusterRoleBinding"] = "1 metadata ObjectMeta; 2 subjects []Subject; 3 roleRef RoleRef",
        ["Subject"] = "1 kind s; 2 apiGroup s; 3 name s; 4 namespace s",
        ["RoleRef"] = "1 apiGroup s; 2 kind s; 3 name s",
        ["Time"] = "1 seconds i; 2 nanos i",
        ["TypeMeta"] = "1 apiVersion s; 2 kind s",
    });

    private static Dictionary<string, Dictionary<int, (string, string)>> Parse(Dictionary<string, string> tables) =>
        tables.ToDictionary(t => t.Key, t => t.Value.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(f => f.Split(' '))
            .ToDictionary(f => int.Parse(f[0], CultureInfo.InvariantCulture), f => (f[1], f[2])));

    /// <exception cref="ApiError">415 for a kind this server cannot read in protobuf, 400 for a malformed body.</exception>
    public static JsonObject Decode(ReadOnlySpan<byte> body)
    {
        if (!body.StartsWith(Magic)) throw ApiError.BadRequest("the protobuf body does not start with the Kubernetes magic number");
        try
        {
            var unknown = Message(body[Magic.Length..].ToArray(), new() { [1] = ("typeMeta", "TypeMeta"), [2] = ("raw", "y") }, raw: true);
            var typeMeta = unknown["typeMeta"] as JsonObject ?? new JsonObject();
            var kind = typeMeta["kind"]?.GetValue<string>() ?? "";
            if (!Messages.TryGetValue(kind, out var fields) || unknown["raw"] is not JsonValue rawValue || kind is "TypeMeta" or "Time" or "ObjectMeta")
                throw new ApiError(415, "UnsupportedMediaType", $"the body of the request was in an unknown format ({MediaType}) - this server reads {kind} only as application/json");
            var result = Message(rawValue.GetValue<byte[]>(), fields, raw: false);
            var decoded = new JsonObject { ["kind"] = kind, ["apiVersion"] = typeMeta["apiVersion"]?.GetValue<string>() };
            foreach (var (name, value) in result.ToArray())
            {
                result.Remove(name);
                decoded[name] = value;
            }
            return decoded;
        }
        catch (Exception e) when (e is IndexOutOfRangeException or ArgumentOutOfRangeException or FormatException or OverflowException)
        {
            throw ApiError.BadRequest($"the protobuf body is malformed: {e.Message}");
        }
    }

    /// <param name="raw">Bytes fields stay byte[] (the envelope's payload) rather than base64 text.</param>
    private static JsonObject Message(byte[] data, Dictionary<int, (string Name, string Type)> fields, bool raw)
    {
        var obj = new JsonObject();
        var position = 0;
        while (position < data.Length)
        {
            var key = Varint(data, ref position);
            var number = (int)(key >> 3);
            var wire = (int)(key & 7);
            byte[]? bytes = null;
            ulong scalar = 0;
            switch (wire)
            {
                case 0: scalar = Varint(data, ref position); break;
                case 1: position += 8; break;
                case 2:
                    var length = checked((int)Varint(data, ref position));
                    bytes = data.AsSpan(position, length).ToArray();
                    position += length;
                    break;
                case 5: position += 4; break;
                default: throw new FormatException($"wire type {wire} of field {number}");
            }
            if (!fields.TryGetValue(number, out var field)) continue;
            var (name, type) = field;
            if (type.StartsWith("map<", StringComparison.Ordinal))
            {
                var entry = Message(bytes!, new() { [1] = ("key", "s"), [2] = ("value", type[4..^1]) }, raw);
                var map = obj[name] as JsonObject ?? (JsonObject)(obj[name] = new JsonObject());
                var value = entry["value"];
                entry.Remove("value");
                map[entry["key"]?.GetValue<string>() ?? ""] = value ?? (type == "map<s>" ? "" : null);
                continue;
            }
            var repeated = type.StartsWith("[]", StringComparison.Ordinal);
            var itemType = repeated ? type[2..] : type;
            JsonNode? item = itemType switch
            {
                "s" => Encoding.UTF8.GetString(bytes!),
                "i" => (long)scalar,
                "b" => scalar != 0,
                "y" => raw ? JsonValue.Create(bytes!) : Convert.ToBase64String(bytes!),
                "t" => Time(Message(bytes!, Messages["Time"], raw)),
                _ => ItemType(itemType, bytes!, raw),
            };
            if (repeated)
            {
                if (obj[name] is not JsonArray list) obj[name] = list = new JsonArray();
                list.Add(item);
            }
            else obj[name] = item;
        }
        return obj;
    }

    private static JsonNode? ItemType(string message, byte[] bytes, bool raw)
    {
        var decoded = Message(bytes, Messages[message], raw);
        // ExtraValue is a named []string: JSON shows the list itself.
        return message == "ExtraValue" ? decoded["items"]?.DeepClone() ?? new JsonArray() : decoded;
    }

    private static string Time(JsonObject time) =>
        DateTimeOffset.FromUnixTimeSeconds(time["seconds"]?.GetValue<long>() ?? 0).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static ulong Varint(byte[] data, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = data[position++];
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80) return value;
        }
        throw new FormatException("a varint longer than 10 bytes");
    }
}
