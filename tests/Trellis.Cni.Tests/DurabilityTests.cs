using System.Text.RegularExpressions;
using Trellis.Testing;
using Xunit;

namespace Trellis.Cni.Tests;

/// <summary>
/// Issue 8, defect 7: allocation records must survive a power cut. A cut cannot be staged in a
/// test, so the order of system calls that makes a record durable is checked in strace's own
/// words: each record's data is synced before the record is linked into place under its
/// address, and the store's directory is synced after the link and before the pod is wired,
/// so no pod carries an address whose record a power cut could take away.
/// </summary>
public sealed partial class DurabilityTests
{
    [Fact]
    public void ARecordIsSyncedBeforeItIsLinkedAndItsDirectoryAfterAndBeforeThePodIsWired()
    {
        using var node = new PluginNode();
        using var pod = NetworkNamespace.Create("pod");
        var config = node.Config("""[[{"subnet":"10.244.1.0/24"}],[{"subnet":"fd00:10:244:1::/64"}]]""");
        var calls = SyscallInjection.Enumerate(node.Namespace.Path, PluginNode.Environment("ADD", "durable", pod.Path), config)
            .Select(c => c.Line).ToList();
        node.Del("durable", pod.Path, config).Succeeded();

        var links = calls.Select((line, index) => (line, index)).Where(c => LinkIntoStore().IsMatch(c.line)).ToList();
        Assert.True(links.Count == 2, $"expected one record linked per family, saw:\n{string.Join("\n", links.Select(l => l.line))}");
        var firstVeth = calls.FindIndex(line => line.Contains("RTM_NEWLINK", StringComparison.Ordinal) && line.Contains("NLM_F_CREATE", StringComparison.Ordinal));
        Assert.True(firstVeth > 0, "no veth was created");

        foreach (var (line, index) in links)
        {
            var link = LinkIntoStore().Match(line);
            // The linked file is an open descriptor (linkat through /proc/self/fd/N) or a staged path (link(2)).
            var source = link.Groups["fd"].Success ? $@"{link.Groups["fd"].Value}<" : $@"\d+<{Regex.Escape(link.Groups["path"].Value)}>";
            var lastWrite = calls.FindLastIndex(index, c => Regex.IsMatch(c, $@"^\d+ +p?write(64)?\({source}"));
            var sync = calls.FindLastIndex(index, c => Regex.IsMatch(c, $@"^\d+ +f(data)?sync\({source}"));
            Assert.True(lastWrite >= 0, $"no write of the record linked by\n{line}");
            Assert.True(sync > lastWrite, $"the record linked by\n{line}\nwas not synced after it was written");
            var directorySync = calls.FindIndex(index, c => c.Contains("fsync(", StringComparison.Ordinal) && c.Contains($"<{node.StoreDir}>)", StringComparison.Ordinal));
            Assert.True(directorySync > index && directorySync < firstVeth, $"the store's directory was not synced between\n{line}\nand the first veth");
        }
    }

    /// <summary>A file given an address name in the store: linkat of an open file, or link(2) of a staged path.</summary>
    [GeneratedRegex(@" (linkat\(AT_FDCWD<[^>]*>, ""/proc/self/fd/(?<fd>\d+)"", \d+<[^>]*>, ""[0-9a-f.:]+""|link\(""(?<path>[^""]+)"", ""[^""]*/[0-9a-f.:]+""\))")]
    private static partial Regex LinkIntoStore();
}
