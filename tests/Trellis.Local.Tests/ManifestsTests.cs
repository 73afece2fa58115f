using Trellis.Local.Cluster;
using Xunit;

namespace Trellis.Local.Tests;

public sealed class ManifestsTests
{
    [Fact]
    public void The_embedded_sample_is_the_documented_network()
    {
        var network = Manifests.LoadPodNetwork(null);
        Assert.Equal(["10.244.0.0/16"], network.Spec.Cidrs);
        Assert.Equal(24, network.Spec.BlockSize.IPv4);
    }

    [Fact]
    public void A_file_that_is_not_a_PodNetwork_is_refused()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "kind: Node\nmetadata: {name: x}\n");
            Assert.Contains("is not a PodNetwork", Assert.Throws<LocalClusterException>(() => Manifests.LoadPodNetwork(file)).Message);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
