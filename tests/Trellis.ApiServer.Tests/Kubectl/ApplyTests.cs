using Trellis.ApiServer.Tests.Server;
using Xunit.Abstractions;

namespace Trellis.ApiServer.Tests.Kubectl;

/// <summary>kubectl apply, edit and explain with validation on: the OpenAPI documents and server-side field validation.</summary>
public sealed class ApplyTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ApplyEditAndExplainWorkWithValidationOn()
    {
        await using var t = await TestServer.StartAsync();
        using var kubectl = new KubectlSession(t.Server, output);
        kubectl.WriteFile("typo.yaml", """
            apiVersion: trellis.io/v1alpha1
            kind: PodNetwork
            metadata: {name: typo}
            spec:
              cidrs: [10.250.0.0/16]
              blockSzie: {ipv4: 26}
            """);
        kubectl.WriteFile("bad-mtu.yaml", """
            apiVersion: trellis.io/v1alpha1
            kind: PodNetwork
            metadata: {name: bad-mtu}
            spec: {cidrs: [10.251.0.0/16], mtu: 50}
            """);
        kubectl.RunTable(
        [
            new("admin", "apply -k {repo}/config", 0,
                @"namespace/trellis-system created\s+customresourcedefinition.apiextensions.k8s.io/nodesubnets.trellis.io created\s+customresourcedefinition.apiextensions.k8s.io/podnetworks.trellis.io created\s+serviceaccount/trellis-agent created\s+serviceaccount/trellis-operator created\s+role.rbac.authorization.k8s.io/trellis-operator-leader-election created\s+clusterrole.rbac.authorization.k8s.io/trellis-agent created\s+clusterrole.rbac.authorization.k8s.io/trellis-operator created\s+rolebinding.rbac.authorization.k8s.io/trellis-operator-leader-election created\s+clusterrolebinding.rbac.authorization.k8s.io/trellis-agent created\s+clusterrolebinding.rbac.authorization.k8s.io/trellis-operator created\s+configmap/trellis-cni-directories created\s+deployment.apps/trellis-operator created\s+poddisruptionbudget.policy/trellis-operator created\s+daemonset.apps/trellis-agent created"),
            new("admin", "apply -k {repo}/config", 0, @"deployment.apps/trellis-operator unchanged\s+poddisruptionbudget.policy/trellis-operator unchanged\s+daemonset.apps/trellis-agent unchanged"),
            new("admin", "get deploy,ds -n trellis-system", 0, @"deployment.apps/trellis-operator\s+0/2[\s\S]*daemonset.apps/trellis-agent",
                RealServer: "the workloads are stored, not run: READY stays 0/2"),
            new("admin", "get crd", 0, @"nodesubnets.trellis.io[\s\S]*podnetworks.trellis.io"),
            new("admin", "apply -f {repo}/config/samples/podnetwork.yaml", 0, "podnetwork.trellis.io/default created"),
            new("admin", "apply -f {dir}/typo.yaml", 1,
                @"Error from server \(BadRequest\): error when creating "".*typo.yaml"": PodNetwork in version ""v1alpha1"" cannot be handled as a PodNetwork: strict decoding error: unknown field ""spec.blockSzie"""),
            new("admin", "apply --validate=warn -f {dir}/typo.yaml", 0, @"(?=[\s\S]*Warning: unknown field ""spec.blockSzie"")[\s\S]*podnetwork.trellis.io/typo created"),
            new("admin", "get podnetwork typo -o jsonpath={.spec}", 0, @"^\{""blockGrowth"":\{""minFreeAddresses"":4,""minFreePercent"":10,""releaseEmptyAfterSeconds"":600\},""blockSize"":\{""ipv4"":24,""ipv6"":80\},""cidrs"":\[""10.250.0.0/16""\]"),
            new("admin", "apply -f {dir}/bad-mtu.yaml", 1,
                @"The PodNetwork ""bad-mtu"" is invalid: spec.mtu: Invalid value: 50: mtu must be 0 \(derive from the underlay\) or at least 68"),
            new("admin", "explain podnetworks", 0, @"GROUP:\s+trellis.io\s+KIND:\s+PodNetwork\s+VERSION:\s+v1alpha1[\s\S]*DESCRIPTION:\s+A cluster's pod address ranges[\s\S]*FIELDS:[\s\S]*metadata\s+<ObjectMeta>[\s\S]*spec\s+<Object> -required-"),
            new("admin", "explain podnetwork.spec.routing", 0, @"FIELD: routing <Object>[\s\S]*DESCRIPTION:[\s\S]*FIELDS:[\s\S]*bgp\s+<Object>[\s\S]*mode\s+<string>[\s\S]*Direct: routes via peer node addresses[\s\S]*vxlan\s+<Object>"),
            new("admin", "explain podnetwork.spec.cidrs", 0, @"FIELD: cidrs <\[\]string>[\s\S]*Append-only"),
            new("admin", "explain nodesubnet.spec.gateways", 0, @"Gateway address of each block"),
            new("admin", "explain clusterrole.rules.verbs", 0, @"Verbs is a list of Verbs"),
            new("admin", "explain podnetwork.spec.nosuch", 1, @"field ""nosuch"" does not exist"),
        ]);
        kubectl.RunTable(
        [
            new("admin", "edit podnetwork default", 0, @"podnetwork.trellis.io/default edited", Editor: "sed -i -e s/natOutgoing:.true/natOutgoing:\\ false/"),
            new("admin", "get podnetwork default -o jsonpath={.spec.natOutgoing}", 0, "^false$"),
            new("admin", "edit podnetwork default", 1, @"error: podnetworks.trellis.io ""default"" is invalid[\s\S]*Edit cancelled, no valid changes were saved",
                RealServer: "the same: kubectl puts the server's causes (spec.mtu: Invalid value: 9: mtu must be 0 ...) into the saved copy, not on the terminal", Editor: "sed -i -e s/mtu:.0/mtu:\\ 9/"),
            new("admin", "edit configmap kube-root-ca.crt -n default", 1, @"not found",
                RealServer: "a real server publishes kube-root-ca.crt in every namespace; this one has no controllers"),
        ]);
    }
}
