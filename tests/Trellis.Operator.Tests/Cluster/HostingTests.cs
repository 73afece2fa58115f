using k8s;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Trellis.Crds;
using Trellis.Operator.Hosting;
using Xunit;

namespace Trellis.Operator.Tests.Cluster;

public sealed class HostingTests
{
    [Fact]
    public async Task A_hosted_operator_serves_health_and_readiness_and_reconciles()
    {
        await using var cluster = await OperatorCluster.StartAsync();
        await cluster.CreateNetworkAsync("default", ["10.244.0.0/16"]);
        await cluster.CreateNodeAsync("n1", "192.168.1.11");
        int port = FreePort();

        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddTrellisOperator(new OperatorOptions
        {
            LeaderElect = true,
            LeaderElectionNamespace = OperatorCluster.LeaseNamespace,
            HealthPort = port,
            LeaseDuration = TimeSpan.FromSeconds(3),
            RenewDeadline = TimeSpan.FromSeconds(2),
            RetryPeriod = TimeSpan.FromMilliseconds(250),
        }, cluster.Client);
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(2) };
            var health = await OperatorCluster.EventuallyAsync(() => TryGetAsync(http, "/healthz"), code => code == HttpStatusCode.OK, "/healthz 200");
            Assert.Equal(HttpStatusCode.OK, health);
            await OperatorCluster.EventuallyAsync(() => TryGetAsync(http, "/readyz"), code => code == HttpStatusCode.OK, "/readyz 200");
            Assert.Equal(HttpStatusCode.NotFound, await TryGetAsync(http, "/other"));
            await cluster.BlocksEventuallyAsync("default", 1);
            Assert.True(host.Services.GetRequiredService<TrellisOperator>().State.Leading);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public void The_binary_refuses_bad_options_with_a_clear_message()
    {
        var start = new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            ArgumentList = { OperatorBinary, "--kubeconfig", "/nonexistent/config", "--workers", "0" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = System.Diagnostics.Process.Start(start)!;
        var errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 2, $"exit {process.ExitCode}: {errors}");
        Assert.Contains("--kubeconfig /nonexistent/config: no such file", errors);
        Assert.Contains("--workers 0", errors);
    }

    /// <summary>The operator as built in its own folder (beside its own deps.json), in this test run's configuration.</summary>
    private static string OperatorBinary
    {
        get
        {
            var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
            return Path.Combine(Trellis.Testing.RepositoryRoot.Find(), "operator", "bin", configuration, "net10.0", "trellis-operator.dll");
        }
    }

    private static async Task<HttpStatusCode> TryGetAsync(HttpClient http, string path)
    {
        try
        {
            using var response = await http.GetAsync(path);
            return response.StatusCode;
        }
        catch (Exception error) when (error is HttpRequestException or TaskCanceledException)
        {
            return 0;
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
