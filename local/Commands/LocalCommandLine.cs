using System.CommandLine;
using System.CommandLine.Parsing;
using FluentValidation;
using Trellis.Crds;
using Trellis.Local.Cluster;
using Trellis.Local.Kubelet;
using Trellis.Local.Topology;

namespace Trellis.Local.Commands;

/// <summary>What `trellis-local status` shows.</summary>
public sealed record StatusOptions(string StateDirectory, bool Ports, int? Port, string? Protocol, bool Json);

/// <summary>What `trellis-local probe` tries.</summary>
public sealed record ProbeOptions(string StateDirectory, string From, string To, int Port, string Protocol, double TimeoutSeconds, bool Json);

/// <summary>A node named on the command line, with the cluster options its agent and kubelet are started with.</summary>
public sealed record NodeOptions(LocalClusterOptions Cluster, string Node);

/// <summary>One process of a node to stop or start; <see cref="Kill"/> crashes it instead of stopping it.</summary>
public sealed record NodeComponentOptions(LocalClusterOptions Cluster, string Node, NodeComponent Component, bool Kill);

/// <summary>The hidden kubelet verb's options (trellis-local starts it itself, one per node).</summary>
public sealed record KubeletCommandOptions(KubeletOptions Kubelet, string Kubeconfig);

/// <summary>trellis-local's commands and flags, declared once so that --help is generated, and how they become options records.</summary>
public static class LocalCommandLine
{
    public const string Program = "trellis-local";
    public static readonly string[] Protocols = ["TCP", "UDP", "SCTP"];

    private static readonly LocalClusterOptions Defaults = new();

    // Flags every command takes.
    public static readonly Option<string> StateDir = Valued("--state-dir", "Where the running cluster keeps its state", "dir", Defaults.StateDirectory, recursive: true);
    public static readonly Option<string> Prefix = Valued("--prefix", "First part of every namespace name the cluster makes", "name", Defaults.Prefix, recursive: true);
    public static readonly Option<string> Agent = Valued("--agent", "The trellis-agent binary", "path", Defaults.AgentPath, recursive: true);
    public static readonly Option<string> CniPlugin = Valued("--cni-plugin", "The trellis-cni binary", "path", Defaults.CniPluginPath, recursive: true);

    // The cluster's shape (up and run).
    public static readonly Option<int> Nodes = new("--nodes") { Description = "Nodes to start", DefaultValueFactory = _ => Defaults.Nodes };
    public static readonly Option<int> PodsPerNode = new("--pods-per-node") { Description = "Pods to start on each node", DefaultValueFactory = _ => Defaults.PodsPerNode };
    public static readonly Option<string> Routing = Valued("--routing", $"How nodes reach each other: {string.Join(", ", RoutingModes.All)}", "mode", Defaults.Routing);
    public static readonly Option<string?> Router = new("--router") { Description = "The router in the underlay, frr or bird: with --routing BGP every node's gateway to the others (default frr); with another mode the nodes only announce their blocks to it", HelpName = "frr|bird" };
    public static readonly Option<TopologyKind> Topology = new("--topology")
    {
        Description = "The underlay: l2 (one segment), routed (a subnet per node behind a router) or mixed",
        HelpName = "l2|routed|mixed",
        DefaultValueFactory = _ => Defaults.Topology,
        CustomParser = ParseTopology,
    };
    public static readonly Option<string?> ReclaimGracePeriod = new("--reclaim-grace-period")
    {
        Description = "The agents' --reclaim-grace-period: how long the address of a pod that is gone stays held (default: the agent's, 60s)",
        HelpName = "duration",
    };
    public static readonly Option<string?> Network = new("--network") { Description = "A PodNetwork manifest to apply instead of the sample", HelpName = "file" };
    public static readonly Option<bool> Json = new("--json") { Description = "Print the result as JSON on stdout (progress goes to stderr)" };
    public static readonly Option<bool> Images = new("--images")
    {
        Description = $"Run every agent and the operator as containers (podman) of the images scripts/images.sh builds ({Containers.TrellisImages.Reference(Containers.TrellisImages.Agent)}, {Containers.TrellisImages.Reference(Containers.TrellisImages.Operator)})",
    };

    // status and probe.
    public static readonly Option<bool> Ports = new("--ports") { Description = "Add a pod × pod matrix per declared port" };
    public static readonly Option<int?> Port = new("--port") { Description = "The port to probe (status --ports: the one port to show)" };
    public static readonly Option<string?> Protocol = new("--protocol") { Description = $"{string.Join(", ", Protocols)}", HelpName = "protocol" };
    public static readonly Option<double> Timeout = new("--timeout") { Description = "Seconds to wait for an answer", DefaultValueFactory = _ => Connectivity.PodProbe.DefaultTimeout.TotalSeconds };
    public static readonly Argument<string> From = new("FROM") { Description = "The pod that connects (namespace/name)" };
    public static readonly Argument<string> To = new("TO") { Description = "The pod that should answer (namespace/name)" };
    public static readonly Argument<string> NodeName = new("NAME") { Description = "The node" };
    public static readonly Argument<NodeComponent> Component = new("PROCESS")
    {
        Description = "agent or kubelet",
        CustomParser = ParseComponent,
    };
    public static readonly Option<bool> Kill = new("--kill") { Description = "Crash the process (SIGKILL) instead of stopping it" };

