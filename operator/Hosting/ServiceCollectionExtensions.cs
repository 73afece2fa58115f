using k8s;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Trellis.ControllerRuntime.Clients;
using Trellis.ControllerRuntime.Metrics;

namespace Trellis.Operator.Hosting;

public static class ServiceCollectionExtensions
{
    /// <summary>
    /// Adds the operator (and its health endpoint) to a host. Pass <paramref name="client"/> to run it
    /// against an API server the caller already holds; otherwise it connects with --kubeconfig or in-cluster.
    /// </summary>
    public static IServiceCollection AddTrellisOperator(this IServiceCollection services, OperatorOptions options, ApiClient? client = null)
    {
        OperatorOptionsValidator.EnsureValid(options, includeConnection: client is null);
        services.AddSingleton(options);
        var metrics = new OperatorMetrics();
        // Built now rather than on first use, so a broken kubeconfig fails the start with its own message.
        services.AddSingleton(client ?? ApiConnection.Connect(options.Kubeconfig, new ApiWriteCounting(metrics.ApiWrites)));
        services.AddSingleton(provider => new TrellisOperator(provider.GetRequiredService<ApiClient>(), options, provider.GetRequiredService<ILoggerFactory>(), metrics));
        services.AddHostedService<OperatorService>();
        services.AddHostedService<HealthEndpoint>();
        return services;
    }
}
