using k8s;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Trellis.ControllerRuntime.Hosting;
using Trellis.ControllerRuntime.Metrics;
using Trellis.NodeAgent;
using Trellis.NodeAgent.Observability;

return await ProgramCommandLine.RunAsync(AgentCommandLine.Program, AgentCommandLine.Command(), args, AgentCommandLine.Bind,
    new AgentOptionsValidator(), RunAsync);

static async Task<int> RunAsync(AgentOptions options, CancellationToken cancellationToken)
{
    var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
    builder.Logging.ClearProviders();
    builder.Logging.AddSimpleConsole(o =>
    {
        o.SingleLine = true;
        o.TimestampFormat = "HH:mm:ss.fff ";
    });
    builder.Services.AddSingleton(options);
    var metrics = new AgentMetrics(options.NodeName);
    builder.Services.AddSingleton(metrics);
    builder.Services.AddSingleton(new LoopHealth(options.Resync));
    builder.Services.AddSingleton<IKubernetes>(_ => new Kubernetes(string.IsNullOrEmpty(options.Kubeconfig)
        ? KubernetesClientConfiguration.InClusterConfig()
        : KubernetesClientConfiguration.BuildConfigFromConfigFile(options.Kubeconfig), new ApiWriteCounting(metrics.ApiWrites)));
    builder.Services.AddSingleton<Trellis.NodeAgent.Reclaiming.ReclaimTally>();
    builder.Services.AddHostedService<AgentService>();
    builder.Services.AddHostedService<Trellis.NodeAgent.Reclaiming.AddressReclaimer>();
    builder.Services.AddSingleton<Trellis.NodeAgent.NetworkPolicy.PolicyEnforcementState>();
    builder.Services.AddHostedService<Trellis.NodeAgent.NetworkPolicy.PolicyEnforcer>();
    builder.Services.AddHostedService<AgentEndpoint>();
    await builder.Build().RunAsync(cancellationToken);
    return 0;
}
