using System.Text.Json;
using System.Text.Json.Nodes;
using Trellis.ApiServer.Storage;
using Trellis.ApiServer.Tables;

namespace Trellis.ApiServer.Tests.Tables;

public sealed class TableTests
{
    [Theory]
    [InlineData(-5, "<invalid>")]
    [InlineData(0, "0s")]
    [InlineData(59, "59s")]
    [InlineData(119, "119s")]
    [InlineData(120, "2m")]
    [InlineData(150, "2m30s")]
    [InlineData(600, "10m")]
    [InlineData(179 * 60, "179m")]
    [InlineData(3 * 3600, "3h")]
    [InlineData(3 * 3600 + 20 * 60, "3h20m")]
    [InlineData(8 * 3600 + 59 * 60, "8h")]
    [InlineData(47 * 3600, "47h")]
    [InlineData(2 * 86400, "2d")]
    [InlineData(2 * 86400 + 3 * 3600, "2d3h")]
    [InlineData(8 * 86400, "8d")]
    [InlineData(400 * 86400, "400d")]
    [InlineData(730 * 86400, "2y")]
    [InlineData(760 * 86400, "2y30d")]
    [InlineData(3000 * 86400, "8y")]
    public void AgesReadLikeKubectl(long seconds, string expected) =>
        Assert.Equal(expected, HumanDuration.Format(TimeSpan.FromSeconds(seconds)));

    private static readonly JsonDocument Object = JsonDocument.Parse("""
        {"metadata":{"name":"n","creationTimestamp":"2026-01-01T00:00:00Z","labels":{"a.b/c":"d"}},
         "spec":{"size":3,"ratio":0.5,"on":true,"list":["x","y"],"nested":{"k":"v"}},
         "status":{"conditions":[{"type":"Valid","status":"True"},{"type":"Ready","status":"False"}],"items":[{"n":1},{"n":2}]}}
        """);

    [Theory]
    [InlineData(".spec.size", "3")]
    [InlineData("{.spec.size}", "3")]
    [InlineData("$.spec.size", "3")]
    [InlineData(".spec.list", "[\"x\",\"y\"]")]
    [InlineData(".spec.list[1]", "y")]
    [InlineData(".spec.list[-1]", "y")]
    [InlineData(".spec.list[*]", "x|y")]
    [InlineData(".status.items[*].n", "1|2")]
    [InlineData(".status.conditions[?(@.type==\"Ready\")].status", "False")]
    [InlineData(".status.conditions[?(@.type=='Valid')].status", "True")]
    [InlineData(".status.conditions[?(@.type!=\"Valid\")].type", "Ready")]
    [InlineData(".metadata.labels['a.b/c']", "d")]
    [InlineData(".spec.missing", "")]
    [InlineData(".spec.list[9]", "")]
    public void JsonPathSubset(string path, string expected) =>
        Assert.Equal(expected, string.Join("|", SimpleJsonPath.Evaluate(Object.RootElement, path).Select(SimpleJsonPath.Render)));

    [Theory]
    [InlineData(".spec.[")]
    [InlineData(".spec.list[abc]")]
    [InlineData("spec")]
    public void UnsupportedJsonPathIsAFormatError(string path) =>
        Assert.Throws<FormatException>(() => SimpleJsonPath.Evaluate(Object.RootElement, path));

    [Fact]
    public void CellsAreTypedPerColumn()
    {
        var now = DateTimeOffset.Parse("2026-01-03T03:00:00Z");
        JsonNode? Cell(string type, string path) => TableBuilder.Cell(new PrinterColumn("C", type, path), Object.RootElement, now);
        Assert.Equal(3, Cell("integer", ".spec.size")!.GetValue<long>());
        Assert.Equal(0.5, Cell("number", ".spec.ratio")!.GetValue<double>());
        Assert.True(Cell("boolean", ".spec.on")!.GetValue<bool>());
        Assert.Equal("x,y", Cell("string", ".spec.list")!.GetValue<string>());
        Assert.Equal("2d3h", Cell("date", ".metadata.creationTimestamp")!.GetValue<string>());
        Assert.Equal("False", Cell("string", ".status.conditions[?(@.type==\"Ready\")].status")!.GetValue<string>());
        Assert.Equal("""{"k":"v"}""", Cell("string", ".spec.nested")!.GetValue<string>());
        Assert.Null(Cell("string", ".spec.missing"));
        Assert.Null(Cell("string", ".spec.["));
    }

    [Fact]
    public void NodeTableShowsReadinessRolesAndVersion()
    {
        using var node = JsonDocument.Parse("""
            {"metadata":{"name":"n1","creationTimestamp":"2026-01-01T00:00:00Z","labels":{"node-role.kubernetes.io/worker":"","node-role.kubernetes.io/control-plane":""}},
             "spec":{"unschedulable":true},
             "status":{"conditions":[{"type":"Ready","status":"True"}],"nodeInfo":{"kubeletVersion":"v1.32.0"},"addresses":[{"type":"InternalIP","address":"192.168.1.11"}]}}
            """);
        var table = TableBuilder.Build(BuiltInResources.Nodes, [node.RootElement], "7", null, IncludeObject.None, DateTimeOffset.Parse("2026-01-01T00:05:00Z"));
        Assert.Equal(["Name", "Status", "Roles", "Age", "Version", "Internal-IP"], table["columnDefinitions"]!.AsArray().Select(c => c!["name"]!.GetValue<string>()).ToArray());
        var cells = table["rows"]![0]!["cells"]!.AsArray().Select(c => c!.ToString()).ToArray();
        Assert.Equal(["n1", "Ready,SchedulingDisabled", "control-plane,worker", "5m", "v1.32.0", "192.168.1.11"], cells);
        Assert.Null(table["rows"]![0]!["object"]);
        Assert.Equal("7", table["metadata"]!["resourceVersion"]!.GetValue<string>());
    }

    [Fact]
    public void DefaultColumnsAreNameAndAge()
    {
        var type = new ResourceType { Group = "g", Version = "v1", Plural = "things", Singular = "thing", Kind = "Thing", Namespaced = false };
        Assert.Equal(["Name", "Age"], TableBuilder.Columns(type).Select(c => c.Name).ToArray());
        var table = TableBuilder.Build(type, [Object.RootElement], null, "next", IncludeObject.Object, DateTimeOffset.Parse("2026-01-01T00:00:30Z"), withColumns: false);
        Assert.Null(table["columnDefinitions"]);
        Assert.Equal("next", table["metadata"]!["continue"]!.GetValue<string>());
        Assert.Equal("n", table["rows"]![0]!["object"]!["metadata"]!["name"]!.GetValue<string>());
    }
}
