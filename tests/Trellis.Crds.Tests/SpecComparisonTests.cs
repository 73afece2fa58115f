using System.Reflection;
using Trellis.ControllerRuntime.Updates;
using Xunit;

namespace Trellis.Crds.Tests;

public sealed class SpecComparisonTests
{
    [Fact]
    public void Equal_specs_are_the_same_whatever_list_type_holds_them()
    {
        var a = new NodeSubnetSpec { NodeName = "n1", PodNetwork = "pods", Cidrs = ["10.244.1.0/24"], Gateways = new[] { "10.244.1.1" } };
        var b = new NodeSubnetSpec { NodeName = "n1", PodNetwork = "pods", Cidrs = new List<string> { "10.244.1.0/24" }, Gateways = ["10.244.1.1"] };
        Assert.True(SpecComparison.Same(a, b));
        Assert.True(SpecComparison.Same<NodeSubnetSpec>(null, null));
        Assert.False(SpecComparison.Same(a, null));
    }

    /// <summary>Every settable property of every spec, nested ones included, changes the comparison: no field escapes it.</summary>
    [Theory]
    [InlineData(typeof(NodeSubnetSpec))]
    [InlineData(typeof(PodNetworkSpec))]
    public void Every_field_of_a_spec_takes_part(Type specType)
    {
        foreach (var path in LeafPaths(specType, ""))
        {
            var original = Activator.CreateInstance(specType)!;
            var changed = Activator.CreateInstance(specType)!;
            Change(changed, path.Split('.'));
            Assert.False(Same(specType, original, changed), $"{specType.Name}.{path} changed but the specs compare the same");
        }
    }

    private static bool Same(Type type, object a, object b) =>
        (bool)typeof(SpecComparison).GetMethod(nameof(SpecComparison.Same))!.MakeGenericMethod(type).Invoke(null, [a, b])!;

    private static IEnumerable<string> LeafPaths(Type type, string prefix)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
        {
            var path = prefix + property.Name;
            var t = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            if (t.IsClass && t != typeof(string) && !typeof(System.Collections.IEnumerable).IsAssignableFrom(t) && t.Namespace == typeof(NodeSubnetSpec).Namespace)
                foreach (var inner in LeafPaths(t, path + ".")) yield return inner;
            else
                yield return path;
        }
    }

    private static void Change(object target, string[] path)
    {
        var property = target.GetType().GetProperty(path[0])!;
        if (path.Length > 1)
        {
            var inner = property.GetValue(target) ?? Activator.CreateInstance(property.PropertyType)!;
            Change(inner, path[1..]);
            property.SetValue(target, inner);
            return;
        }
        var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        object value = type switch
        {
            _ when type == typeof(string) => "changed",
            _ when type == typeof(int) => (int)(property.GetValue(target) ?? 0) + 1,
            _ when type == typeof(long) => (long)(property.GetValue(target) ?? 0L) + 1,
            _ when type == typeof(bool) => !(bool)(property.GetValue(target) ?? false),
            _ when type == typeof(IList<string>) => new List<string> { "changed" },
            _ when type == typeof(IList<BgpPeerSpec>) => new List<BgpPeerSpec> { new() { Address = "192.168.1.1", Asn = 65000 } },
            _ when type == typeof(k8s.Models.V1LabelSelector) => new k8s.Models.V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["a"] = "b" } },
            _ => throw new InvalidOperationException($"the test cannot change a {type.Name} ({string.Join('.', path)}); teach it"),
        };
        property.SetValue(target, value);
    }
}
