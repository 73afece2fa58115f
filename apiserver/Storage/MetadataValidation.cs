using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Trellis.ApiServer.Storage;

/// <summary>
/// metadata.labels and metadata.annotations as ValidateObjectMeta checks them: every key a
/// qualified name (an optional DNS-subdomain prefix and "/", then a name of at most 63 characters),
/// every label value at most 63 characters of the label alphabet, annotations at most 256 KiB in all.
/// </summary>
public static partial class MetadataValidation
{
    private const string QualifiedNameMessage = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
    private const string PrefixMessage = "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    private const string LabelValueMessage = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
    private const int AnnotationsLimit = 256 * 1024;

    public static IReadOnlyList<StatusCause> Check(JsonObject metadata)
    {
        var causes = new List<StatusCause>();
        if (metadata["labels"] is JsonObject labels)
            foreach (var (key, value) in labels)
            {
                causes.AddRange(QualifiedName(key, "metadata.labels"));
                var text = value is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
                if (text is null)
                    causes.Add(new("FieldValueInvalid", $"Invalid value: {value?.ToJsonString() ?? "null"}: a label value must be a string", $"metadata.labels[{key}]"));
                else if (text.Length > 63)
                    causes.Add(new("FieldValueInvalid", $"Invalid value: {Quote(text)}: must be no more than 63 characters", "metadata.labels"));
                else if (!LabelValue().IsMatch(text))
                    causes.Add(new("FieldValueInvalid", $"Invalid value: {Quote(text)}: {LabelValueMessage}", "metadata.labels"));
            }
        if (metadata["annotations"] is JsonObject annotations)
        {
            long size = 0;
            foreach (var (key, value) in annotations)
            {
                causes.AddRange(QualifiedName(key, "metadata.annotations"));
                size += Encoding.UTF8.GetByteCount(key) + (value is JsonValue v && v.GetValueKind() == JsonValueKind.String ? Encoding.UTF8.GetByteCount(v.GetValue<string>()) : 0);
            }
            if (size > AnnotationsLimit)
                causes.Add(new("FieldValueTooLong", $"Too long: may not be more than {AnnotationsLimit} bytes", "metadata.annotations"));
        }
        return causes;
    }

    private static IEnumerable<StatusCause> QualifiedName(string key, string field)
    {
        var parts = key.Split('/');
        string name;
        if (parts.Length == 1) name = key;
        else if (parts.Length == 2)
        {
            var prefix = parts[0];
            name = parts[1];
            if (prefix.Length == 0) yield return new("FieldValueInvalid", $"Invalid value: {Quote(key)}: prefix part must be non-empty", field);
            else if (prefix.Length > 253) yield return new("FieldValueInvalid", $"Invalid value: {Quote(key)}: prefix part must be no more than 253 characters", field);
            else if (!DnsSubdomain().IsMatch(prefix)) yield return new("FieldValueInvalid", $"Invalid value: {Quote(key)}: {PrefixMessage}", field);
        }
        else
        {
            yield return new("FieldValueInvalid", $"Invalid value: {Quote(key)}: a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')", field);
            yield break;
        }
        if (name.Length == 0) yield return new("FieldValueInvalid", $"Invalid value: {Quote(key)}: name part must be non-empty", field);
        else if (name.Length > 63) yield return new("FieldValueInvalid", $"Invalid value: {Quote(key)}: name part must be no more than 63 characters", field);
        else if (!QualifiedNamePart().IsMatch(name)) yield return new("FieldValueInvalid", $"Invalid value: {Quote(key)}: {QualifiedNameMessage}", field);
    }

    private static string Quote(string text) => JsonSerializer.Serialize(text, WireJson.Options);

    [GeneratedRegex("^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")]
    private static partial Regex QualifiedNamePart();

    [GeneratedRegex("^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")]
    private static partial Regex LabelValue();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex DnsSubdomain();
}
