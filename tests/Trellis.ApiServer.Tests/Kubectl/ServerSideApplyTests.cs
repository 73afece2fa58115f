using Trellis.ApiServer.Tests.Server;
using Trellis.Testing;
using Xunit.Abstractions;

namespace Trellis.ApiServer.Tests.Kubectl;

/// <summary>kubectl apply --server-side, diff and --dry-run=server as Flux and users drive them.</summary>
public sealed class ServerSideApplyTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ServerSideApplyOwnsMergesAndConflictsAsKubeApiServer()
    {
        await using var t = await TestServer.StartAsync();
        await TrellisCrds.RegisterAsync(t.Client);
        using var kubectl = new KubectlSession(t.Server, output);
        kubectl.WriteFile("net.yaml", """
            apiVersion: trellis.io/v1alpha1
            kind: PodNetwork
            metadata: {name: ssa, labels: {team: a}}
            spec: {cidrs: [10.200.0.0/16], mtu: 1400, natOutgoing: false}
            """);
        kubectl.WriteFile("net-less.yaml", """
            apiVersion: trellis.io/v1alpha1
            kind: PodNetwork
            metadata: {name: ssa}
            spec: {cidrs: [10.200.0.0/16], mtu: 1400}
            """);
        kubectl.WriteFile("net-mtu.yaml", """
            apiVersion: trellis.io/v1alpha1
            kind: PodNetwork
            metadata: {name: ssa}
            spec: {cidrs: [10.200.0.0/16], mtu: 9000}
            """);
        kubectl.WriteFile("cm-a.yaml", """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: shared, namespace: default}
            data: {a: "1", b: "2"}
            """);
        kubectl.WriteFile("cm-a2.yaml", """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: shared, namespace: default}
            data: {a: "1"}
            """);
        kubectl.WriteFile("cm-b.yaml", """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: shared, namespace: default}
            data: {c: "3"}
            """);
        kubectl.WriteFile("cm-steal.yaml", """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: shared, namespace: default}
            data: {a: "changed", c: "3"}
            """);
        kubectl.WriteFile("cm-third.yaml", """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: shared, namespace: default}
            data: {a: "x", c: "y"}
            """);
        kubectl.WriteFile("dry.yaml", """
            apiVersion: trellis.io/v1alpha1
            kind: PodNetwork
            metadata: {name: dry}
            spec: {cidrs: [10.201.0.0/16]}
            """);
        kubectl.RunTable(
        [
            new("admin", "apply --server-side -f {dir}/net.yaml", 0, "podnetwork.trellis.io/ssa serverside-applied"),
            new("admin", "get podnetwork ssa -o jsonpath={.metadata.managedFields[0].manager}/{.metadata.managedFields[0].operation}", 0, "^kubectl/Apply$"),
            new("admin", "get podnetwork ssa -o jsonpath={.metadata.managedFields[0].fieldsV1}", 0,
                @"^\{""f:metadata"":\{""f:labels"":\{""f:team"":\{\}\}\},""f:spec"":\{""f:cidrs"":\{""v:\\""10.200.0.0/16\\"""":\{\}\},""f:mtu"":\{\},""f:natOutgoing"":\{\}\}\}$"),
            new("admin", "apply --server-side -f {dir}/net.yaml", 0, "podnetwork.trellis.io/ssa serverside-applied"),
            // Fields the manager stops applying are removed (natOutgoing returns to its default, the label goes).
            new("admin", "apply --server-side -f {dir}/net-less.yaml", 0, "serverside-applied"),
            new("admin", "get podnetwork ssa -o jsonpath={.spec.natOutgoing}/{.metadata.labels}", 0, "^true/$"),
            // Another manager changes a field: applying a different value conflicts, the same value does not.
            new("admin", "patch podnetwork ssa --type merge -p '{\"spec\":{\"mtu\":1500}}'", 0, "patched"),
            new("admin", "apply --server-side -f {dir}/net-mtu.yaml", 1,
                @"error: Apply failed with 1 conflict: conflict with ""kubectl-patch"" using trellis.io/v1alpha1( at \S+)?: \.spec\.mtu[\s\S]*--force-conflicts"),
            new("admin", "apply --server-side --force-conflicts -f {dir}/net-mtu.yaml", 0, "serverside-applied"),
            new("admin", "get podnetwork ssa -o jsonpath={.spec.mtu}", 0, "^9000$"),
            new("admin", "patch podnetwork ssa --type merge -p '{\"spec\":{\"mtu\":1500}}'", 0, "patched"),
            // The same value applied by another manager is shared, not a conflict (cidrs here).
            new("admin", "apply --server-side --field-manager flux -f {dir}/net-mtu.yaml", 1,
                @"Apply failed with 1 conflict: conflict with ""kubectl-patch"" using trellis.io/v1alpha1 at \S+: \.spec\.mtu"),
            // ConfigMap data is a map: two appliers share it key by key.
            new("admin", "apply --server-side -f {dir}/cm-a.yaml", 0, "configmap/shared serverside-applied"),
            new("admin", "apply --server-side --field-manager other -f {dir}/cm-b.yaml", 0, "configmap/shared serverside-applied"),
            new("admin", "apply --server-side -f {dir}/cm-a2.yaml", 0, "serverside-applied"),
            new("admin", "get configmap shared -o jsonpath={.data}", 0, @"^\{""a"":""1"",""c"":""3""\}$"),
            new("admin", "apply --server-side --field-manager other -f {dir}/cm-steal.yaml", 1,
                @"Apply failed with 1 conflict: conflict with ""kubectl"": \.data\.a"),
            new("admin", "apply --server-side --field-manager third -f {dir}/cm-third.yaml", 1,
                @"Apply failed with 2 conflicts: conflicts with ""kubectl"":\s+- \.data\.a\s+conflicts with ""other"":\s+- \.data\.c"),
            // Dry runs change nothing.
            new("admin", "apply --server-side --dry-run=server -f {dir}/dry.yaml", 0, @"podnetwork.trellis.io/dry serverside-applied \(server dry run\)"),
            new("admin", "apply --dry-run=server -f {dir}/dry.yaml", 0, @"podnetwork.trellis.io/dry created \(server dry run\)"),
            new("admin", "get podnetwork dry", 1, @"podnetworks.trellis.io ""dry"" not found"),
            new("admin", "diff -f {dir}/net.yaml", 1, @"\+  labels:\s+\+    team: a[\s\S]*-  mtu: 1500\s+-  natOutgoing: true\s+\+  mtu: 1400\s+\+  natOutgoing: false"),
            new("admin", "get podnetwork ssa -o jsonpath={.spec.mtu}", 0, "^1500$"),
            new("admin", "delete podnetwork ssa --dry-run=server", 0, @"podnetwork.trellis.io ""ssa"" deleted \(server dry run\)"),
            new("admin", "get podnetwork ssa -o name", 0, "^podnetwork.trellis.io/ssa$"),
        ]);
    }
}
