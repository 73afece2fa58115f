using k8s;
using k8s.Models;
using Trellis.ApiServer.Tests.Server;
using Trellis.Testing;
using Xunit.Abstractions;

namespace Trellis.ApiServer.Tests.Kubectl;

/// <summary>Who you are and what you may do, as stock kubectl sees it: 401, 403, can-i, whoami, --as, create token, escalation.</summary>
public sealed class AuthTests(ITestOutputHelper output)
{
    private const string Agent = "system:serviceaccount:trellis-system:trellis-agent";

    [Fact]
    public async Task KubectlAnswersAsKubeApiServerDoes()
    {
        await using var t = await TestServer.StartAsync();
        using var kubectl = new KubectlSession(t.Server, output);
        await TrellisCrds.RegisterAsync(t.Client);
        await t.Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "trellis-system" } });
        kubectl.Identity("forged", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl");
        var rbac = Path.Combine(RepositoryRoot.Find(), "config", "rbac");
        var expired = kubectl.WriteFile("expired.json", """{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"expirationSeconds":60}}""");

        kubectl.RunTable(
        [
            new("forged", "get nodes", 1, @"You must be logged in to the server"),
            new("admin", "auth whoami", 0, @"Username\s+kubernetes-admin[\s\S]*Groups\s+\[system:masters system:authenticated\]"),
            new("admin", $"apply -f {rbac}/agent.yaml", 0, @"serviceaccount/trellis-agent created\s+clusterrole.rbac.authorization.k8s.io/trellis-agent created\s+clusterrolebinding.rbac.authorization.k8s.io/trellis-agent created"),
            new("admin", $"apply -f {rbac}/operator.yaml", 0, @"role.rbac.authorization.k8s.io/trellis-operator-leader-election created"),
            new("admin", "get clusterroles", 0, @"cluster-admin[\s\S]*trellis-agent[\s\S]*trellis-operator"),
            new("admin", "get rolebindings -n trellis-system -o wide", 0, @"trellis-operator-leader-election\s+Role/trellis-operator-leader-election"),
            new("admin", "auth can-i list nodesubnets --as " + Agent, 0, "^yes$"),
            new("admin", "auth can-i patch nodesubnets --subresource status --as " + Agent, 0, "^yes$"),
            new("admin", "auth can-i update nodesubnets --subresource status --as " + Agent, 1, "^no$"),
            new("admin", "auth can-i delete nodesubnets --as " + Agent, 1, "^no$"),
            new("admin", "auth can-i list nodes --as " + Agent, 1, "^no$"),
            new("admin", "auth can-i get nodes --as " + Agent, 1, "^no$"),
            new("admin", "auth can-i create leases -n trellis-system --as system:serviceaccount:trellis-system:trellis-operator", 0, "^yes$"),
            new("admin", "auth can-i create leases -n default --as system:serviceaccount:trellis-system:trellis-operator", 1, "^no$"),
            new("admin", "auth can-i --list --as " + Agent, 0, @"nodesubnets.trellis.io\s+\[\]\s+\[\]\s+\[list watch\]"),
            new("admin", "auth can-i '*' '*'", 0, "^yes$"),
            new("admin", "create token trellis-agent -n trellis-system --duration 5m", 1,
                @"spec.expirationSeconds: Invalid value: 300: may not specify a duration less than 10 minutes"),
            new("admin", "create token nosuch -n trellis-system", 1, @"serviceaccounts ""nosuch"" not found"),
            new("admin", "get nodes --as alice", 1,
                @"Error from server \(Forbidden\): nodes is forbidden: User ""alice"" cannot list resource ""nodes"" in API group """" at the cluster scope"),
            new("admin", "get podnetworks --as alice --as-group system:authenticated", 1,
                @"podnetworks.trellis.io is forbidden: User ""alice"" cannot list resource ""podnetworks"" in API group ""trellis.io"" at the cluster scope"),
            new("admin", "get configmap x -n kube-system --as alice", 1,
                @"configmaps ""x"" is forbidden: User ""alice"" cannot get resource ""configmaps"" in API group """" in the namespace ""kube-system"""),
            new("admin", "get --raw /apis --as alice", 0, @"""APIGroupList"""),
            new("admin", "get --raw /apis --as system:anonymous", 1, @"Error from server \(Forbidden\)"),
            new("admin", "get --raw /version --as system:anonymous", 0, @"""gitVersion"""),
            new("admin", "auth can-i get nodes --as-group developers --as-group system:authenticated --as dev", 1, "^no$"),
        ]);

        // The agent's own token, from the TokenRequest API as kubectl create token asks for it.
        var token = kubectl.Run("admin", "create token trellis-agent -n trellis-system --duration 20m");
        Assert.Equal(0, token.ExitCode);
        kubectl.Identity("agent", token.StandardOutput.Trim());
        kubectl.RunTable(
        [
            new("agent", "auth whoami", 0, @"Username\s+system:serviceaccount:trellis-system:trellis-agent[\s\S]*system:serviceaccounts:trellis-system"),
            new("agent", "get nodesubnets", 0, "No resources found"),
            new("agent", "get podnetworks", 1,
                @"Error from server \(Forbidden\): podnetworks.trellis.io is forbidden: User ""system:serviceaccount:trellis-system:trellis-agent"" cannot list resource ""podnetworks"" in API group ""trellis.io"" at the cluster scope"),
            new("agent", "delete nodesubnet x", 1,
                @"nodesubnets.trellis.io ""x"" is forbidden: User ""system:serviceaccount:trellis-system:trellis-agent"" cannot delete resource ""nodesubnets"" in API group ""trellis.io"" at the cluster scope"),
            new("agent", "auth can-i list nodesubnets", 0, "^yes$"),
            // kubectl reads "nodesubnets/status" as the NodeSubnet named status (as against a real server); the subresource is --subresource.
            new("agent", "auth can-i patch nodesubnets/status", 1, "^no$"),
            new("agent", "auth can-i patch nodesubnets --subresource status", 0, "^yes$"),
            new("agent", "auth can-i create pods", 1, "^no$"),
            new("agent", "get nodes --as admin", 1,
                @"users ""admin"" is forbidden: User ""system:serviceaccount:trellis-system:trellis-agent"" cannot impersonate resource ""users"" in API group """" at the cluster scope"),
            new("agent", "create token trellis-operator -n trellis-system", 1,
                @"serviceaccounts ""trellis-operator"" is forbidden: User ""system:serviceaccount:trellis-system:trellis-agent"" cannot create resource ""serviceaccounts/token"" in API group """" in the namespace ""trellis-system"""),
            new("agent", $"create -f {expired} --raw /api/v1/namespaces/trellis-system/serviceaccounts/trellis-agent/token", 1, "Forbidden"),
        ]);

        // Escalation: a user allowed to write roles still cannot grant what they do not hold.
        kubectl.WriteFile("role-writer.yaml", """
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata: {name: role-writer}
            rules:
              - apiGroups: [rbac.authorization.k8s.io]
                resources: [clusterroles, clusterrolebindings]
                verbs: [create, get, list]
              - apiGroups: [trellis.io]
                resources: [podnetworks]
                verbs: [get]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRoleBinding
            metadata: {name: role-writer}
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: role-writer}
            subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: carol}]
            """);
        kubectl.WriteFile("grabby.yaml", """
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata: {name: grabby}
            rules: [{apiGroups: [trellis.io], resources: [podnetworks], verbs: [get, delete]}]
            """);
        kubectl.WriteFile("modest.yaml", """
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata: {name: modest}
            rules: [{apiGroups: [trellis.io], resources: [podnetworks], verbs: [get]}]
            """);
        kubectl.WriteFile("bad-role.yaml", """
            apiVersion: rbac.authorization.k8s.io/v1
            kind: Role
            metadata: {name: bad, namespace: default}
            rules: [{nonResourceURLs: ["/healthz"], verbs: [get]}, {resources: [pods]}]
            """);
        kubectl.RunTable(
        [
            new("admin", "apply -f {dir}/role-writer.yaml", 0, "clusterrolebinding.rbac.authorization.k8s.io/role-writer created"),
            new("admin", "create -f {dir}/grabby.yaml --as carol", 1,
                @"clusterroles.rbac.authorization.k8s.io ""grabby"" is forbidden: user ""carol"" \(groups=\[""system:authenticated""\]\) is attempting to grant RBAC permissions not currently held:\s+\{APIGroups:\[""trellis.io""\], Resources:\[""podnetworks""\], Verbs:\[""delete""\]\}"),
            new("admin", "create -f {dir}/modest.yaml --as carol", 0, "clusterrole.rbac.authorization.k8s.io/modest created"),
            new("admin", "create clusterrolebinding carol-admin --clusterrole cluster-admin --user carol --as carol", 1,
                @"clusterrolebindings.rbac.authorization.k8s.io ""carol-admin"" is forbidden: user ""carol"" .* is attempting to grant RBAC permissions not currently held"),
            new("admin", "create clusterrolebinding carol-modest --clusterrole modest --user dave --as carol", 0, "clusterrolebinding.rbac.authorization.k8s.io/carol-modest created"),
            new("admin", "create -f {dir}/bad-role.yaml", 1,
                @"The Role ""bad"" is invalid: \s+\* rules\[0\].nonResourceURLs: Invalid value: \[\]string\{""/healthz""\}: namespaced rules cannot apply to non-resource URLs\s+\* rules\[1\].verbs: Required value: verbs must contain at least one value\s+\* rules\[1\].apiGroups: Required value: resource rules must supply at least one api group"),
            new("admin", "create clusterrolebinding dangling --clusterrole nosuch --user erin", 0, "created"),
            new("admin", "auth can-i get nodes --as erin", 1, @"^no - RBAC: clusterrole.rbac.authorization.k8s.io ""nosuch"" not found$"),
            new("admin", "patch clusterrolebinding carol-modest --type merge -p '{\"roleRef\":{\"name\":\"grabby\"}}'", 1,
                @"roleRef: Invalid value: .*: cannot change roleRef"),
        ]);

        // A token dies with its ServiceAccount, and a new account of the same name does not revive it.
        kubectl.RunTable(
        [
            new("admin", "delete serviceaccount trellis-agent -n trellis-system", 0, "deleted"),
            new("agent", "get nodesubnets", 1, "You must be logged in to the server"),
            new("admin", "create serviceaccount trellis-agent -n trellis-system", 0, "created"),
            new("agent", "get nodesubnets", 1, "You must be logged in to the server"),
        ]);
    }

    /// <summary>
    /// resourceNames: a rule limited to one name allows that object and nothing else, not even a list or a request
    /// without a name, as kube-apiserver's RBAC authorizer does (it cannot filter a list by name).
    /// </summary>
    [Fact]
    public async Task A_rule_limited_to_one_name_allows_that_object_only()
    {
        await using var t = await TestServer.StartAsync();
        using var kubectl = new KubectlSession(t.Server, output);
        await TrellisCrds.RegisterAsync(t.Client);
        kubectl.WriteFile("blue.yaml", """
            apiVersion: trellis.io/v1alpha1
            kind: PodNetwork
            metadata: {name: blue}
            spec: {cidrs: [10.244.0.0/16]}
            ---
            apiVersion: trellis.io/v1alpha1
            kind: PodNetwork
            metadata: {name: green}
            spec: {cidrs: [10.245.0.0/16]}
            """);
        kubectl.RunTable(
        [
            new("admin", "create configmap app-config --from-literal=a=b", 0, "configmap/app-config created"),
            new("admin", "create configmap other --from-literal=a=b", 0, "configmap/other created"),
            new("admin", "create role one-config --verb=get,patch --resource=configmaps --resource-name=app-config", 0, "role.rbac.authorization.k8s.io/one-config created"),
            new("admin", "create rolebinding one-config --role=one-config --user=frank", 0, "created"),
            new("admin", "get role one-config -o jsonpath={.rules[0].resourceNames}", 0, @"^\[""app-config""\]$"),
            new("admin", "auth can-i get configmaps/app-config --as frank", 0, "^yes$"),
            new("admin", "auth can-i patch configmaps/app-config --as frank", 0, "^yes$"),
            new("admin", "auth can-i update configmaps/app-config --as frank", 1, "^no$"),
            new("admin", "auth can-i delete configmaps/app-config --as frank", 1, "^no$"),
            new("admin", "auth can-i get configmaps/other --as frank", 1, "^no$"),
            new("admin", "auth can-i get configmaps --as frank", 1, "^no$"),
            new("admin", "auth can-i list configmaps --as frank", 1, "^no$"),
            new("admin", "auth can-i get configmaps/app-config --as frank -n kube-system", 1, "^no$"),
            new("admin", "auth can-i --list --as frank", 0, @"configmaps\s+\[\]\s+\[app-config\]\s+\[get patch\]"),
            new("admin", "get configmap app-config --as frank -o name", 0, "^configmap/app-config$"),
            new("admin", "get configmap other --as frank", 1,
                @"configmaps ""other"" is forbidden: User ""frank"" cannot get resource ""configmaps"" in API group """" in the namespace ""default"""),
            new("admin", "get configmaps --as frank", 1,
                @"configmaps is forbidden: User ""frank"" cannot list resource ""configmaps"" in API group """" in the namespace ""default"""),
            new("admin", "label configmap app-config team=net --as frank", 0, "configmap/app-config labeled"),
            // A cluster-scoped custom resource, by a ClusterRole.
            new("admin", "apply -f {dir}/blue.yaml", 0, @"podnetwork.trellis.io/blue created\s+podnetwork.trellis.io/green created"),
            new("admin", "create clusterrole one-network --verb=get --resource=podnetworks --resource-name=blue", 0, "created"),
            new("admin", "create clusterrolebinding one-network --clusterrole=one-network --user=frank", 0, "created"),
            new("admin", "auth can-i get podnetworks/blue --as frank", 0, "^yes$"),
            new("admin", "auth can-i get podnetworks/green --as frank", 1, "^no$"),
            new("admin", "get podnetwork blue --as frank -o name", 0, "^podnetwork.trellis.io/blue$"),
            new("admin", "get podnetwork green --as frank", 1,
                @"podnetworks.trellis.io ""green"" is forbidden: User ""frank"" cannot get resource ""podnetworks"" in API group ""trellis.io"" at the cluster scope"),
        ]);
    }
}
