namespace Trellis.ApiServer.Storage;

/// <summary>
/// Every resource the server knows: the built-ins it starts with and the served versions of each
/// established CRD. Reads take an immutable snapshot, so routing never waits for a CRD write.
/// </summary>
public sealed class ResourceRegistry
{
    private readonly object _lock = new();
    private readonly IReadOnlyList<ResourceType> _builtIns;
    private Dictionary<string, IReadOnlyList<ResourceType>> _custom = new(StringComparer.Ordinal);
    private IReadOnlyList<ResourceType> _all;

    public ResourceRegistry()
    {
        _builtIns = BuiltInResources.All;
        _all = _builtIns;
    }

    public IReadOnlyList<ResourceType> All => Volatile.Read(ref _all);

    public ResourceType? Find(string group, string version, string plural) =>
        All.FirstOrDefault(t => t.Group == group && t.Version == version && t.Plural == plural);

    /// <summary>The groups with their served versions, the first being the preferred one.</summary>
    public IReadOnlyList<(string Group, IReadOnlyList<string> Versions)> Groups() =>
        All.Where(t => t.Group.Length > 0)
            .GroupBy(t => t.Group)
            .Select(g => (g.Key, (IReadOnlyList<string>)g.Select(t => t.Version).Distinct().OrderByDescending(VersionPriority).ToArray()))
            .ToArray();

    /// <summary>Kubernetes version order: GA above beta above alpha, higher numbers first.</summary>
    public static (int Stability, int Major, int Minor) VersionPriority(string version)
    {
        var match = System.Text.RegularExpressions.Regex.Match(version, "^v(\\d+)(?:(alpha|beta)(\\d+))?$");
        if (!match.Success) return (-1, 0, 0);
        var stability = match.Groups[2].Value switch { "" => 2, "beta" => 1, _ => 0 };
        return (stability, int.Parse(match.Groups[1].Value), match.Groups[3].Success ? int.Parse(match.Groups[3].Value) : 0);
    }

    /// <summary>Registers (or replaces) the served versions of one CRD, by CRD name.</summary>
    public void Register(string crdName, IReadOnlyList<ResourceType> versions)
    {
        lock (_lock)
        {
            var custom = new Dictionary<string, IReadOnlyList<ResourceType>>(_custom, StringComparer.Ordinal) { [crdName] = versions };
            Publish(custom);
        }
    }

    public void Unregister(string crdName)
    {
        lock (_lock)
        {
            var custom = new Dictionary<string, IReadOnlyList<ResourceType>>(_custom, StringComparer.Ordinal);
            if (custom.Remove(crdName)) Publish(custom);
        }
    }

    private void Publish(Dictionary<string, IReadOnlyList<ResourceType>> custom)
    {
        _custom = custom;
        Volatile.Write(ref _all, _builtIns.Concat(custom.Values.SelectMany(v => v)).ToArray());
    }
}
