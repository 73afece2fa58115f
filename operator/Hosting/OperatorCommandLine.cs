using System.CommandLine;

namespace Trellis.Operator.Hosting;

/// <summary>trellis-operator's flags (the names config/operator/deployment.yaml uses) and how they become <see cref="OperatorOptions"/>.</summary>
public static class OperatorCommandLine
{
    public const string Program = "trellis-operator";

    private static readonly OperatorOptions Defaults = new();

    private static readonly Option<string?> Kubeconfig = new("--kubeconfig")
    {
        Description = "Path of a kubeconfig; without it the operator uses its in-cluster service account",
        HelpName = "path",
    };
    private static readonly Option<bool> LeaderElect = new("--leader-elect")
    {
        Description = "Campaign for a Lease and reconcile only while holding it (several replicas, one writer); on unless --leader-elect=false",
        DefaultValueFactory = _ => Defaults.LeaderElect,
    };
    private static readonly Option<string> LeaderElectionNamespace = new("--leader-election-namespace")
    {
        Description = "Namespace of the Lease",
        HelpName = "namespace",
        DefaultValueFactory = _ => Defaults.LeaderElectionNamespace,
    };
    private static readonly Option<string> LeaderElectionName = new("--leader-election-name")
    {
        Description = "Name of the Lease",
        HelpName = "name",
        DefaultValueFactory = _ => Defaults.LeaderElectionName,
    };
    private static readonly Option<string?> Identity = new("--identity")
    {
        Description = "This replica's name in the Lease; unique per replica (default: host name and process id)",
        HelpName = "name",
    };
    private static readonly Option<int> Workers = new("--workers")
    {
        Description = "PodNetworks reconciled at once",
        DefaultValueFactory = _ => Defaults.Workers,
    };
    private static readonly Option<int> WriteConcurrency = new("--write-concurrency")
    {
        Description = "NodeSubnet writes in flight at once within one reconcile",
        DefaultValueFactory = _ => Defaults.WriteConcurrency,
    };
    private static readonly Option<int> HealthPort = new("--health-port")
    {
        Description = "Port of /healthz and /readyz; 0 turns them off",
        HelpName = "port",
        DefaultValueFactory = _ => Defaults.HealthPort,
    };
    private static readonly Option<bool> SetNodePodCidrs = new("--set-node-pod-cidrs")
    {
        Description = "Also write a node's first block into Node.spec.podCIDRs when that is empty, for tools that read it",
    };

    public static RootCommand Command()
    {
        var command = new RootCommand("The Trellis operator: cuts each PodNetwork into per-node blocks and writes one NodeSubnet per node.");
        foreach (var option in new Option[] { Kubeconfig, LeaderElect, LeaderElectionNamespace, LeaderElectionName, Identity, Workers, WriteConcurrency, HealthPort, SetNodePodCidrs })
            command.Options.Add(option);
        return command;
    }

    public static OperatorOptions Bind(ParseResult parse) => Defaults with
    {
        Kubeconfig = parse.GetValue(Kubeconfig),
        LeaderElect = parse.GetValue(LeaderElect),
        LeaderElectionNamespace = parse.GetValue(LeaderElectionNamespace)!,
        LeaderElectionName = parse.GetValue(LeaderElectionName)!,
        Identity = parse.GetValue(Identity) ?? Defaults.Identity,
        Workers = parse.GetValue(Workers),
        WriteConcurrency = parse.GetValue(WriteConcurrency),
        HealthPort = parse.GetValue(HealthPort),
        SetNodePodCidrs = parse.GetValue(SetNodePodCidrs),
    };
}
