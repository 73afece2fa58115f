using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Trellis.Cni.Spec;

/// <summary>The error codes of the CNI specification that this plugin returns.</summary>
public static class CniErrorCode
{
    public const int IncompatibleVersion = 1;
    public const int InvalidEnvironment = 4;
    public const int IoFailure = 5;
    public const int DecodingFailure = 6;
    public const int InvalidConfig = 7;
    public const int TryAgainLater = 11;
    public const int PluginNotAvailable = 50;
    /// <summary>Not a spec code: any failure of the kernel or the system that the spec does not name.</summary>
    public const int Internal = 999;
}

/// <summary>
/// A failure that ends the invocation: the plugin prints it as the spec's error JSON on
/// stdout and exits non-zero.
/// </summary>
public sealed class CniException(int code, string message, string? details = null) : Exception(message)
{
    public int Code { get; } = code;
    public string? Details { get; } = details;

    public string ToJson(CniVersion version)
    {
        using var buffer = new MemoryStream();
        // Relaxed escaping keeps the sentence readable in the raw JSON (' rather than \u0027); nothing embeds it in HTML.
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteString("cniVersion", version.ToString());
            writer.WriteNumber("code", Code);
            writer.WriteString("msg", Message);
            if (!string.IsNullOrEmpty(Details)) writer.WriteString("details", Details);
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
