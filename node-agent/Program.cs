using k8s;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Trellis.ControllerRuntime.Hosting;
using Trellis.ControllerRuntime.Clients;
using Trellis.ControllerRuntime.Metrics;
using Trellis.NodeAgent;
using Trellis.NodeAgent.Observability;

// Before any API call: a Native AOT build reads and writes Trellis' objects only through the generated serializers.
Trellis.ControllerRuntime.Clients.ApiJson.Add(Trellis.Crds.TrellisJson.Resolver);
var command = AgentCommandLine.Command();
var installCni = AgentCommandLine.InstallCniCommand();
installCni.SetAction(ProgramCommandLine.Action(AgentCommandLine.Program, AgentCommandLine.BindInstallCni, new InstallCniOptionsValidator(), InstallCni));
command.Subcommands.Add(installCni);
return await ProgramCommandLine.RunAsync(AgentCommandLine.Program, command, args, AgentCommandLine.Bind,
    new AgentOptionsValidator(), RunAsync);

static Task<int> InstallCni(InstallCniOptions options, CancellationToken cancellationToken)
{
    try
    {
        var installed = Trellis.NodeAgent.Cni.PluginDirectoryInstaller.Install(options.PluginsDirectory, options.CniBinDir);
        Console.WriteLine(installed.Count == 0 ? $"every plugin in {options.CniBinDir} is up to date" : $"installed {string.Join(", ", installed)} into {options.CniBinDir}");
        return Task.FromResult(0);
    }
    catch (IOException e)
    {
        Console.Error.WriteLine($"{AgentCommandLine.Program}: {e.Message}");
        return Task.FromResult(1);
    }
}

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
    builder.Services.AddSingleton<ApiClient>(_ => ApiConnection.Connect(options.Kubeconfig, new ApiWriteCounting(metrics.ApiWrites)));
    builder.Services.AddSingleton<Trellis.NodeAgent.Reclaiming.ReclaimTally>();
    builder.Services.AddHostedService<AgentService>();
    builder.Services.AddHostedService<Trellis.NodeAgent.Reclaiming.AddressReclaimer>();
    builder.Services.AddSingleton<Trellis.NodeAgent.NetworkPolicy.PolicyEnforcementState>();
    builder.Services.AddHostedService<Trellis.NodeAgent.NetworkPolicy.PolicyEnforcer>();
    builder.Services.AddHostedService<AgentEndpoint>();
    await builder.Build().RunAsync(cancellationToken);
    return 0;
}
