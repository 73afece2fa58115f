using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Trellis.Operator.Hosting;

// trellis-operator [--kubeconfig PATH] [--leader-elect true|false] [--leader-election-namespace NS] [--health-port N] [--set-node-pod-cidrs] ...
var switches = new Dictionary<string, string>
{
    ["--kubeconfig"] = "Operator:Kubeconfig",
    ["--leader-elect"] = "Operator:LeaderElect",
    ["--leader-election-namespace"] = "Operator:LeaderElectionNamespace",
    ["--leader-election-name"] = "Operator:LeaderElectionName",
    ["--identity"] = "Operator:Identity",
    ["--workers"] = "Operator:Workers",
    ["--write-concurrency"] = "Operator:WriteConcurrency",
    ["--health-port"] = "Operator:HealthPort",
    ["--set-node-pod-cidrs"] = "Operator:SetNodePodCidrs",
};
// A bare boolean switch ("--set-node-pod-cidrs") means true; the configuration binder wants a value.
var expanded = new List<string>();
for (int i = 0; i < args.Length; i++)
{
    expanded.Add(args[i]);
    bool isBoolean = args[i] is "--set-node-pod-cidrs" or "--leader-elect";
    if (isBoolean && (i + 1 == args.Length || args[i + 1].StartsWith("--", StringComparison.Ordinal))) expanded.Add("true");
}

var builder = Host.CreateApplicationBuilder();
builder.Configuration.AddEnvironmentVariables("TRELLIS_");
builder.Configuration.AddCommandLine(expanded.ToArray(), switches);
builder.Logging.AddSimpleConsole(o =>
{
    o.SingleLine = true;
    o.TimestampFormat = "HH:mm:ss.fff ";
});

OperatorOptions options;
try
{
    options = builder.Configuration.GetSection("Operator").Get<OperatorOptions>() ?? new OperatorOptions();
    if (string.IsNullOrEmpty(options.Identity)) options = options with { Identity = Environment.MachineName };
    builder.Services.AddTrellisOperator(options);
}
catch (Exception error) when (error is ArgumentException or InvalidOperationException or FormatException or k8s.Exceptions.KubeConfigException)
{
    Console.Error.WriteLine($"trellis-operator: {error.Message}");
    return 2;
}

using var host = builder.Build();
var services = host.Services.GetServices<IHostedService>().OfType<BackgroundService>().ToList();
await host.RunAsync();
// A background service that failed has stopped the host; say so in the exit code, so it is not taken for a clean stop.
return services.Any(service => service.ExecuteTask?.IsFaulted == true) ? 1 : 0;
