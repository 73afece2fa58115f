using System.Diagnostics;
using System.Text.Json.Nodes;
using Trellis.Addressing;
using Trellis.Testing;
using Xunit;

namespace Trellis.Cni.Tests;

/// <summary>
/// ADD, CHECK, DEL, GC and STATUS driven through libcni, the library containerd and CRI-O
/// call plugins with, in a conflist chaining the main plugin with the reference tuning and
/// portmap plugins. The reference bridge runs the same test so a failure can be told apart:
/// the chain and the witnesses, or trellis-cni.
/// </summary>
public sealed class LibcniTests
{
    private const int HostPort = 8080;
    private const int ContainerPort = 80;
    private const string NodeAddress = "192.168.1.11";
    private const string ClientAddress = "192.168.1.100";
    private static readonly string PortMappings =
        $$"""[{"hostPort":{{HostPort}},"containerPort":{{ContainerPort}},"protocol":"tcp"}]""";

    [Theory]
    [InlineData(LibcniMainPlugin.TrellisCni)]
    [InlineData(LibcniMainPlugin.ReferenceBridge)]
    public void Add_check_del_through_libcni_with_tuning_and_portmap_chained(LibcniMainPlugin main)
    {
        using var chain = LibcniChain.Create(main);
        using var pod = NetworkNamespace.Create("pod");
        using var client = NetworkNamespace.Create("client");
        const string id = "libcni-chain-1";

        var add = chain.Invoke("add", id, pod, PortMappings);
        Assert.True(add.Succeeded, Describe("ADD", add));
        var result = JsonNode.Parse(add.StandardOutput)!;
        Assert.Equal("1.0.0", (string?)result["cniVersion"]);

        var interfaces = result["interfaces"]!.AsArray();
        var podInterface = interfaces.Single(i => (string?)i!["name"] == "eth0" && (string?)i["sandbox"] == pod.Path)!;
        Assert.Equal(LibcniChain.TunedMac, (string?)podInterface["mac"]);
        var hostVeth = (string)interfaces.Single(i => i!["sandbox"] is null && (string?)i["name"] != "trellis0")!["name"]!;

        var ip = Assert.Single(result["ips"]!.AsArray())!;
        Assert.Equal(interfaces.IndexOf(podInterface), (int)ip["interface"]!);
        Assert.Equal(LibcniChain.Gateway, (string?)ip["gateway"]);
        var address = IpPrefix.Parse((string)ip["address"]!);
        Assert.True(Cidr.Parse(LibcniChain.Subnet).Contains(address.Address), $"{address} lies outside {LibcniChain.Subnet}");
        Assert.Equal(24, address.PrefixLength);

        Assert.Contains(LibcniChain.TunedMac, pod.Exec("ip", "-o", "link", "show", "eth0"));
        Assert.Contains($"inet {address}", pod.Exec("ip", "-o", "-4", "addr", "show", "dev", "eth0"));
        Assert.Equal("1", pod.Exec("sysctl", "-n", LibcniChain.TunedSysctl).Trim());
        Assert.True(chain.Node.Run("ip", "link", "show", hostVeth).Succeeded, $"host veth {hostVeth} missing in {chain.Node.Name}");
        Assert.True(pod.Ping(LibcniChain.Gateway), $"pod {address} cannot ping the gateway {LibcniChain.Gateway}");
        Assert.NotEmpty(chain.AllocationFilesOf(id));

        var nat = chain.Node.Exec("iptables-save", "-t", "nat");
        Assert.Contains($"id: \\\"{id}\\\"", nat);
        Assert.Contains($"--to-destination {address.Address}:{ContainerPort}", nat);
        AssertHostPortReachesPod(chain.Node, pod, client);

        // Debian's portmap 1.1.1 fails CHECK on an IPv4-only pod by looking for IPv6 chains
        // (containernetworking/plugins#819), so CHECK goes without the port mappings; the
        // iptables witness above already vouches for portmap's rules.
        var check = chain.Invoke("check", id, pod);
        Assert.True(check.Succeeded, Describe("CHECK", check));

        var del = chain.Invoke("del", id, pod, PortMappings);
        Assert.True(del.Succeeded, Describe("DEL", del));
        Assert.False(pod.Run("ip", "link", "show", "eth0").Succeeded, "eth0 is still in the pod after DEL");
        Assert.False(chain.Node.Run("ip", "link", "show", hostVeth).Succeeded, $"host veth {hostVeth} survived DEL");
        Assert.Empty(chain.AllocationFilesOf(id));
        nat = chain.Node.Exec("iptables-save", "-t", "nat");
        Assert.DoesNotContain(id, nat);
        Assert.DoesNotContain("CNI-DN-", nat);
        Assert.Empty(Directory.EnumerateFiles(chain.CacheDirectory, "*", SearchOption.AllDirectories));

        var again = chain.Invoke("del", id, pod, PortMappings);
        Assert.True(again.Succeeded, Describe("second DEL", again));
    }

