using System.Runtime.InteropServices;
using k8s;
using Microsoft.Extensions.Logging;
using Trellis.Local.Commands;

namespace Trellis.Local.Kubelet;

/// <summary>
/// The hidden verb <c>trellis-local __kubelet</c>: one node's kubelet as its own process, started
/// inside the node's network namespace (as kubelet runs on the host network), so a node reboot can
/// end it at once like a power cut and CNI plugins run where the node's bridge is.
/// </summary>
public static class KubeletCommand
{
    public const string Verb = "__kubelet";

    public static IReadOnlyList<string> Arguments(KubeletOptions options, string kubeconfig) =>
    [
        Verb, "--node", options.NodeName, "--node-dir", options.NodeDirectory, "--prefix", options.Prefix,
        "--node-namespace", options.NodeNamespace, "--cni-path", string.Join(':', options.CniPluginDirectories), "--kubeconfig", kubeconfig,
    ];

    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        KubeletOptions options;
        string kubeconfig;
        try
        {
            var command = new CommandLine(args, valued: new HashSet<string> { "--node", "--node-dir", "--prefix", "--node-namespace", "--cni-path", "--kubeconfig" }, switches: new HashSet<string>());
            string Required(string flag) => command.Get(flag) ?? throw new UsageException($"{Verb} needs {flag}");
            options = new KubeletOptions
            {
                NodeName = Required("--node"),
                NodeDirectory = Required("--node-dir"),
                Prefix = Required("--prefix"),
                NodeNamespace = Required("--node-namespace"),
                CniPluginDirectories = Required("--cni-path").Split(':', StringSplitOptions.RemoveEmptyEntries),
            };
            kubeconfig = Required("--kubeconfig");
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"trellis-local {Verb}: {e.Message}");
            return 2;
        }

        using var loggers = LoggerFactory.Create(b => b.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; }).SetMinimumLevel(LogLevel.Information));
        using var stop = new CancellationTokenSource();
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        using var client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig));
        await using var kubelet = new NodeKubelet(client, options, loggers);
        try
        {
            await kubelet.RunAsync(stop.Token);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        return 0;
    }
}
