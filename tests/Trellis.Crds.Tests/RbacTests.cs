using k8s.Models;
using Xunit;

namespace Trellis.Crds.Tests;

public sealed class RbacTests
{
    private sealed record Permission(string Group, string Resource, string Verb)
    {
        public override string ToString() => $"{(Group.Length == 0 ? "core" : Group)}/{Resource}:{Verb}";
    }

    private static readonly string[] Verbs = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"];

    /// <summary>Every (group, resource) a Trellis role may name: the built-ins it uses and what the CRDs serve.</summary>
    private static HashSet<(string Group, string Resource)> KnownResources()
    {
        var known = new HashSet<(string, string)>
        {
            ("", "nodes"), ("", "events"), ("events.k8s.io", "events"), ("coordination.k8s.io", "leases"),
            ("", "namespaces"), ("", "pods"), ("networking.k8s.io", "networkpolicies"),
        };
        foreach (var crd in CrdUnderTest.All.Select(c => c.Crd))
        {
            known.Add((crd.Spec.Group, crd.Spec.Names.Plural));
            // Checked by the OwnerReferencesPermissionEnforcement admission plugin for blockOwnerDeletion.
            known.Add((crd.Spec.Group, crd.Spec.Names.Plural + "/finalizers"));
            if (crd.Spec.Versions.Single().Subresources?.Status is not null)
                known.Add((crd.Spec.Group, crd.Spec.Names.Plural + "/status"));
        }
        return known;
    }

    public static IEnumerable<object[]> Roles() =>
        Manifests.All().Where(m => m.Kind is "ClusterRole" or "Role").Select(m => new object[] { m.Kind, m.Name });

    [Theory]
    [MemberData(nameof(Roles))]
    public void Rules_name_only_resources_and_verbs_that_exist_and_no_wildcards(string kind, string name)
    {
        var known = KnownResources();
        foreach (var permission in Permissions(kind, name))
        {
            Assert.Contains((permission.Group, permission.Resource), known);
            Assert.Contains(permission.Verb, Verbs);
        }
    }

    [Fact]
    public void The_operator_reads_nodes_and_podnetworks_writes_nodesubnets_status_and_events()
    {
        // What the operator does with each (RbacUsageTests proves it uses these and is refused nothing).
        var expected = new[]
            {
                P("", "nodes", "list", "watch"),
                P("trellis.io", "podnetworks", "get", "list", "watch"),
                P("trellis.io", "podnetworks/status", "update"),
                P("trellis.io", "podnetworks/finalizers", "update"),
                P("trellis.io", "nodesubnets", "get", "list", "watch", "create", "update", "delete"),
                P("", "events", "create", "patch"),
            }.SelectMany(p => p);

        AssertSamePermissions(expected, Permissions("ClusterRole", "trellis-operator"));
    }

    [Fact]
    public void The_operator_holds_leases_only_in_its_own_namespace()
    {
        var role = Manifests.Single("Role", "trellis-operator-leader-election");
        Assert.Equal("trellis-system", role.Namespace);
        AssertSamePermissions(P("coordination.k8s.io", "leases", "get", "create", "update"),
            Permissions("Role", "trellis-operator-leader-election"));
    }

    [Fact]
    public void Patching_nodes_is_a_separate_role_that_is_not_installed_by_default()
    {
        AssertSamePermissions(P("", "nodes", "patch"), Permissions("ClusterRole", "trellis-operator-node-podcidrs"));
        Assert.DoesNotContain(Manifests.Installed(), m => m.Name == "trellis-operator-node-podcidrs");
    }

    [Fact]
    public void The_agent_watches_nodesubnets_patches_only_their_status_records_events_and_watches_what_policies_select()
    {
        // What the agent does with each (AgentRbacUsageTests proves it uses these and is refused nothing).
        var expected = new[]
            {
                P("trellis.io", "nodesubnets", "list", "watch"),
                P("trellis.io", "nodesubnets/status", "patch"),
                P("", "events", "create", "patch"),
                // The NetworkPolicy enforcer's three informers list and watch, nothing more.
                P("networking.k8s.io", "networkpolicies", "list", "watch"),
                P("", "namespaces", "list", "watch"),
                P("", "pods", "list", "watch"),
            }.SelectMany(p => p);

        AssertSamePermissions(expected, Permissions("ClusterRole", "trellis-agent"));
    }

    private static IEnumerable<Permission> P(string group, string resource, params string[] verbs) =>
        verbs.Select(verb => new Permission(group, resource, verb));

    private static void AssertSamePermissions(IEnumerable<Permission> expected, IEnumerable<Permission> actual) =>
        Assert.Equal(expected.Select(p => p.ToString()).Order(StringComparer.Ordinal),
            actual.Select(p => p.ToString()).Order(StringComparer.Ordinal));

    private static IEnumerable<Permission> Permissions(string kind, string name)
    {
        var manifest = Manifests.Single(kind, name);
        var rules = kind == "Role" ? manifest.As<V1Role>().Rules : manifest.As<V1ClusterRole>().Rules;
        foreach (var rule in rules)
        {
            Assert.True(rule.ResourceNames is null && rule.NonResourceURLs is null, $"{manifest}: unexpected resourceNames or nonResourceURLs");
            foreach (var group in rule.ApiGroups)
            foreach (var resource in rule.Resources)
            foreach (var verb in rule.Verbs)
            {
                Assert.True(group != "*" && resource != "*" && verb != "*", $"{manifest}: wildcard");
                yield return new Permission(group, resource, verb);
            }
        }
    }
}
