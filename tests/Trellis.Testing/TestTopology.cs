namespace Trellis.Testing;

/// <summary>An L2 segment: a namespace holding the bridge "br0" that node and router legs plug into.</summary>
public sealed record Segment(NetworkNamespace Namespace, string? BridgeAddress);

/// <summary>
/// Builds a world of namespaces for end-to-end tests: underlay segments (a bridge each), nodes
/// and routers plugged into them by veths, and bare namespaces for pods. Every veth is made
/// inside a test namespace; nothing touches the root namespace. Disposing removes everything,
/// newest first (processes left inside are killed by <see cref="NetworkNamespace"/>).
/// </summary>
public sealed class TestTopology : IDisposable
{
    private readonly List<NetworkNamespace> _namespaces = [];
    private int _legs;

    public NetworkNamespace Namespace(string purpose)
    {
        var ns = NetworkNamespace.Create(purpose);
        _namespaces.Add(ns);
        return ns;
    }

    /// <param name="bridgeAddress">An address for the bridge itself ("192.168.1.1/24"), making the segment's namespace a host on it.</param>
    public Segment AddSegment(string purpose, string? bridgeAddress = null)
    {
        var ns = Namespace(purpose);
        ns.Exec("ip", "link", "add", "br0", "type", "bridge");
        ns.Exec("ip", "link", "set", "br0", "up");
        if (bridgeAddress is not null) ns.Exec("ip", "addr", "add", bridgeAddress, "dev", "br0");
        return new Segment(ns, bridgeAddress);
    }

    /// <summary>Plugs <paramref name="host"/> into <paramref name="segment"/> as <paramref name="interfaceName"/> with <paramref name="address"/>.</summary>
    public void Attach(NetworkNamespace host, Segment segment, string address, string interfaceName = "eth0")
    {
        var leg = $"leg{Interlocked.Increment(ref _legs)}";
        host.Exec("ip", "link", "add", interfaceName, "type", "veth", "peer", "name", leg, "netns", segment.Namespace.Name);
        segment.Namespace.Exec("ip", "link", "set", leg, "master", "br0");
        segment.Namespace.Exec("ip", "link", "set", leg, "up");
        host.Exec("ip", "addr", "add", address, "dev", interfaceName);
        host.Exec("ip", "link", "set", interfaceName, "up");
    }

    /// <summary>A node namespace on <paramref name="segment"/>; <paramref name="gateway"/> becomes its default route.</summary>
    public NetworkNamespace AddNode(string purpose, Segment segment, string address, string? gateway = null)
    {
        var node = Namespace(purpose);
        Attach(node, segment, address);
        if (gateway is not null) node.Exec("ip", "route", "add", "default", "via", gateway);
        return node;
    }

    /// <summary>A router namespace with one leg per segment, forwarding between them.</summary>
    public NetworkNamespace AddRouter(string purpose, params (Segment Segment, string Address)[] legs)
    {
        var router = Namespace(purpose);
        for (int i = 0; i < legs.Length; i++)
            Attach(router, legs[i].Segment, legs[i].Address, $"eth{i}");
        router.Exec("sysctl", "-qw", "net.ipv4.ip_forward=1");
        return router;
    }

    public void Dispose()
    {
        for (int i = _namespaces.Count - 1; i >= 0; i--) _namespaces[i].Dispose();
        _namespaces.Clear();
    }
}
