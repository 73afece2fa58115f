using k8s;
using Trellis.Crds;
using Trellis.Operator.Hosting;
using Trellis.Testing;
using Xunit;

namespace Trellis.Operator.Tests.Cluster;

/// <summary>
/// The operator under exactly the RBAC of config/rbac, as its ServiceAccount: through a whole
/// lifecycle it is refused nothing (no verb missing), and it uses every permission it is granted
/// but the ones listed here with their reason (no verb surplus).
/// </summary>
public sealed class RbacUsageTests
{
    /// <summary>Granted although this lifecycle never needs them, and why.</summary>
    private static readonly Dictionary<string, string> GrantedForOthers = new()
    {
        // Where the OwnerReferencesPermissionEnforcement admission plugin is on, setting blockOwnerDeletion on a
        // NodeSubnet's owner reference needs update on the owner's finalizers (this server does not run that plugin).
        ["update trellis.io/podnetworks/finalizers"] = "OwnerReferencesPermissionEnforcement",
        // The event recorder patches an Event (count, lastTimestamp) when the same one repeats within its window.
        ["patch events"] = "repeated Events",
        // ClusterWriter reads the object again after a 409 Conflict (another writer was first, or a NodeSubnet its cache
        // had not seen yet); a lone operator in a quiet cluster never meets one.
        ["get trellis.io/podnetworks"] = "re-read after a conflict on its status",
        ["get trellis.io/nodesubnets"] = "re-read after a conflict",
    };

    [Fact]
    public async Task The_operator_is_refused_nothing_and_holds_no_permission_it_does_not_use()
    {
        await using var cluster = await OperatorCluster.StartAsync();
        await TrellisRbac.ApplyAsync(cluster.Client);
        var token = await TrellisRbac.TokenAsync(cluster.Client, "trellis-operator");
        cluster.StartOperator(new OperatorOptions { LeaderElect = true }, token: token);

        await cluster.CreateNodeAsync("node-1", "192.168.1.11");
        await cluster.CreateNodeAsync("node-2", "192.168.1.12");
        await cluster.CreateNetworkAsync("default", ["10.244.0.0/16"]);
        await cluster.BlocksEventuallyAsync("default", 2);
        // A changed routing policy is resolved into every NodeSubnet of the network (replaced whole).
        await cluster.UpdateNetworkAsync("default", network => network.Spec.Mtu = 1400);
        await OperatorCluster.EventuallyAsync(() => cluster.SubnetsAsync("default"), s => s.Count == 2 && s.All(n => n.Spec.Mtu == 1400), "MTU 1400 in every NodeSubnet");
        // An overlapping network is refused in its status and an Event.
        await cluster.CreateNetworkAsync("overlap", ["10.244.0.0/20"]);
        await OperatorCluster.EventuallyAsync(() => cluster.GetNetworkAsync("overlap"),
            n => n.Status?.Conditions.Any(c => c.Type == Conditions.Valid && c.Status == "False") == true, "overlap Valid=False");
        await OperatorCluster.EventuallyAsync(() => cluster.Client.CoreV1.ListEventForAllNamespacesAsync(), events => events.Items.Count > 0, "an Event");
        await cluster.DeleteNodeAsync("node-2");
        await OperatorCluster.EventuallyAsync(() => cluster.SubnetsAsync("default"), s => s.Count == 1, "node-2's NodeSubnet gone");
        await cluster.Client.CustomObjects.DeleteClusterCustomObjectAsync(TrellisApi.Group, TrellisApi.Version, PodNetwork.Plural, "default");
        await OperatorCluster.EventuallyAsync(() => cluster.SubnetsAsync(), s => s.All(n => n.Spec.PodNetwork != "default"), "default's NodeSubnets gone");
        // A leader renews its lease every retry period (an update); the scenario above may end before the first renewal.
        var acquired = await cluster.Client.CoordinationV1.ReadNamespacedLeaseAsync(new OperatorOptions().LeaderElectionName, OperatorCluster.LeaseNamespace);
        await OperatorCluster.EventuallyAsync(() => cluster.Client.CoordinationV1.ReadNamespacedLeaseAsync(acquired.Metadata.Name, OperatorCluster.LeaseNamespace),
            lease => lease.Metadata.ResourceVersion != acquired.Metadata.ResourceVersion, "the lease renewed");

        TrellisRbac.AssertRefusedNothingAndUsedEverything(cluster.Server.AuthorizationLog, "trellis-operator", "operator.yaml", GrantedForOthers);
    }
}
