using Trellis.Cni.Environment;
using Trellis.Cni.Spec;
using Trellis.Ipam;
using Xunit;

namespace Trellis.Cni.Tests;

public sealed class CniEnvironmentTests
{
    private static Dictionary<string, string> Add(string id = "abc123", string ifName = "eth0", string netns = "/run/netns/pod") => new()
    {
        ["CNI_COMMAND"] = "ADD",
        ["CNI_CONTAINERID"] = id,
        ["CNI_NETNS"] = netns,
        ["CNI_IFNAME"] = ifName,
        ["CNI_PATH"] = "/opt/cni/bin",
    };

    [Fact]
    public void ReadsAValidAdd()
    {
        var env = CniEnvironment.Parse(Add());
        Assert.Equal(new CniEnvironment(CniCommand.Add, "abc123", "/run/netns/pod", "eth0"), env);
    }

    [Theory]
    [InlineData("VERSION", CniCommand.Version)]
    [InlineData("STATUS", CniCommand.Status)]
    [InlineData("GC", CniCommand.Gc)]
    public void VerbsWithoutAContainerNeedNothingElse(string command, CniCommand expected)
    {
        Assert.Equal(expected, CniEnvironment.Parse(new Dictionary<string, string> { ["CNI_COMMAND"] = command }).Command);
    }

    [Fact]
    public void DelDoesNotNeedTheNetns()
    {
        var env = CniEnvironment.Parse(new Dictionary<string, string> { ["CNI_COMMAND"] = "DEL", ["CNI_CONTAINERID"] = "c", ["CNI_IFNAME"] = "eth0" });
        Assert.Null(env.NetworkNamespace);
    }

    [Theory]
    [InlineData("CNI_COMMAND")]
    [InlineData("CNI_CONTAINERID")]
    [InlineData("CNI_NETNS")]
    [InlineData("CNI_IFNAME")]
    public void MissingVariableIsCode4AndNamed(string variable)
    {
        var env = Add();
        env.Remove(variable);
        var error = Assert.Throws<CniException>(() => CniEnvironment.Parse(env));
        Assert.Equal(CniErrorCode.InvalidEnvironment, error.Code);
        Assert.Contains(variable, error.Message);
    }

    [Theory]
    [InlineData("add")]
    [InlineData("DELETE")]
    [InlineData("UPDATE")]
    public void UnknownCommandIsCode4(string command)
    {
        var env = Add();
        env["CNI_COMMAND"] = command;
        Assert.Equal(CniErrorCode.InvalidEnvironment, Assert.Throws<CniException>(() => CniEnvironment.Parse(env)).Code);
    }

    [Theory]
    [InlineData("../x")]
    [InlineData("/")]
    [InlineData("a/b")]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("-leading-dash")]
    [InlineData("_x")]
    [InlineData("has space")]
    [InlineData("new\nline")]
    [InlineData("é")]
    public void ContainerIdPathTricksAreCode4(string id)
    {
        var error = Assert.Throws<CniException>(() => CniEnvironment.Parse(Add(id: id)));
        Assert.Equal(CniErrorCode.InvalidEnvironment, error.Code);
        Assert.Contains("CNI_CONTAINERID", error.Message);
    }

    [Theory]
    [InlineData("../x")]
    [InlineData("/")]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("eth0/x")]
    [InlineData("a:b")]
    [InlineData("sixteen-bytes-xx")]
    [InlineData("ééééééééé")]
    [InlineData("eth 0")]
    [InlineData("eth\t0")]
    [InlineData("eth%d")]
    public void InterfaceNameTricksAreCode4(string ifName)
    {
        var error = Assert.Throws<CniException>(() => CniEnvironment.Parse(Add(ifName: ifName)));
        Assert.Equal(CniErrorCode.InvalidEnvironment, error.Code);
        Assert.Contains("CNI_IFNAME", error.Message);
    }

    [Fact]
    public void EmptyValuesCountAsMissing()
    {
        Assert.Equal(CniErrorCode.InvalidEnvironment, Assert.Throws<CniException>(() => CniEnvironment.Parse(Add(id: ""))).Code);
        Assert.Equal(CniErrorCode.InvalidEnvironment, Assert.Throws<CniException>(() => CniEnvironment.Parse(Add(ifName: ""))).Code);
    }

    [Theory]
    [InlineData("ADD")]
    [InlineData("CHECK")]
    public void RelativeNetnsIsCode4ForTheVerbsThatUseIt(string command)
    {
        var env = Add(netns: "run/netns/pod");
        env["CNI_COMMAND"] = command;
        var error = Assert.Throws<CniException>(() => CniEnvironment.Parse(env));
        Assert.Equal(CniErrorCode.InvalidEnvironment, error.Code);
        Assert.Contains("CNI_NETNS", error.Message);
    }

    /// <summary>Issue 8, defect 13: DEL refused a relative CNI_NETNS it never needs, and so kept the pod's address.</summary>
    [Theory]
    [InlineData("run/netns/pod")]
    [InlineData("pod")]
    [InlineData("")]
    public void DelTakesAnUnusableNetnsAsNone(string netns)
    {
        var env = Add(netns: netns);
        env["CNI_COMMAND"] = "DEL";
        var parsed = CniEnvironment.Parse(env);
        Assert.Equal(CniCommand.Del, parsed.Command);
        Assert.Null(parsed.NetworkNamespace);
    }

    [Fact]
    public void ContainerIdsLongerThanTheHostInterfaceMarkHoldsAreCode4()
    {
        Assert.Null(CniEnvironment.ContainerIdError(new string('a', HostInterface.MaxContainerIdLength)));
        var error = Assert.Throws<CniException>(() => CniEnvironment.Parse(Add(id: new string('a', HostInterface.MaxContainerIdLength + 1))));
        Assert.Equal(CniErrorCode.InvalidEnvironment, error.Code);
        Assert.Contains("201 characters", error.Message);
    }

    [Fact]
    public void CniArgsNameThePodForAddOnly()
    {
        var env = Add();
        env["CNI_ARGS"] = "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-1;K8S_POD_INFRA_CONTAINER_ID=abc123;K8S_POD_UID=8f1c6a2e-1b7d";
        Assert.Equal(new PodIdentity("default", "web-1", "8f1c6a2e-1b7d"), CniEnvironment.Parse(env).Pod);
        env["CNI_COMMAND"] = "DEL";
        env["CNI_ARGS"] = "junk";
        Assert.Null(CniEnvironment.Parse(env).Pod);
        env["CNI_COMMAND"] = "ADD";
        Assert.Equal(CniErrorCode.InvalidEnvironment, Assert.Throws<CniException>(() => CniEnvironment.Parse(env)).Code);
    }

    [Theory]
    [InlineData("a")]
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    [InlineData("pod_1.test-2")]
    public void AcceptsSpecContainerIds(string id) => Assert.Null(CniEnvironment.ContainerIdError(id));

    [Theory]
    [InlineData("eth0")]
    [InlineData("fifteen-bytes-x")]
    [InlineData("net1")]
    public void AcceptsKernelInterfaceNames(string name) => Assert.Null(CniEnvironment.InterfaceNameError(name, "CNI_IFNAME"));
}
