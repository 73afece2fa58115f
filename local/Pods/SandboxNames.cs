using System.Security.Cryptography;
using System.Text;

namespace Trellis.Local.Pods;

/// <summary>
/// Names of pod sandbox namespaces: <c>&lt;prefix&gt;-pod-&lt;namespace&gt;-&lt;name&gt;</c>, readable in
/// <c>ip netns</c>. A name too long for a file (255 bytes) is cut and given a hash of the pod, and
/// a name already taken (pods a-b/c and a/b-c meet at the same name; a pod recreated on another
/// node while its old sandbox is still being torn down) gets a hash of the sandbox too.
/// </summary>
public static class SandboxNames
{
    public const int MaxLength = 255;
    private const int HashLength = 10;

    /// <summary>The readable name, or its cut and hashed form when it would be too long.</summary>
    public static string Preferred(string prefix, string podNamespace, string podName) =>
        Fit($"{prefix}-pod-{podNamespace}-{podName}", $"{podNamespace}/{podName}");

    /// <summary>A name unique to this sandbox, for when <see cref="Preferred"/> is taken.</summary>
    public static string Unique(string prefix, string podNamespace, string podName, string sandboxId) =>
        Fit($"{prefix}-pod-{podNamespace}-{podName}", $"{podNamespace}/{podName}/{sandboxId}", always: true);

    /// <summary>Whether a namespace name is a sandbox of the cluster with this prefix (never a node's or the underlay's).</summary>
    public static bool IsSandbox(string prefix, string namespaceName) =>
        namespaceName.StartsWith($"{prefix}-pod-", StringComparison.Ordinal);

    private static string Fit(string name, string identity, bool always = false)
    {
        if (!always && Encoding.UTF8.GetByteCount(name) <= MaxLength) return name;
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(identity)))[..HashLength].ToLowerInvariant();
        // Names here are ASCII (Kubernetes names and the prefix are), so characters are bytes.
        var cut = name.Length > MaxLength - HashLength - 1 ? name[..(MaxLength - HashLength - 1)] : name;
        return $"{cut.TrimEnd('-', '.')}-{hash}";
    }
}
