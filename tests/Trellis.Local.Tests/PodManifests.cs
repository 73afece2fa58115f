namespace Trellis.Local.Tests;

/// <summary>Pods as the local-cluster tests apply them.</summary>
internal static class PodManifests
{
    /// <summary>A namespace and <paramref name="count"/> pods p1..pN in it, bound to <paramref name="node"/>, each serving TCP port 80.</summary>
    public static string OnNode(string ns, string node, int count) => string.Join("\n---\n",
        new[] { $"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}" }.Concat(Enumerable.Range(1, count).Select(i => $$"""
            apiVersion: v1
            kind: Pod
            metadata: {name: p{{i}}, namespace: {{ns}}}
            spec:
              nodeName: {{node}}
              containers:
              - name: serve
                image: registry.k8s.io/e2e-test-images/agnhost:2.52
                ports: [{containerPort: 80, protocol: TCP}]
            """)));
}
