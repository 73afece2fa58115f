using Trellis.Local.Pods;
using Xunit;

namespace Trellis.Local.Tests.Pods;

public sealed class SandboxStoreTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("trellis-sandboxes-").FullName;

    private static SandboxRecord Record(string pod) => new()
    {
        Id = SandboxIds.New(), PodNamespace = "x", PodName = pod, PodUid = Guid.NewGuid().ToString(),
        NetnsName = $"t-pod-x-{pod}", State = SandboxState.Creating, CreatedAt = DateTimeOffset.UtcNow,
    };

    [Fact]
    public void Records_survive_a_restart_and_deletions_stay_deleted()
    {
        var store = new SandboxStore(_directory);
        var a = Record("a");
        var b = Record("b");
        store.Write(a);
        store.Write(b);
        store.Write(a with { State = SandboxState.Ready, Result = """{"ips": [{"address": "10.0.0.2/24"}]}""" });
        store.Delete(b.Id);

        var reopened = new SandboxStore(_directory).All();
        var only = Assert.Single(reopened);
        Assert.Equal(SandboxState.Ready, only.State);
        Assert.Equal(["10.0.0.2"], PodSandboxRuntime.AddressesOf(only));
        Assert.Empty(Directory.GetFiles(_directory, "*.tmp"));
    }

    [Fact]
    public void A_record_that_is_not_one_is_refused_by_name()
    {
        File.WriteAllText(Path.Combine(_directory, new string('a', 64) + ".json"), "{ not json");
        Assert.Contains(_directory, Assert.Throws<InvalidDataException>(() => new SandboxStore(_directory)).Message);
    }

    [Theory]
    [InlineData("../../etc/passwd")]
    [InlineData("ABC")]
    public void Ids_that_are_not_sandbox_ids_never_become_paths(string id) =>
        Assert.Throws<ArgumentException>(() => new SandboxStore(_directory).Delete(id));

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
