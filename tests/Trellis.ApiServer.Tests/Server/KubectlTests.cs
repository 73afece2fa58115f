using System.Diagnostics;
using k8s;
using k8s.Models;
using Xunit.Abstractions;

namespace Trellis.ApiServer.Tests.Server;

/// <summary>Stock kubectl against the server: discovery, tables, client-side apply, delete.</summary>
public sealed class KubectlTests(ITestOutputHelper output)
{
    private const string WidgetYaml = """
        apiVersion: test.trellis.io/v1
        kind: Widget
        metadata:
          name: from-kubectl
          namespace: default
        spec:
          size: 7
          tags: [alpha, beta]
        """;

    private static string? KubectlPath() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, "kubectl")).FirstOrDefault(File.Exists);

    [Fact]
    public async Task KubectlRoundTrip()
    {
        var kubectl = KubectlPath();
        if (kubectl is null)
        {
            output.WriteLine("kubectl is not on PATH: the kubectl round trip was skipped");
            return;
        }
        await using var t = await TestServer.StartAsync();
        var directory = Directory.CreateTempSubdirectory("trellis-kubectl-");
        try
        {
            var kubeconfig = Path.Combine(directory.FullName, "kubeconfig");
            t.Server.WriteKubeconfig(kubeconfig);
            string Run(params string[] arguments)
            {
                var info = new ProcessStartInfo(kubectl) { RedirectStandardOutput = true, RedirectStandardError = true };
                foreach (var a in new[] { "--kubeconfig", kubeconfig, "--cache-dir", Path.Combine(directory.FullName, "cache") }.Concat(arguments)) info.ArgumentList.Add(a);
                using var process = Process.Start(info)!;
                var stdout = process.StandardOutput.ReadToEndAsync();
                var stderr = process.StandardError.ReadToEndAsync();
                if (!process.WaitForExit(60_000)) process.Kill();
                output.WriteLine($"$ kubectl {string.Join(' ', arguments)}\n{stdout.Result}{stderr.Result}");
                Assert.True(process.ExitCode == 0, $"kubectl {string.Join(' ', arguments)} failed: {stderr.Result}");
                return stdout.Result;
            }

            await t.Client.CoreV1.CreateNodeAsync(new V1Node
            {
                Metadata = new V1ObjectMeta { Name = "node-1", Labels = new Dictionary<string, string> { ["node-role.kubernetes.io/control-plane"] = "" } },
                Status = new V1NodeStatus { NodeInfo = new V1NodeSystemInfo { KubeletVersion = "v1.32.0" } },
            });
            var nodes = Run("get", "nodes");
            Assert.Matches(@"NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION", nodes);
            Assert.Matches(@"node-1\s+Unknown\s+control-plane\s+\S+\s+v1\.32\.0", nodes);

            File.WriteAllText(Path.Combine(directory.FullName, "crd.json"), TestServer.WidgetCrd);
            File.WriteAllText(Path.Combine(directory.FullName, "widget.yaml"), WidgetYaml);
            Run("apply", "-f", Path.Combine(directory.FullName, "crd.json"));
            Run("apply", "-f", Path.Combine(directory.FullName, "widget.yaml"));
            var widgets = Run("get", "widgets");
            Assert.Matches(@"NAME\s+SIZE\s+COLOR\s+TAGS\s+READY\s+AGE", widgets);
            Assert.Matches(@"from-kubectl\s+7\s+red\s+alpha,beta\s+\d+s", widgets);

            File.WriteAllText(Path.Combine(directory.FullName, "widget.yaml"), WidgetYaml.Replace("size: 7", "size: 8"));
            Run("apply", "-f", Path.Combine(directory.FullName, "widget.yaml"));
            Assert.Contains("8", Run("get", "wd", "from-kubectl", "-o", "jsonpath={.spec.size}"));
            Assert.Contains("widgets", Run("api-resources"));
            Run("get", "nodes,widgets");

            Run("delete", "widget", "from-kubectl");
            Assert.DoesNotContain("from-kubectl", Run("get", "widgets"));
            Run("delete", "-f", Path.Combine(directory.FullName, "crd.json"));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
