using System.Text.Json;
using System.Text.Json.Serialization;

namespace Trellis.Local.Pods;

public enum SandboxState
{
    /// <summary>Written before the namespace and the CNI ADD; a sandbox found in this state after a crash is torn down.</summary>
    Creating,

    /// <summary>The namespace exists and ADD succeeded; <see cref="SandboxRecord.Result"/> holds the result DEL needs.</summary>
    Ready,
}

/// <summary>
/// A pod sandbox as the runtime remembers it (containerd's sandbox metadata plus libcni's result
/// cache): enough to run DEL and remove the namespace after any crash.
/// </summary>
public sealed record SandboxRecord
{
    /// <summary>The sandbox (infra container) ID: CNI_CONTAINERID and K8S_POD_INFRA_CONTAINER_ID, fresh for every sandbox.</summary>
    public required string Id { get; init; }
    public required string PodNamespace { get; init; }
    public required string PodName { get; init; }
    public required string PodUid { get; init; }
    /// <summary>The network namespace's name under /run/netns; null for a hostNetwork pod, which has none of its own.</summary>
    public string? NetnsName { get; init; }
    public required SandboxState State { get; init; }
    /// <summary>The CNI ADD result (JSON), passed to DEL as prevResult as libcni does from its cache.</summary>
    public string? Result { get; init; }
    /// <summary>The capability arguments ADD was given (port mappings), given to DEL again as containerd does.</summary>
    public string? CapabilityArgs { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }

    public string PodKey => $"{PodNamespace}/{PodName}";
}

/// <summary>
/// Sandbox records of one node, one file per sandbox under the node's run directory (volatile,
/// like /run on a real node: a reboot empties it), read once and then kept in memory. Each write
/// is atomic (temp file, fsync, rename), so a crash leaves the old record or the new one.
/// </summary>
public sealed class SandboxStore
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true, Converters = { new JsonStringEnumConverter() } };
    private readonly object _gate = new();
    private readonly Dictionary<string, SandboxRecord> _records = new(StringComparer.Ordinal);

    public SandboxStore(string directory)
    {
        Directory = directory;
        System.IO.Directory.CreateDirectory(directory);
        foreach (var file in System.IO.Directory.EnumerateFiles(directory, "*.json"))
        {
            try
            {
                if (JsonSerializer.Deserialize<SandboxRecord>(File.ReadAllText(file), s_json) is { } record) _records[record.Id] = record;
            }
            catch (JsonException e)
            {
                // Writes are renamed into place, so a torn record cannot be ours; refuse to guess what it held.
                throw new InvalidDataException($"sandbox record {file} is not valid: {e.Message}", e);
            }
        }
    }

    public string Directory { get; }

    public IReadOnlyList<SandboxRecord> All()
    {
        lock (_gate) return _records.Values.ToList();
    }

    public void Write(SandboxRecord record)
    {
        var path = PathOf(record.Id);
        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write))
        {
            JsonSerializer.Serialize(stream, record, s_json);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
        lock (_gate) _records[record.Id] = record;
    }

    public void Delete(string id)
    {
        File.Delete(PathOf(id));
        lock (_gate) _records.Remove(id);
    }

    /// <summary>The records in <paramref name="directory"/>, for a process that only reads them (a node reboot).</summary>
    public static IReadOnlyList<SandboxRecord> Read(string directory) =>
        System.IO.Directory.Exists(directory) ? new SandboxStore(directory).All() : [];

    private string PathOf(string id) =>
        SandboxIds.IsValid(id) ? Path.Combine(Directory, id + ".json") : throw new ArgumentException($"\"{id}\" is not a sandbox ID", nameof(id));
}

public static class SandboxIds
{
    /// <summary>A fresh ID as containerd makes them: 32 random bytes in lowercase hex.</summary>
    public static string New() => Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)).ToLowerInvariant();

    public static bool IsValid(string id) => id.Length == 64 && id.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');
}
