using System.Text.RegularExpressions;
using Trellis.Cni.Spec;
using Trellis.Testing;
using Xunit;

namespace Trellis.Cni.Tests;

/// <summary>
/// Issue 8, defect 13, on the data directory: a symbolic link planted in it is never followed
/// (the fixed staging file "reserving" used to be opened with O_CREAT|O_TRUNC through any link),
/// and an error reads as a sentence naming the file, not as a resource key ("IO_FileExists_Name")
/// as it did while the plugin was built with UseSystemResourceKeys.
/// </summary>
public sealed partial class DataDirectoryTests
{
    [Theory]
    [InlineData("reserving")]
    [InlineData("lock")]
    [InlineData("last_reserved_ip.0")]
    [InlineData("10.244.1.2")]
    [InlineData("the network's directory")]
    public void ASymbolicLinkInTheDataDirectoryIsNeverFollowed(string planted)
    {
        using var node = new PluginNode();
        using var pod = NetworkNamespace.Create("pod");
        using var elsewhere = new TemporaryDirectory();
        var precious = Path.Combine(elsewhere.Path, "precious");
        File.WriteAllText(precious, "keep me");
        var link = planted == "the network's directory" ? node.StoreDir : Path.Combine(node.StoreDir, planted);
        Directory.CreateDirectory(node.StoreDir);
        if (planted == "the network's directory")
        {
            Directory.Delete(node.StoreDir);
            Directory.CreateSymbolicLink(link, elsewhere.Path);
        }
        else
        {
            File.CreateSymbolicLink(link, precious);
        }

        var run = node.Add("c1", pod, node.Config());
        if (run.ExitCode == 0)
        {
            // A link named as an address keeps that address taken, without being read.
            Assert.Equal([planted == "10.244.1.2" ? "10.244.1.3/24" : "10.244.1.2/24"], run.Addresses());
            node.Del("c1", pod.Path, node.Config()).Succeeded();
        }
        else
        {
            var message = run.FailedWith(CniErrorCode.IoFailure);
            Assert.Contains(link, message);
            Assert.Contains("symbolic link", message);
            Assert.Equal(["lo"], PluginNode.LinkNamesIn(pod));
        }
        Assert.Equal("keep me", File.ReadAllText(precious));
        Assert.Equal(["precious"], Directory.EnumerateFileSystemEntries(elsewhere.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void AFileWhereTheStoreShouldBeIsASentenceNamingIt()
    {
        using var node = new PluginNode();
        using var pod = NetworkNamespace.Create("pod");
        File.WriteAllText(node.StoreDir, "a file, not a directory");
        var run = node.Add("c1", pod, node.Config());
        var message = run.FailedWith(CniErrorCode.IoFailure);
        Assert.Equal($"cannot open the allocation store {node.StoreDir}: open {node.StoreDir}: Not a directory (ENOTDIR)", message);
        AssertNoResourceKeys(run);
        Assert.Equal(["lo"], PluginNode.LinkNamesIn(pod));
    }

    [Fact]
    public void ConfigurationErrorsFromTheJsonReaderAreSentencesToo()
    {
        using var node = new PluginNode();
        using var pod = NetworkNamespace.Create("pod");
        var run = node.Add("c1", pod, """{"cniVersion":"1.0.0","name":""");
        run.FailedWith(CniErrorCode.DecodingFailure);
        Assert.Matches("[a-z]+ [a-z]+ [a-z]+", (string)run.Json["details"]!);
        AssertNoResourceKeys(run);
    }

    /// <summary>
    /// What a text looks like when the runtime kept only resource keys: "IO_FileExists_Name, /path",
    /// "ZeroDepthAtEnd,  LineNumber: 0" (both seen from the plugin at d1203ea).
    /// </summary>
    private static void AssertNoResourceKeys(PluginRun run)
    {
        foreach (var field in new[] { "msg", "details" })
        {
            if (run.Json[field] is not { } node) continue;
            var text = (string)node!;
            Assert.False(LeadingKey().IsMatch(text) || EmbeddedKey().IsMatch(text), $"{field} reads as a resource key: {text}");
        }
    }

    [GeneratedRegex(@"^[A-Za-z]+(_[A-Za-z]+)*,")]
    private static partial Regex LeadingKey();

    [GeneratedRegex(@"\b[A-Z][A-Za-z]*_[A-Z][a-z]\w*_\w+\b")]
    private static partial Regex EmbeddedKey();
}
