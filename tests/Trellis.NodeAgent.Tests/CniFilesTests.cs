using Trellis.Ipam;
using Trellis.NodeAgent.Cni;
using Trellis.NodeAgent.Planning;
using static Trellis.NodeAgent.Tests.Planning.SubnetBuilder;

namespace Trellis.NodeAgent.Tests;

public sealed class CniFilesTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("trellis-agent-test").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Conflist_is_written_once_and_rewritten_only_on_change()
    {
        var writer = new ConflistWriter(Path.Combine(_directory, "net.d"));
        var plan = Plan("node1", Classic()).Cni;

        Assert.True(writer.Write(plan));
        var written = File.GetLastWriteTimeUtc(writer.PathName);
        Assert.False(writer.Write(plan));
        Assert.Equal(CniConflist.Render(plan), File.ReadAllText(writer.PathName));
        Assert.Equal(written, File.GetLastWriteTimeUtc(writer.PathName));
        Assert.True(writer.Write(plan with { Mtu = 1400 }));
        Assert.Single(Directory.GetFiles(Path.Combine(_directory, "net.d")));
    }

    [Fact]
    public void Plugin_is_installed_executable_and_only_when_it_differs()
    {
        var source = Path.Combine(_directory, "trellis-cni-source");
        File.WriteAllText(source, "v1");
        var installer = new PluginInstaller(source, Path.Combine(_directory, "bin"));

        Assert.True(installer.Install());
        Assert.False(installer.Install());
        Assert.True(OperatingSystem.IsLinux() && File.GetUnixFileMode(installer.Target).HasFlag(UnixFileMode.UserExecute));
        File.WriteAllText(source, "v2");
        Assert.True(installer.Install());
        Assert.Equal("v2", File.ReadAllText(installer.Target));
    }

    /// <summary>install-cni, the init container: every plugin of the image's directory, each only when it differs.</summary>
    [Fact]
    public void Install_cni_copies_every_plugin_of_the_directory_and_only_what_changed()
    {
        var plugins = Path.Combine(_directory, "plugins");
        Directory.CreateDirectory(plugins);
        File.WriteAllText(Path.Combine(plugins, "trellis-cni"), "cni");
        File.WriteAllText(Path.Combine(plugins, "portmap"), "portmap");
        var bin = Path.Combine(_directory, "bin");

        Assert.Equal(["portmap", "trellis-cni"], PluginDirectoryInstaller.Install(plugins, bin));
        Assert.Empty(PluginDirectoryInstaller.Install(plugins, bin));
        File.WriteAllText(Path.Combine(plugins, "portmap"), "portmap 2");
        Assert.Equal(["portmap"], PluginDirectoryInstaller.Install(plugins, bin));
        Assert.Equal("portmap 2", File.ReadAllText(Path.Combine(bin, "portmap")));
        // The agent's own installer then finds its plugin in place and writes nothing (its container mounts bin read-only).
        Assert.False(new PluginInstaller(Path.Combine(plugins, "trellis-cni"), bin).Install());
    }

    [Fact]
    public void Missing_plugin_source_is_an_error_naming_the_file()
    {
        var installer = new PluginInstaller(Path.Combine(_directory, "absent"), Path.Combine(_directory, "bin"));
        var error = Assert.Throws<IOException>(() => installer.Install());
        Assert.Contains("absent", error.Message);
    }

    [Fact]
    public void Addresses_in_use_are_the_allocation_files_inside_the_node_blocks()
    {
        var network = Path.Combine(_directory, "ipam", NodeContract.NetworkName);
        Directory.CreateDirectory(network);
        foreach (var name in new[] { "10.244.1.2", "10.244.1.3", "10.244.9.9", "last_reserved_ip.0", "lock", "1" })
            File.WriteAllText(Path.Combine(network, name), "x");
        var blocks = Plan("node1", Classic()).Cni.RangeSets.SelectMany(s => s).ToList();

        Assert.Equal(2, IpamUsage.InUseByBlock(Path.Combine(_directory, "ipam"), blocks).Sum());
        Assert.Equal(0, IpamUsage.InUseByBlock(Path.Combine(_directory, "nothing"), blocks).Sum());
    }
}
