using k8s;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Trellis.NodeAgent;

if (AgentOptions.FindUnknownFlag(args) is { } unknown)
{
    Console.Error.WriteLine($"trellis-agent: unknown flag {unknown}; known flags: {string.Join(", ", AgentOptions.Flags.Keys)}");
    return 2;
}

var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
builder.Configuration.AddCommandLine(args, AgentOptions.Flags.ToDictionary());
builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole(o =>
{
    o.SingleLine = true;
    o.TimestampFormat = "HH:mm:ss.fff ";
});
builder.Services.AddSingleton<IValidateOptions<AgentOptions>, AgentOptionsValidator>();
builder.Services.AddOptions<AgentOptions>().Bind(builder.Configuration.GetSection(AgentOptions.Section)).ValidateOnStart();
builder.Services.AddSingleton<IKubernetes>(services =>
{
    var options = services.GetRequiredService<IOptions<AgentOptions>>().Value;
    var config = string.IsNullOrEmpty(options.Kubeconfig)
        ? KubernetesClientConfiguration.InClusterConfig()
        : KubernetesClientConfiguration.BuildConfigFromConfigFile(options.Kubeconfig);
    return new Kubernetes(config);
});
builder.Services.AddHostedService<AgentService>();
builder.Services.AddSingleton<Trellis.NodeAgent.NetworkPolicy.PolicyEnforcementState>();
builder.Services.AddHostedService<Trellis.NodeAgent.NetworkPolicy.PolicyEnforcer>();
builder.Services.AddHostedService<Trellis.NodeAgent.NetworkPolicy.MetricsEndpoint>();

try
{
    await builder.Build().RunAsync();
    return 0;
}
catch (OptionsValidationException invalid)
{
    Console.Error.WriteLine($"trellis-agent: invalid options: {string.Join("; ", invalid.Failures)}");
    return 2;
}
