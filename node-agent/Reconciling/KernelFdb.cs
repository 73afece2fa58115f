using System.Net;
using Trellis.NodeAgent.Planning;

namespace Trellis.NodeAgent.Reconciling;

/// <summary>A forwarding entry on the vxlan device: frames for <see cref="Mac"/> go to <see cref="Destination"/>.</summary>
public sealed record KernelFdb(MacAddress Mac, IPAddress? Destination);
