using k8s;
using Xunit;

namespace Trellis.Crds.Tests;

public sealed class CrdDefinitionTests
{
    // Short names of built-in kinds; a CRD reusing one would shadow it in kubectl.
    private static readonly string[] BuiltInShortNames =
        ["cm", "crd", "crds", "cs", "csr", "deploy", "ds", "ep", "ev", "hpa", "ing", "limits", "netpol", "no", "ns",
         "pc", "pdb", "po", "psp", "pv", "pvc", "quota", "rc", "rs", "sa", "sc", "sts", "svc"];

    [Theory]
    [MemberData(nameof(ConfigFiles.CrdNames), MemberType = typeof(ConfigFiles))]
    public void Names_group_and_scope_match_the_CSharp_API(string plural)
    {
        var expected = CrdUnderTest.Named(plural);
        var crd = expected.Crd;

        Assert.Equal($"{expected.Plural}.{TrellisApi.Group}", crd.Metadata.Name);
        Assert.Equal(TrellisApi.Group, crd.Spec.Group);
        Assert.Equal("Cluster", crd.Spec.Scope);
        Assert.Equal(expected.Kind, crd.Spec.Names.Kind);
        Assert.Equal(expected.Plural, crd.Spec.Names.Plural);
        Assert.Equal(expected.Kind.ToLowerInvariant(), crd.Spec.Names.Singular);
        Assert.Equal(((IKubernetesObject)Activator.CreateInstance(expected.ListType)!).Kind, crd.Spec.Names.ListKind);
        Assert.Equal(["trellis"], crd.Spec.Names.Categories);
        Assert.NotEmpty(crd.Spec.Names.ShortNames);
        Assert.DoesNotContain(crd.Spec.Names.ShortNames, BuiltInShortNames.Contains);
    }

    [Theory]
    [MemberData(nameof(ConfigFiles.CrdNames), MemberType = typeof(ConfigFiles))]
    public void One_served_storage_version_with_the_status_subresource(string plural)
    {
        var expected = CrdUnderTest.Named(plural);
        var version = Assert.Single(expected.Crd.Spec.Versions);

        Assert.Equal(TrellisApi.Version, version.Name);
        Assert.True(version.Served);
        Assert.True(version.Storage);
        Assert.NotNull(version.Subresources?.Status);
        Assert.Null(version.Subresources?.Scale);
    }

    [Theory]
    [MemberData(nameof(ConfigFiles.CrdNames), MemberType = typeof(ConfigFiles))]
    public void A_new_CSharp_object_carries_the_CRD_api_version_and_kind(string plural)
    {
        var expected = CrdUnderTest.Named(plural);
        var instance = (IKubernetesObject)Activator.CreateInstance(expected.Type)!;

        Assert.Equal($"{expected.Crd.Spec.Group}/{Assert.Single(expected.Crd.Spec.Versions).Name}", instance.ApiVersion);
        Assert.Equal(expected.Crd.Spec.Names.Kind, instance.Kind);
    }

    [Fact]
    public void Short_names_are_distinct_across_Trellis_CRDs()
    {
        var shortNames = CrdUnderTest.All.SelectMany(crd => crd.Crd.Spec.Names.ShortNames).ToList();
        Assert.Equal(shortNames.Count, shortNames.Distinct().Count());
    }
}