    /// <summary>Runtimes often tear the sandbox's namespace down before they call DEL; the whole chain must still clean up.</summary>
    [Fact]
    public void Del_through_libcni_cleans_up_after_the_pod_namespace_is_gone()
    {
        using var chain = LibcniChain.Create(LibcniMainPlugin.TrellisCni);
        using var pod = NetworkNamespace.Create("pod");
        const string id = "libcni-gone-1";
        var add = chain.Invoke("add", id, pod, PortMappings);
        Assert.True(add.Succeeded, Describe("ADD", add));
        Assert.NotEmpty(chain.AllocationFilesOf(id));

        pod.Dispose();
        Assert.False(File.Exists(pod.Path), $"{pod.Path} should be gone");
        var del = chain.Invoke("del", id, pod, PortMappings);
        Assert.True(del.Succeeded, Describe("DEL with the pod namespace gone", del));
        Assert.Empty(chain.AllocationFilesOf(id));
        Assert.DoesNotContain("CNI-DN-", chain.Node.Exec("iptables-save", "-t", "nat"));
        Assert.Empty(chain.Node.Exec("ip", "-o", "link", "show", "type", "veth").Trim());
    }

    [Fact]
    public void Check_through_libcni_fails_when_the_pod_address_is_gone()
    {
        using var chain = LibcniChain.Create(LibcniMainPlugin.TrellisCni);
        using var pod = NetworkNamespace.Create("pod");
        const string id = "libcni-check-1";
        try
        {
            var add = chain.Invoke("add", id, pod, PortMappings);
            Assert.True(add.Succeeded, Describe("ADD", add));
            pod.Exec("ip", "-4", "addr", "flush", "dev", "eth0");

            var check = chain.Invoke("check", id, pod);
            Assert.False(check.Succeeded, $"CHECK passed although eth0 in {pod.Name} lost its address");
            Assert.True(check.StandardOutput.Contains("\"code\"", StringComparison.Ordinal), Describe("CHECK (expected a CNI error)", check));
        }
        finally
        {
            chain.Invoke("del", id, pod, PortMappings);
        }
    }

    [Fact]
    public void Gc_through_libcni_frees_only_allocations_not_in_valid_attachments_and_status_succeeds()
    {
        using var chain = LibcniChain.Create(LibcniMainPlugin.TrellisCni, withChainedPlugins: false);
        using var kept = NetworkNamespace.Create("kept");
        using var leaked = NetworkNamespace.Create("leaked");
        try
        {
            Assert.True(chain.Invoke("add", "libcni-kept", kept).Succeeded);
            Assert.True(chain.Invoke("add", "libcni-leaked", leaked).Succeeded);

            var status = chain.Invoke("status", "", null, cniVersion: "1.1.0");
            Assert.True(status.Succeeded, Describe("STATUS", status));

            var gc = chain.Invoke("gc", "", null, validAttachments: """[{"containerID":"libcni-kept","ifname":"eth0"}]""",
                cniVersion: "1.1.0");
            Assert.True(gc.Succeeded, Describe("GC", gc));
            Assert.NotEmpty(chain.AllocationFilesOf("libcni-kept"));
            Assert.Empty(chain.AllocationFilesOf("libcni-leaked"));
        }
        finally
        {
            chain.Invoke("del", "libcni-kept", kept);
            chain.Invoke("del", "libcni-leaked", leaked);
        }
    }

    /// <summary>
    /// A client on the node's underlay connects to the node's host port and must reach a
    /// listener inside the pod, which only portmap's DNAT can make happen.
    /// </summary>
    private static void AssertHostPortReachesPod(NetworkNamespace node, NetworkNamespace pod, NetworkNamespace client)
    {
        node.Exec("ip", "link", "add", "uplink", "type", "veth", "peer", "name", "eth0", "netns", client.Name);
        node.Exec("ip", "addr", "add", $"{NodeAddress}/24", "dev", "uplink");
        node.Exec("ip", "link", "set", "uplink", "up");
        client.Exec("ip", "addr", "add", $"{ClientAddress}/24", "dev", "eth0");
        client.Exec("ip", "link", "set", "eth0", "up");
        // The node agent turns forwarding on in a real node; DNAT'd traffic to the pod needs it.
        node.Exec("sysctl", "-q", "-w", "net.ipv4.ip_forward=1");

        const string greeting = "reached-the-pod";
        using var listener = Process.Start(new ProcessStartInfo("ip")
        {
            ArgumentList = { "netns", "exec", pod.Name, "socat", "-T", "10", $"TCP-LISTEN:{ContainerPort},reuseaddr", $"SYSTEM:echo {greeting}" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (!pod.Exec("ss", "-Hltn", $"sport = :{ContainerPort}").Contains($":{ContainerPort}", StringComparison.Ordinal))
            {
                Assert.True(DateTime.UtcNow < deadline, $"socat never listened on port {ContainerPort} in {pod.Name}");
                Thread.Sleep(20);
            }
            var reply = Shell.Run("ip", ["netns", "exec", client.Name, "socat", "-T", "5", "-", $"TCP:{NodeAddress}:{HostPort}"],
                standardInput: "");
            Assert.True(reply.StandardOutput.Contains(greeting, StringComparison.Ordinal),
                $"{ClientAddress} -> {NodeAddress}:{HostPort} did not reach the pod's listener: {Describe("socat", reply)}");
        }
        finally
        {
            if (!listener.HasExited) listener.Kill(entireProcessTree: true);
            listener.WaitForExit();
        }
    }

    private static string Describe(string what, CommandResult result) =>
        $"{what} exited {result.ExitCode}: stdout {result.StandardOutput.Trim()} stderr {result.StandardError.Trim()}";
}
