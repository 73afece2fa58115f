using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Trellis.Ipam;

/// <summary>
/// The content of an allocation file. Format 1 (written now) is one JSON object:
/// <c>{"format":1,"containerId":…,"ifName":…,"podNamespace":…,"podName":…,"podUid":…,"created":…}</c>
/// (the pod fields only when known); unknown fields are ignored, so a later format can add
/// some. Format 0 (written by the plugin until the store moved here, and host-local's shape)
/// is "containerID\nifname" and is still read, so a node upgraded in place keeps its
/// allocations: its time is the file's.
/// Pure: bytes in, record out.
/// </summary>
public static class AllocationRecordFormat
{
    public const int Legacy = 0;
    public const int Current = 1;

    /// <summary>A record is a few hundred bytes; anything much longer was not written by the plugin.</summary>
    public const int MaxBytes = 4096;

    public static byte[] Encode(AllocationRecord record)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("format", Current);
            json.WriteString("containerId", record.Owner.ContainerId);
            json.WriteString("ifName", record.Owner.IfName);
            if (record.Pod?.Namespace is string ns) json.WriteString("podNamespace", ns);
            if (record.Pod?.Name is string name) json.WriteString("podName", name);
            if (record.Pod?.Uid is string uid) json.WriteString("podUid", uid);
            if (record.Created is DateTimeOffset created)
                json.WriteString("created", created.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
            json.WriteEndObject();
        }
        buffer.Write("\n"u8);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// The record in <paramref name="content"/>; null when it is not one (empty, cut short,
    /// not UTF-8, a field missing or of the wrong type). <paramref name="modified"/> stands in
    /// for the creation time of format 0, which recorded none.
    /// </summary>
    public static AllocationRecord? Decode(ReadOnlySpan<byte> content, DateTimeOffset? modified = null)
    {
        if (content.IsEmpty || content.Length > MaxBytes) return null;
        return content[0] == (byte)'{' ? DecodeCurrent(content) : DecodeLegacy(content, modified);
    }

    private static AllocationRecord? DecodeLegacy(ReadOnlySpan<byte> content, DateTimeOffset? modified)
    {
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(content);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
        var newline = text.IndexOf('\n');
        if (newline <= 0) return null;
        var containerId = text[..newline].TrimEnd('\r');
        var ifName = text[(newline + 1)..].TrimEnd('\r', '\n');
        if (containerId.Length == 0 || ifName.Length == 0 || ifName.Contains('\n')) return null;
        return new AllocationRecord(new Attachment(containerId, ifName), null, modified, Legacy);
    }

    private static AllocationRecord? DecodeCurrent(ReadOnlySpan<byte> content)
    {
        string? containerId = null, ifName = null, podNamespace = null, podName = null, podUid = null;
        DateTimeOffset? created = null;
        int? format = null;
        try
        {
            var reader = new Utf8JsonReader(content);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var field = reader.GetString();
                if (!reader.Read()) return null;
                switch (field)
                {
                    case "format":
                        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out var f)) return null;
                        format = f;
                        break;
                    case "containerId": containerId = Text(ref reader); break;
                    case "ifName": ifName = Text(ref reader); break;
                    case "podNamespace": podNamespace = Text(ref reader); break;
                    case "podName": podName = Text(ref reader); break;
                    case "podUid": podUid = Text(ref reader); break;
                    case "created":
                        if (!DateTimeOffset.TryParse(Text(ref reader), CultureInfo.InvariantCulture,
                                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
                            return null;
                        created = time;
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }
            if (reader.TokenType != JsonTokenType.EndObject) return null;
        }
        catch (JsonException)
        {
            return null;
        }
        catch (InvalidOperationException)
        {
            // A field of the wrong type (a number where text belongs).
            return null;
        }
        if (format is not >= Current || string.IsNullOrEmpty(containerId) || string.IsNullOrEmpty(ifName))
            return null;
        var pod = podNamespace is null && podName is null && podUid is null ? null : new PodIdentity(podNamespace, podName, podUid);
        return new AllocationRecord(new Attachment(containerId, ifName), pod, created, format.Value);
    }

    private static string? Text(ref Utf8JsonReader reader) =>
        reader.TokenType == JsonTokenType.Null ? null : reader.GetString();
}
