using Microsoft.Extensions.Hosting;

namespace Trellis.Operator.Hosting;

/// <summary>Runs the operator for the lifetime of the host.</summary>
public sealed class OperatorService(TrellisOperator trellisOperator) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => trellisOperator.RunAsync(stoppingToken);
}
