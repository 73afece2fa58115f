using System.Text.RegularExpressions;
using Trellis.NetworkPolicy.Applying;
using Trellis.NetworkPolicy.Ruleset;
using Trellis.NetworkPolicy.Tests.Model;
using static Trellis.NetworkPolicy.Tests.Model.PolicyObjects;

namespace Trellis.NetworkPolicy.Tests.Kernel;

/// <summary>
/// nft killed at every netlink call it makes (strace's fault injection), during a replacement
/// and during element changes: the kernel must hold the old table or the new one, never a mix,
/// and a writer must then bring it to the new one.
/// </summary>
[Collection(PolicyLabCollection.Name)]
public sealed partial class KilledNftTests(PolicyLabFixture fixture, Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly string[] NetlinkCalls = ["sendmsg", "sendto", "recvmsg"];
    private const int MostCallsTried = 40;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task NftKilledAtAnyNetlinkCallLeavesTheOldOrTheNewTable(bool structureChanges)
    {
        var lab = fixture.Lab;
        var state = lab.State;
        UpstreamModel.Reset(state);
        lab.Forget();
        state.Apply(Policy("x", "from-b", Labels(("pod", "a")), ingress: [From([Pods(Labels(("pod", "b")))])]));
        var node = state.Pod("x/a").Node;
        var old = lab.Enforce()[node].Compiled.Table;
        if (structureChanges) state.Apply(Policy("x", "deny-egress", Empty, egress: []));
        else state.Pod("x/c").Labels["pod"] = "b";
        var next = state.Compile(node).Table;
        Assert.Equal(structureChanges, PolicyTableScript.ElementChanges(old, next) is null);

        string Listing() => Counters().Replace(lab.Nodes[node].Exec("nft", "list", "table", "inet", old.Name), "");
        var oldListing = Listing();
        new PolicyTableWriter(lab.NftIn(node)).Write(next);
        var nextListing = Listing();
        Assert.NotEqual(oldListing, nextListing);

        int kills = 0;
        foreach (var call in NetlinkCalls)
            for (int n = 1; n <= MostCallsTried; n++)
            {
                new PolicyTableWriter(lab.NftIn(node)).Write(old);
                Assert.True(oldListing == Listing(), $"OLD:\n{oldListing}\nNOW:\n{Listing()}");
                // A writer that remembers the old table tries the smallest change, and is killed.
                var doomed = new PolicyTableWriter(new NftCommand(["strace", "-f", "-o", "/dev/null", "-e", $"inject={call}:signal=KILL:when={n}",
                    "ip", "netns", "exec", lab.Nodes[node].Name, "nft"]));
                doomed.Remember(old);
                bool killed = false;
                try
                {
                    doomed.Write(next);
                }
                catch (NftablesException)
                {
                    killed = true;
                    kills++;
                }
                var listing = Listing();
                Assert.True(listing == oldListing || listing == nextListing, $"nft killed at {call} #{n} left a table that is neither:\n{listing}");
                Assert.True(killed || listing == nextListing);
                // Whatever is left, a writer that knows nothing of it makes it the new table.
                new PolicyTableWriter(lab.NftIn(node)).Write(next);
                Assert.Equal(nextListing, Listing());
                if (!killed)
                {
                    output.WriteLine($"{call}: nft finished once no call before #{n} was killed");
                    break;
                }
            }
        lab.Forget();
        Assert.True(kills >= 3, $"only {kills} runs were killed: the injection did not reach nft");
        await Task.CompletedTask;
    }

    [GeneratedRegex(@"packets \d+ bytes \d+")]
    private static partial Regex Counters();
}
