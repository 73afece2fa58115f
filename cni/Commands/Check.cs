using System.Net;
using Trellis.Cni.Config;
using Trellis.Cni.Environment;
using Trellis.Cni.Ipam;
using Trellis.Cni.Spec;
using Trellis.Cni.Wiring;
using Trellis.Netlink;

namespace Trellis.Cni.Commands;

/// <summary>CHECK: the pod still has what ADD reported in prevResult: its interface, addresses, routes and allocations.</summary>
public static class Check
{
    public static void Run(CniEnvironment env, NetworkConfig config)
    {
        if (!config.CniVersion.AllowsCheck)
            throw new CniException(CniErrorCode.IncompatibleVersion, $"CHECK needs cniVersion 0.4.0 or later, the configuration has {config.CniVersion}");
        if (config.PrevResult is null)
            throw new CniException(CniErrorCode.InvalidConfig, "CHECK needs prevResult, the result of ADD");
        var previous = ResultJson.Read(config.PrevResult);
        var netnsPath = env.NetworkNamespace!;

        int podIndex = -1;
        for (int i = 0; i < previous.Interfaces.Count; i++)
            if (previous.Interfaces[i].Name == env.IfName && previous.Interfaces[i].Sandbox == netnsPath) podIndex = i;
        if (podIndex < 0)
            throw Failed($"prevResult has no interface {env.IfName} in {netnsPath}");

        var expected = new List<PodAddress>();
        foreach (var ip in previous.Ips.Where(ip => ip.Interface == podIndex))
        {
            var gateway = ip.Gateway ?? config.Ipam.RangeSets.Select(s => s.RangeOf(ip.Address.Address)).OfType<AddressRange>().FirstOrDefault()?.Gateway
                ?? throw Failed($"prevResult gives no gateway for {ip.Address} and no configured range holds it");
            expected.Add(new PodAddress(ip.Address, gateway));
        }

        var held = Reservations.HeldBy(config, new Attachment(env.ContainerId, env.IfName));
        foreach (var address in expected)
            if (!held.Contains(address.Address.Address))
                throw Failed($"address {address.Address.Address} is not allocated to container {env.ContainerId} interface {env.IfName} in network {config.Name}");

        if (!File.Exists(netnsPath)) throw Failed($"network namespace {netnsPath} is gone");
        using (var pod = NetlinkHandle.OpenNamespace(netnsPath))
            if (PodInterface.Problem(pod, netnsPath, env.IfName, expected) is string problem)
                throw Failed(problem);

        using (var host = NetlinkHandle.Open())
        {
            var hostName = VethPair.HostName(env.ContainerId, env.IfName);
            if (host.FindLink(hostName) is not Link hostEnd)
                throw Failed($"host veth {hostName} of container {env.ContainerId} is missing");
            var bridge = host.FindLink(config.Bridge);
            if (bridge is null || hostEnd.MasterIndex != bridge.Index)
                throw Failed($"host veth {hostName} is not attached to bridge {config.Bridge}");
        }
    }

    private static CniException Failed(string message) => new(CniErrorCode.Internal, message);
}
