using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Trellis.Bgp.Speaker;

/// <summary>How the speaker runs (as opposed to what it announces, <see cref="BgpConfiguration"/>).</summary>
public sealed record BgpSpeakerOptions
{
    /// <summary>The port peers connect to; 0 listens nowhere and only connects out.</summary>
    public ushort ListenPort { get; init; } = BgpPeer.DefaultPort;

    /// <summary>Makes every socket; tests pass one that opens them inside a network namespace.</summary>
    public Func<AddressFamily, Socket> SocketFactory { get; init; } = family => new Socket(family, SocketType.Stream, ProtocolType.Tcp);

    public TimeSpan ConnectRetryMinimum { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan ConnectRetryMaximum { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan OpenHoldTime { get; init; } = TimeSpan.FromMinutes(4);

    public TimeProvider Time { get; init; } = TimeProvider.System;

    public ILogger Logger { get; init; } = NullLogger.Instance;

    internal static IPAddress Unmapped(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
