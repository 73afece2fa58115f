using Trellis.Cni.Config;
using Trellis.Cni.Environment;
using Trellis.Cni.Ipam;
using Trellis.Cni.Spec;
using Trellis.Cni.Wiring;
using Trellis.Ipam;
using Trellis.Netlink;

namespace Trellis.Cni.Commands;

/// <summary>CHECK: the pod still has what ADD reported in prevResult: its interface, addresses, routes, allocations and its marked host veth.</summary>
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
        using var podNamespace = PodNamespace.Open(netnsPath);
        var owner = env.Attachment;

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

        var records = Reservations.Io(() => AllocationStore.ReadAllocations(config.Ipam.DataDir, config.Name))
            .Where(a => a.Owner == owner).ToList();
        foreach (var address in expected)
            if (!records.Any(r => r.Address.Equals(address.Address.Address)))
                throw Failed($"address {address.Address.Address} is not allocated to {owner} in network {config.Name}");

        using (var pod = podNamespace.Inside(NetlinkHandle.Open))
            if (PodInterface.Problem(pod, netnsPath, env.IfName, expected) is string problem)
                throw Failed(problem);

        // The format-0 plugin marked no link; its pods pass on their name alone until they are made anew.
        bool legacy = records.Any(r => r.Record!.IsLegacy);
        using var host = NetlinkHandle.Open();
        var hostEnd = HostInterface.Names(owner).Select(host.FindLink).OfType<Link>().FirstOrDefault(l => HostInterface.IsMarkOf(l.Alias, owner))
            ?? (legacy && host.FindLink(HostInterface.LegacyName(owner)) is { Alias: null } unmarked ? unmarked : null)
            ?? throw Failed($"no host veth marked as the link of {owner} (looked for {HostInterface.Name(owner, 0)} and its other names)");
        var hostName = hostEnd.Name;
        var bridge = host.FindLink(config.Bridge);
        if (bridge is null || hostEnd.MasterIndex != bridge.Index)
            throw Failed($"host veth {hostName} is not attached to bridge {config.Bridge}");
    }

    private static CniException Failed(string message) => new(CniErrorCode.Internal, message);
}
