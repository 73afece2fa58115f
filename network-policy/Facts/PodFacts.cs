using System.Net;

namespace Trellis.NetworkPolicy.Facts;

/// <summary>A containerPort that has a name, the only kind a policy can refer to by name.</summary>
public sealed record NamedContainerPort(string Name, TransportProtocol Protocol, int Port);

/// <summary>
/// A pod on the pod network that a policy can select or allow: not host-networked, not finished,
/// holding at least one address.
/// </summary>
public sealed record PodFacts(
    string Namespace,
    string Name,
    IReadOnlyDictionary<string, string> Labels,
    string NodeName,
    IReadOnlyList<IPAddress> Addresses,
    IReadOnlyList<NamedContainerPort> NamedPorts)
{
    public string Key => $"{Namespace}/{Name}";

    /// <summary>The port number this pod gives <paramref name="name"/> for <paramref name="protocol"/>, if it declares one.</summary>
    public int? Resolve(string name, TransportProtocol protocol) =>
        NamedPorts.FirstOrDefault(p => p.Name == name && p.Protocol == protocol)?.Port;
}
