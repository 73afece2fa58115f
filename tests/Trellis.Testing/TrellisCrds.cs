using k8s;
using k8s.Models;

namespace Trellis.Testing;

/// <summary>The CRDs of config/crd, registered as <c>kubectl apply -k config/</c> would: the one way tests and benchmarks install them.</summary>
public static class TrellisCrds
{
    public static async Task RegisterAsync(IKubernetes client)
    {
        foreach (var file in Directory.GetFiles(Path.Combine(RepositoryRoot.Find(), "config", "crd"), "*.yaml").Order())
            foreach (var crd in (await KubernetesYaml.LoadAllFromFileAsync(file)).OfType<V1CustomResourceDefinition>())
                await client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(crd);
    }
}
