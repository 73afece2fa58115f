using k8s;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Trellis.ControllerRuntime.Clients;
using Trellis.Crds;
using Trellis.Linux;
using Trellis.Operator.Hosting;
using Trellis.Testing;
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
        }, ApiClient.Over(cluster.Client));
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(2) };
            var health = await OperatorCluster.EventuallyAsync(() => TryGetAsync(http, "/healthz"), code => code == HttpStatusCode.OK, "/healthz 200");
            Assert.Equal(HttpStatusCode.OK, health);
            await OperatorCluster.EventuallyAsync(() => TryGetAsync(http, "/readyz"), code => code == HttpStatusCode.OK, "/readyz 200");
            Assert.Equal(HttpStatusCode.NotFound, await TryGetAsync(http, "/other"));

            // Probers that time out hang up mid-answer; that must not take the host down.
            await HangUpAsync(port, "/healthz", 200);
            Assert.Equal(HttpStatusCode.OK, await TryGetAsync(http, "/healthz"));
            Assert.False(host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested, "the host is stopping");
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
        var start = new System.Diagnostics.ProcessStartInfo(OperatorBinary)
        {
            ArgumentList = { "--kubeconfig", "/nonexistent/config", "--workers", "0" },
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

    [Fact]
    public void The_binary_explains_its_flags_and_refuses_unknown_ones()
    {
        var help = Trellis.Testing.Shell.Run(OperatorBinary, "--help");
        Assert.Equal(0, help.ExitCode);
        foreach (var flag in new[] { "--kubeconfig", "--leader-elect", "--leader-election-namespace", "--identity", "--workers", "--health-port", "--set-node-pod-cidrs" })
            Assert.Contains(flag, help.StandardOutput);

        var typo = Trellis.Testing.Shell.Run(OperatorBinary, "--wokers", "3");
        Assert.Equal(2, typo.ExitCode);
        Assert.Contains("trellis-operator: Unrecognized command or argument '--wokers'", typo.StandardError);
    }

    [Fact]
    public void Flags_bind_in_the_deployments_forms()
    {
        var parse = OperatorCommandLine.Command().Parse(["--leader-elect=false", "--leader-election-namespace=ops", "--workers", "4", "--set-node-pod-cidrs", "--identity=pod-0"]);
        Assert.Empty(parse.Errors);
        var options = OperatorCommandLine.Bind(parse);
        Assert.Equal((false, "ops", 4, true, "pod-0", 8081), (options.LeaderElect, options.LeaderElectionNamespace, options.Workers, options.SetNodePodCidrs, options.Identity, options.HealthPort));
        Assert.True(OperatorCommandLine.Bind(OperatorCommandLine.Command().Parse([])).LeaderElect);
    }

    [Fact]
    public async Task The_binary_reconciles_through_a_kubeconfig_answers_its_probes_and_stops_on_sigterm()
    {
        // Without the CRDs the PodNetwork informer cannot list, so the leader is not ready: /readyz must say so.
        await using var cluster = await OperatorCluster.StartAsync(registerCrds: false);
        await cluster.CreateNodeAsync("n1", "192.168.1.11");
        var directory = Directory.CreateTempSubdirectory("trellis-operator-binary-");
        var kubeconfig = Path.Combine(directory.FullName, "kubeconfig");
        cluster.Server.WriteKubeconfig(kubeconfig);
        int port = FreePort();

        var start = new System.Diagnostics.ProcessStartInfo(OperatorBinary)
        {
            ArgumentList =
            {
                // The flags in config/operator/deployment.yaml's form.
                "--kubeconfig", kubeconfig, "--leader-elect=true", $"--leader-election-namespace={OperatorCluster.LeaseNamespace}",
                $"--health-port={port}", "--identity=binary-0",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var process = new System.Diagnostics.Process { StartInfo = start };
        process.OutputDataReceived += (_, line) => { if (line.Data is not null) output.Enqueue(line.Data); };
        process.ErrorDataReceived += (_, line) => { if (line.Data is not null) output.Enqueue(line.Data); };
        Assert.True(process.Start());
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        string Log() => $"exited: {process.HasExited}; output:\n{string.Join("\n", output)}";
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(2) };
            async Task<HttpStatusCode> Probe(string path)
            {
                if (process.HasExited) throw new InvalidOperationException($"trellis-operator exited with {process.ExitCode}; {Log()}");
                return await TryGetAsync(http, path);
            }
            async Task<T> Eventually<T>(Func<Task<T>> read, Func<T, bool> check, string what)
            {
                try
                {
                    return await OperatorCluster.EventuallyAsync(read, check, what);
                }
                catch (TimeoutException error)
                {
                    throw new TimeoutException($"{error.Message}; {Log()}", error);
                }
            }
            await Eventually(() => Probe("/healthz"), code => code == HttpStatusCode.OK, "/healthz 200");
            await Eventually(() => LeaseHolderAsync(cluster), holder => holder == "binary-0", "binary-0 to hold the lease");
            // The lease is taken a moment before the term starts, and a replica that does not lead is ready by design.
            await Eventually(() => Probe("/readyz"), code => code == HttpStatusCode.ServiceUnavailable, "/readyz 503 while the leader cannot sync");

            await cluster.RegisterCrdsAsync();
            await cluster.CreateNetworkAsync("default", ["10.244.0.0/16"]);
            await Eventually(() => Probe("/readyz"), code => code == HttpStatusCode.OK, "/readyz 200");
            var blocks = await Eventually(() => cluster.BlocksAsync("default"), b => b.Count == 1, "n1's NodeSubnet");
            Assert.Equal("10.244.0.0/24", blocks["n1"]);
            await cluster.CreateNodeAsync("n2", "192.168.1.12");
            blocks = await Eventually(() => cluster.BlocksAsync("default"), b => b.Count == 2, "n2's NodeSubnet");
            Assert.Equal("10.244.1.0/24", blocks["n2"]);

            // /metrics on the health port, parsed by Prometheus' own client: blocks per PodNetwork, reconciles, API writes.
            var scrape = await Eventually(() => Task.FromResult(MetricsScrape.Run($"http://127.0.0.1:{port}")),
                s => s.Value("trellis_operator_blocks_allocated", l => l["pod_network"] == "default") == 2, "2 blocks allocated in /metrics");
            Assert.Equal(254, scrape.Value("trellis_operator_blocks_free", l => l["pod_network"] == "default"));
            Assert.Equal(2, scrape.Value("trellis_operator_nodes_served", l => l["pod_network"] == "default"));
            Assert.Equal("histogram", scrape.FamilyTypes["trellis_operator_reconcile_duration_seconds"]);
            Assert.True(scrape.Value("trellis_operator_reconcile_duration_seconds_count", l => l["controller"] == "podnetworks") >= 1);
            Assert.True(scrape.Samples.Any(s => s.Name == "trellis_operator_reconcile_errors_total") || scrape.FamilyTypes.ContainsKey("trellis_operator_reconcile_errors"),
                "/metrics lacks trellis_operator_reconcile_errors_total");
            Assert.True(scrape.Value("trellis_api_writes_total", l => l["verb"] == "create" && l["resource"] == "nodesubnets" && l["code"] == "201") >= 2);
            Assert.True(scrape.Value("process_working_set_bytes") > 0);

            // The kubelet stops a pod with SIGTERM: the host must shut down cleanly, not hang until SIGKILL.
            Assert.Equal(0, LibC.Kill(process.Id, LibC.SIGTERM));
            using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            await process.WaitForExitAsync(exit.Token);
            Assert.True(process.ExitCode == 0, $"exit code {process.ExitCode}; {Log()}");
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(5000);
            }
            directory.Delete(recursive: true);
        }
    }

    private static async Task<string?> LeaseHolderAsync(OperatorCluster cluster)
    {
        try
        {
            return (await cluster.Client.CoordinationV1.ReadNamespacedLeaseAsync("trellis-operator", OperatorCluster.LeaseNamespace)).Spec.HolderIdentity;
        }
        catch (k8s.Autorest.HttpOperationException error) when (error.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    [Fact]
    public async Task The_binary_exits_with_failure_when_its_health_port_is_taken()
    {
        await using var cluster = await OperatorCluster.StartAsync(registerCrds: false);
        var directory = Directory.CreateTempSubdirectory("trellis-operator-binary-");
        var kubeconfig = Path.Combine(directory.FullName, "kubeconfig");
        cluster.Server.WriteKubeconfig(kubeconfig);
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var start = new System.Diagnostics.ProcessStartInfo(OperatorBinary)
        {
            ArgumentList = { "--kubeconfig", kubeconfig, "--leader-elect=false", $"--health-port={port}" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = System.Diagnostics.Process.Start(start)!;
        var output = Task.WhenAll(process.StandardOutput.ReadToEndAsync(), process.StandardError.ReadToEndAsync());
        try
        {
            using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            await process.WaitForExitAsync(exit.Token);
            var text = string.Join("\n", await output);
            Assert.True(process.ExitCode != 0, $"exit code {process.ExitCode}: {text}");
            Assert.Contains(port.ToString(System.Globalization.CultureInfo.InvariantCulture), text);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(5000);
            }
            directory.Delete(recursive: true);
        }
    }

    private static string OperatorBinary => Trellis.Testing.RepositoryRoot.OperatorBinary;

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

    /// <summary>
    /// Sends a request and resets the connection at once (SO_LINGER 0), as a prober that gave up does, <paramref name="count"/>
    /// times: some of the answers then meet a connection that is already gone.
    /// </summary>
    private static async Task HangUpAsync(int port, string path, int count)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var request = System.Text.Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        for (int i = 0; i < count; i++)
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
            await socket.SendAsync(request, timeout.Token);
            socket.LingerState = new LingerOption(true, 0);
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