    // The hidden kubelet verb.
    public static readonly Option<string> KubeletNode = Required("--node");
    public static readonly Option<string> KubeletNodeDir = Required("--node-dir");
    public static readonly Option<string> KubeletNodeNamespace = Required("--node-namespace");
    public static readonly Option<string> KubeletCniPath = Required("--cni-path");
    public static readonly Option<string> KubeletKubeconfig = Required("--kubeconfig");

    /// <summary>The command tree; each leaf's action is set by the program (<see cref="ControllerRuntime.Hosting.ProgramCommandLine.Action"/>).</summary>
    public static RootCommand Command(
        Func<ParseResult, CancellationToken, Task<int>> up,
        Func<ParseResult, CancellationToken, Task<int>> run,
        Func<ParseResult, CancellationToken, Task<int>> down,
        Func<ParseResult, CancellationToken, Task<int>> status,
        Func<ParseResult, CancellationToken, Task<int>> probe,
        Func<ParseResult, CancellationToken, Task<int>> nodeAdd,
        Func<ParseResult, CancellationToken, Task<int>> nodeRemove,
        Func<ParseResult, CancellationToken, Task<int>> nodeReboot,
        Func<ParseResult, CancellationToken, Task<int>> nodeStop,
        Func<ParseResult, CancellationToken, Task<int>> nodeStart,
        Func<ParseResult, CancellationToken, Task<int>> kubelet)
    {
        var root = new RootCommand("trellis-local: all of Trellis on one machine, in network namespaces (run as root)");
        foreach (var option in new Option[] { StateDir, Prefix, Agent, CniPlugin }) root.Options.Add(option);
        root.Subcommands.Add(Leaf("up", "Builds the cluster, prints it and the pod × pod matrix, and stays up until Ctrl-C or `down`", up,
            Nodes, PodsPerNode, Routing, Router, Topology, Network, ReclaimGracePeriod, Images));
        root.Subcommands.Add(Leaf("run", "up, the matrix, and down in one; exits 0 only when every pod reaches every other pod", run,
            Nodes, PodsPerNode, Routing, Router, Topology, Network, ReclaimGracePeriod, Images, Json));
        root.Subcommands.Add(Leaf("down", "Removes every namespace, process and file a local cluster made (also after a crash)", down));
        root.Subcommands.Add(Leaf("status", "Prints the PodNetworks, NodeSubnets, pods and the matrix of the running cluster", status, Ports, Port, Protocol, Json));
        var probeCommand = Leaf("probe", "Connects from pod FROM to pod TO and says whether and what TO answered", probe, Port, Protocol, Timeout, Json);
        probeCommand.Arguments.Add(From);
        probeCommand.Arguments.Add(To);
        root.Subcommands.Add(probeCommand);
        var node = new Command("node", "A node joins, leaves or reboots the running cluster");
        foreach (var (name, description, action) in new[]
                 {
                     ("add", "A node joins: namespace, Node, agent, kubelet", nodeAdd),
                     ("remove", "A node leaves (its pods are drained first)", nodeRemove),
                     ("reboot", "A power cut and a boot: agent, kubelet and sandboxes vanish without CNI DEL, then start again", nodeReboot),
                 })
        {
            var leaf = Leaf(name, description, action);
            leaf.Arguments.Add(NodeName);
            node.Subcommands.Add(leaf);
        }
        var stop = Leaf("stop", "Stops (--kill: crashes) one process of a node; its sandboxes stay", nodeStop, Kill);
        var start = Leaf("start", "Starts one process of a node again", nodeStart);
        foreach (var leaf in new[] { stop, start })
        {
            leaf.Arguments.Add(NodeName);
            leaf.Arguments.Add(Component);
            node.Subcommands.Add(leaf);
        }
        root.Subcommands.Add(node);
        root.Subcommands.Add(Leaf(KubeletCommand.Verb, "One node's kubelet (started by trellis-local itself)", kubelet,
            KubeletNode, KubeletNodeDir, KubeletNodeNamespace, KubeletCniPath, KubeletKubeconfig));
        root.Subcommands[^1].Hidden = true;
        return root;
    }

