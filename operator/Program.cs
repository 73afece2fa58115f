using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Trellis.ControllerRuntime.Hosting;
using Trellis.Operator.Hosting;

// Before any API call: a Native AOT build reads and writes Trellis' objects only through the generated serializers.
Trellis.ControllerRuntime.Clients.ApiJson.Add(Trellis.Crds.TrellisJson.Resolver);
return await ProgramCommandLine.RunAsync(OperatorCommandLine.Program, OperatorCommandLine.Command(), args, OperatorCommandLine.Bind,
    new OperatorOptionsValidator(checkConnection: true), RunAsync);

static async Task<int> RunAsync(OperatorOptions options, CancellationToken cancellationToken)
{
    var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
    builder.Logging.ClearProviders();
    builder.Logging.AddSimpleConsole(o =>
    {
        o.SingleLine = true;
        o.TimestampFormat = "HH:mm:ss.fff ";
    });
    try
    {
        builder.Services.AddTrellisOperator(options);
    }
    catch (Exception error) when (error is ArgumentException or InvalidOperationException or FormatException or k8s.Exceptions.KubeConfigException)
    {
        Console.Error.WriteLine($"{OperatorCommandLine.Program}: {error.Message}");
        return ProgramCommandLine.UsageError;
    }

    using var host = builder.Build();
    var services = host.Services.GetServices<IHostedService>().OfType<BackgroundService>().ToList();
    await host.RunAsync(cancellationToken);
    // A background service that failed has stopped the host; say so in the exit code, so it is not taken for a clean stop.
    return services.Any(service => service.ExecuteTask?.IsFaulted == true) ? 1 : 0;
}
