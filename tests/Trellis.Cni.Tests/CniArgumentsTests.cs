using Trellis.Cni.Environment;
using Trellis.Cni.Spec;
using Trellis.Ipam;
using Xunit;

namespace Trellis.Cni.Tests;

/// <summary>CNI_ARGS as libcni reads it, and the pod it names (issue 12: every allocation knows its pod).</summary>
public sealed class CniArgumentsTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("IgnoreUnknown=1")]
    [InlineData("IgnoreUnknown=1;FOO=bar")]
    [InlineData("K8S_POD_NAMESPACE=;K8S_POD_NAME=")]
    [InlineData("K8S_POD_INFRA_CONTAINER_ID=0123abc")]
    public void NoPodIsNamed(string? text) => Assert.Null(CniArguments.Parse(text));

    [Fact]
    public void WhatContainerdSendsNamesThePod() =>
        Assert.Equal(new PodIdentity("kube-system", "coredns-7db6d8ff4d-x2xzn", "8f1c6a2e-1b7d-4a55-9c1e-2f0d3b4a5c6d"), CniArguments.Parse(
            "IgnoreUnknown=1;K8S_POD_NAMESPACE=kube-system;K8S_POD_NAME=coredns-7db6d8ff4d-x2xzn;" +
            "K8S_POD_INFRA_CONTAINER_ID=9a1b2c3d4e5f;K8S_POD_UID=8f1c6a2e-1b7d-4a55-9c1e-2f0d3b4a5c6d"));

    [Theory]
    [InlineData("K8S_POD_NAME=web", null, "web", null)]
    [InlineData("K8S_POD_NAMESPACE=default", "default", null, null)]
    [InlineData("K8S_POD_UID=d41d8cd98f00b204e9800998ecf8427e", null, null, "d41d8cd98f00b204e9800998ecf8427e")]
    [InlineData("IgnoreUnknown=true;K8S_POD_NAME=a.b-c.d", null, "a.b-c.d", null)]
    [InlineData("IgnoreUnknown=TRUE;X=1;K8S_POD_NAME=x", null, "x", null)]
    public void EachPartIsOptional(string text, string? ns, string? name, string? uid) =>
        Assert.Equal(new PodIdentity(ns, name, uid), CniArguments.Parse(text));

    [Fact]
    public void APodNameMayBeOneLongPartAsKubernetesAllows()
    {
        // A DNS-1123 subdomain limits the whole to 253 characters, not each dot-separated part to 63 as a label would.
        var longest = "l" + new string('o', 251) + "g";
        Assert.Equal(longest, CniArguments.Parse($"K8S_POD_NAME={longest}").Name);
        Assert.Throws<CniException>(() => CniArguments.Parse($"K8S_POD_NAME={longest}x"));
    }

    [Theory]
    [InlineData("junk", "not a KEY=VALUE pair")]
    [InlineData("K8S_POD_NAME=a=b", "not a KEY=VALUE pair")]
    [InlineData("K8S_POD_NAME=web;", "not a KEY=VALUE pair")]
    [InlineData(";K8S_POD_NAME=web", "not a KEY=VALUE pair")]
    [InlineData("=web", "not a KEY=VALUE pair")]
    [InlineData("K8S POD=web", "may hold only letters")]
    [InlineData("K8S_POD_NAME=a;K8S_POD_NAME=b", "given twice")]
    [InlineData("FOO=bar", "unknown key FOO")]
    [InlineData("IgnoreUnknown=0;FOO=bar", "unknown key FOO")]
    [InlineData("IgnoreUnknown=maybe", "neither true nor false")]
    [InlineData("K8S_POD_NAME=../../etc/passwd", "not a pod name")]
    [InlineData("K8S_POD_NAME=Web", "not a pod name")]
    [InlineData("K8S_POD_NAME=web/1", "not a pod name")]
    [InlineData("K8S_POD_NAME=-web", "not a pod name")]
    [InlineData("K8S_POD_NAME=web..1", "not a pod name")]
    [InlineData("K8S_POD_NAME=web\n1", "not a pod name")]
    [InlineData("K8S_POD_NAMESPACE=..", "not a namespace name")]
    [InlineData("K8S_POD_NAMESPACE=a.b", "not a namespace name")]
    [InlineData("K8S_POD_NAMESPACE=kube_system", "not a namespace name")]
    [InlineData("K8S_POD_UID=../x", "not a pod UID")]
    [InlineData("K8S_POD_UID=a b", "not a pod UID")]
    public void JunkAndPathTricksAreCode4AndNamed(string text, string expected)
    {
        var error = Assert.Throws<CniException>(() => CniArguments.Parse(text));
        Assert.Equal(CniErrorCode.InvalidEnvironment, error.Code);
        Assert.StartsWith("CNI_ARGS: ", error.Message);
        Assert.Contains(expected, error.Message);
        Assert.DoesNotContain("\n", error.Message);
    }

    [Fact]
    public void LengthsAreBoundedAsKubernetesBoundsThem()
    {
        Assert.NotNull(CniArguments.Parse($"K8S_POD_NAMESPACE={new string('a', 63)}"));
        Assert.Contains("longer than 63", Assert.Throws<CniException>(() => CniArguments.Parse($"K8S_POD_NAMESPACE={new string('a', 64)}")).Message);
        var longName = string.Join('.', Enumerable.Repeat(new string('a', 63), 4))[..253];
        Assert.NotNull(CniArguments.Parse($"K8S_POD_NAME={longName}"));
        Assert.Contains("longer than 253", Assert.Throws<CniException>(() => CniArguments.Parse($"K8S_POD_NAME={longName}a")).Message);
        Assert.Contains("longer than 128", Assert.Throws<CniException>(() => CniArguments.Parse($"K8S_POD_UID={new string('a', 129)}")).Message);
    }
}
