using System.Text.Encodings.Web;
using System.Text.Json;

namespace Trellis.ApiServer;

/// <summary>How JSON goes on the wire: quotes as \" (not \u0022) like the Go encoder, so messages read as the real server's do.</summary>
internal static class WireJson
{
    public static readonly JsonSerializerOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
