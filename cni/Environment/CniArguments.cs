using Trellis.Cni.Spec;
using Trellis.Ipam;

namespace Trellis.Cni.Environment;

/// <summary>
/// CNI_ARGS, parsed as libcni parses it: "KEY=VALUE" pairs joined by ';'. A pair that is not
/// KEY=VALUE, a key given twice, a value that is not what its key allows, or a key this plugin
/// does not know (unless IgnoreUnknown is true, as runtimes set it) is refused with code 4
/// before anything is touched. Pure. The K8S_POD_* keys name the pod the attachment is for.
/// </summary>
public static class CniArguments
{
    public const string IgnoreUnknown = "IgnoreUnknown";
    public const string PodNamespace = "K8S_POD_NAMESPACE";
    public const string PodName = "K8S_POD_NAME";
    public const string PodUid = "K8S_POD_UID";
    public const string PodInfraContainerId = "K8S_POD_INFRA_CONTAINER_ID";

    private const int MaxPodNameLength = 253;
    private const int MaxNamespaceLength = 63;
    private const int MaxUidLength = 128;

    /// <summary>The pod named by <paramref name="text"/>; null when it names none.</summary>
    public static PodIdentity? Parse(string? text)
    {
        if (string.IsNullOrEmpty(text)) return null;
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in text.Split(';'))
        {
            var parts = pair.Split('=');
            if (parts.Length != 2 || parts[0].Length == 0)
                throw Invalid($"CNI_ARGS: \"{Printable(pair)}\" is not a KEY=VALUE pair");
            var key = parts[0];
            if (!key.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
                throw Invalid($"CNI_ARGS: key \"{Printable(key)}\" may hold only letters, digits and '_'");
            if (!values.TryAdd(key, parts[1]))
                throw Invalid($"CNI_ARGS: {key} is given twice");
        }

        bool ignoreUnknown = values.TryGetValue(IgnoreUnknown, out var ignore) && ParseBool(ignore);
        foreach (var key in values.Keys)
            if (key is not (IgnoreUnknown or PodNamespace or PodName or PodUid or PodInfraContainerId) && !ignoreUnknown)
                throw Invalid($"CNI_ARGS: unknown key {key} (with IgnoreUnknown=1 the plugin ignores keys it does not know)");

        var ns = Value(values, PodNamespace, NamespaceError);
        var name = Value(values, PodName, NameError);
        var uid = Value(values, PodUid, UidError);
        return ns is null && name is null && uid is null ? null : new PodIdentity(ns, name, uid);
    }

    /// <summary>As libcni reads a boolean: 1 or true, 0 or false, in any case.</summary>
    private static bool ParseBool(string text) => text.ToLowerInvariant() switch
    {
        "1" or "true" => true,
        "0" or "false" => false,
        _ => throw Invalid($"CNI_ARGS: {IgnoreUnknown}=\"{Printable(text)}\" is neither true nor false"),
    };

    /// <summary>The value of <paramref name="key"/>; an empty value counts as not given.</summary>
    private static string? Value(Dictionary<string, string> values, string key, Func<string, string?> error)
    {
        if (!values.TryGetValue(key, out var value) || value.Length == 0) return null;
        if (error(value) is string problem) throw Invalid($"CNI_ARGS: {key}=\"{Printable(value)}\" {problem}");
        return value;
    }

    /// <summary>A Kubernetes namespace name is a DNS-1123 label.</summary>
    public static string? NamespaceError(string value) =>
        value.Length > MaxNamespaceLength ? $"is longer than {MaxNamespaceLength} characters"
        : IsDnsLabel(value) ? null : "is not a namespace name (lower-case letters, digits and '-', starting and ending with a letter or digit)";

    /// <summary>A pod name is a DNS-1123 subdomain: parts joined by dots, which (unlike a label) may each be as long as the whole.</summary>
    public static string? NameError(string value) =>
        value.Length > MaxPodNameLength ? $"is longer than {MaxPodNameLength} characters"
        : value.Split('.').All(part => IsDnsLabelShaped(part, MaxPodNameLength)) ? null : "is not a pod name (lower-case letters, digits, '-' and '.', each dot-separated part starting and ending with a letter or digit)";

    /// <summary>A UID is a UUID, or a hash for static pods: letters, digits and dashes.</summary>
    public static string? UidError(string value) =>
        value.Length > MaxUidLength ? $"is longer than {MaxUidLength} characters"
        : value.All(c => char.IsAsciiLetterOrDigit(c) || c == '-') ? null : "is not a pod UID (letters, digits and '-')";

    private static bool IsDnsLabel(string part) => IsDnsLabelShaped(part, MaxNamespaceLength);

    private static bool IsDnsLabelShaped(string part, int maxLength) =>
        part.Length > 0 && part.Length <= maxLength &&
        part.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-') &&
        part[0] != '-' && part[^1] != '-';

    /// <summary>Control characters shown escaped, so a hostile value cannot forge lines in a log.</summary>
    private static string Printable(string text) =>
        string.Concat(text.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));

    private static CniException Invalid(string message) => new(CniErrorCode.InvalidEnvironment, message);
}