    public static LocalClusterOptions BindCluster(ParseResult parse) => Defaults with
    {
        Nodes = parse.GetValue(Nodes),
        PodsPerNode = parse.GetValue(PodsPerNode),
        Routing = RoutingModes.All.FirstOrDefault(m => string.Equals(m, parse.GetValue(Routing), StringComparison.OrdinalIgnoreCase)) ?? parse.GetValue(Routing)!,
        Router = parse.GetValue(Router)?.ToLowerInvariant(),
        Topology = parse.GetValue(Topology),
        NetworkFile = parse.GetValue(Network),
        ReclaimGracePeriod = parse.GetValue(ReclaimGracePeriod),
        StateDirectory = parse.GetValue(StateDir)!,
        Prefix = parse.GetValue(Prefix)!,
        AgentPath = parse.GetValue(Agent)!,
        CniPluginPath = parse.GetValue(CniPlugin)!,
        Json = parse.GetValue(Json),
        Images = parse.GetValue(Images),
    };

    public static StatusOptions BindStatus(ParseResult parse) =>
        new(parse.GetValue(StateDir)!, parse.GetValue(Ports), parse.GetValue(Port), parse.GetValue(Protocol)?.ToUpperInvariant(), parse.GetValue(Json));

    public static ProbeOptions BindProbe(ParseResult parse) =>
        new(parse.GetValue(StateDir)!, parse.GetValue(From)!, parse.GetValue(To)!, parse.GetValue(Port) ?? 80,
            parse.GetValue(Protocol)?.ToUpperInvariant() ?? "TCP", parse.GetValue(Timeout), parse.GetValue(Json));

    public static NodeOptions BindNode(ParseResult parse) => new(BindCluster(parse), parse.GetValue(NodeName)!);

    public static NodeComponentOptions BindNodeComponent(ParseResult parse) =>
        new(BindCluster(parse), parse.GetValue(NodeName)!, parse.GetValue(Component), parse.GetValue(Kill));

    public static KubeletCommandOptions BindKubelet(ParseResult parse) => new(new KubeletOptions
    {
        NodeName = parse.GetValue(KubeletNode)!,
        NodeDirectory = parse.GetValue(KubeletNodeDir)!,
        Prefix = parse.GetValue(Prefix)!,
        NodeNamespace = parse.GetValue(KubeletNodeNamespace)!,
        CniPluginDirectories = parse.GetValue(KubeletCniPath)!.Split(':', StringSplitOptions.RemoveEmptyEntries),
    }, parse.GetValue(KubeletKubeconfig)!);

    private static Command Leaf(string name, string description, Func<ParseResult, CancellationToken, Task<int>> action, params Option[] options)
    {
        var command = new Command(name, description);
        foreach (var option in options) command.Options.Add(option);
        command.SetAction(action);
        return command;
    }

    private static Option<string> Valued(string name, string description, string helpName, string defaultValue, bool recursive = false) => new(name)
    {
        Description = description,
        HelpName = helpName,
        DefaultValueFactory = _ => defaultValue,
        Recursive = recursive,
    };

    private static Option<string> Required(string name) => new(name) { Required = true };

    private static NodeComponent ParseComponent(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (text == "agent") return NodeComponent.Agent;
        if (text == "kubelet") return NodeComponent.Kubelet;
        result.AddError($"a node's processes are agent and kubelet, not \"{text}\"");
        return default;
    }

    private static TopologyKind ParseTopology(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (Enum.TryParse<TopologyKind>(text, ignoreCase: true, out var kind) && !int.TryParse(text, out _)) return kind;
        result.AddError($"--topology must be l2, routed or mixed, not \"{text}\"");
        return default;
    }
}

/// <summary>What `up` and `run` need before anything is touched, in words a user can act on.</summary>
public sealed class LocalClusterOptionsValidator : AbstractValidator<LocalClusterOptions>
{
    public LocalClusterOptionsValidator() =>
        RuleFor(o => o).Custom((options, context) =>
        {
            foreach (var problem in options.Problems()) context.AddFailure(problem);
        });
}

public sealed class StatusOptionsValidator : AbstractValidator<StatusOptions>
{
    public StatusOptionsValidator()
    {
        RuleFor(o => o).Must(o => o.Ports || (o.Port is null && o.Protocol is null))
            .WithMessage("--port and --protocol choose the matrix of status --ports");
        RuleFor(o => o.Protocol).Must(p => p is null || LocalCommandLine.Protocols.Contains(p))
            .WithMessage(o => $"--protocol must be TCP, UDP or SCTP, not \"{o.Protocol}\"");
    }
}

public sealed class ProbeOptionsValidator : AbstractValidator<ProbeOptions>
{
    public ProbeOptionsValidator()
    {
        RuleFor(o => o.Port).InclusiveBetween(1, 65535).WithMessage(o => $"--port must be 1..65535, not {o.Port}");
        RuleFor(o => o.Protocol).Must(LocalCommandLine.Protocols.Contains).WithMessage(o => $"--protocol must be TCP, UDP or SCTP, not \"{o.Protocol}\"");
        RuleFor(o => o.TimeoutSeconds).GreaterThan(0).WithMessage(o => $"--timeout must be a positive number of seconds, not {o.TimeoutSeconds}");
    }
}

/// <summary>For commands whose options need no check beyond what parsing did.</summary>
public sealed class AcceptAll<T> : AbstractValidator<T>;
