using System.Net;
using Trellis.Local.Connectivity;
using Trellis.Local.Pods;
using Trellis.Testing;
using Xunit;

namespace Trellis.Local.Tests.Pods;

/// <summary>Responders and probes in a real network namespace, on its loopback.</summary>
public sealed class PortRespondersTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(500);
    private readonly NetworkNamespace _pod = NetworkNamespace.Create("responders");

    private Task<ProbeResult> Probe(string address, int port, string protocol) =>
        PodProbe.ProbeAsync(_pod.Path, IPAddress.Parse(address), port, protocol, Timeout, CancellationToken.None);

    [Fact]
    public async Task Every_declared_port_answers_with_the_pods_name_over_both_families()
    {
        var responders = PortResponders.Open(_pod.Path, "x/a", [new(80, "TCP"), new(80, "UDP"), new(81, "TCP"), new(82, "SCTP")]);
        await using (responders)
        {
            foreach (var address in new[] { "127.0.0.1", "::1" })
            {
                Assert.Equal((ProbeOutcome.Answered, "x/a"), ToPair(await Probe(address, 80, "TCP")));
                Assert.Equal((ProbeOutcome.Answered, "x/a"), ToPair(await Probe(address, 80, "UDP")));
                Assert.Equal((ProbeOutcome.Answered, "x/a"), ToPair(await Probe(address, 81, "TCP")));
            }
            Assert.Equal(ProbeOutcome.Refused, (await Probe("127.0.0.1", 9, "TCP")).Outcome);
            Assert.Equal(ProbeOutcome.Refused, (await Probe("127.0.0.1", 9, "UDP")).Outcome);

            var sctp = Assert.Single(responders.Problems);
            Assert.Equal(new ServedPort(82, "SCTP"), sctp.Port);
            Assert.Contains("SCTP is not offered by this kernel", sctp.Reason);
            Assert.Equal(ProbeOutcome.Unsupported, (await Probe("127.0.0.1", 82, "SCTP")).Outcome);
        }
        Assert.Equal(ProbeOutcome.Refused, (await Probe("127.0.0.1", 80, "TCP")).Outcome);
    }

    [Fact]
    public async Task A_dropped_probe_times_out_and_a_port_taken_twice_is_a_problem()
    {
        _pod.Exec("nft", "add table inet t ; add chain inet t in { type filter hook input priority 0 ; } ; add rule inet t in tcp dport 81 drop ; add rule inet t in udp dport 81 drop");
        await using var responders = PortResponders.Open(_pod.Path, "x/a", [new(81, "TCP"), new(81, "UDP")]);
        Assert.Equal(ProbeOutcome.TimedOut, (await Probe("127.0.0.1", 81, "TCP")).Outcome);
        Assert.Equal(ProbeOutcome.TimedOut, (await Probe("127.0.0.1", 81, "UDP")).Outcome);

        await using var second = PortResponders.Open(_pod.Path, "x/b", [new(81, "TCP")]);
        Assert.Contains("cannot listen on 81/TCP", Assert.Single(second.Problems).Reason);
    }

    private static (ProbeOutcome, string) ToPair(ProbeResult result) => (result.Outcome, result.Detail);

    public void Dispose() => _pod.Dispose();
}
