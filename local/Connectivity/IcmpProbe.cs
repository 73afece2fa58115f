using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Trellis.Netlink;

namespace Trellis.Local.Connectivity;

/// <summary>
/// ICMP echo from inside a network namespace, without a ping process per pair: the raw socket
/// is opened on a thread that has entered the namespace and stays bound to it afterwards.
/// </summary>
public sealed class IcmpProbe : IDisposable
{
    private static int s_identifier = Environment.ProcessId & 0xffff;
    private readonly Socket _v4;
    private readonly Socket _v6;
    private readonly ushort _identifier;

    private IcmpProbe(Socket v4, Socket v6)
    {
        _v4 = v4;
        _v6 = v6;
        _identifier = (ushort)Interlocked.Increment(ref s_identifier);
    }

    public static IcmpProbe OpenIn(string namespacePath) =>
        NetworkNamespaceRunner.Run(namespacePath, () => new IcmpProbe(
            new Socket(AddressFamily.InterNetwork, SocketType.Raw, ProtocolType.Icmp),
            new Socket(AddressFamily.InterNetworkV6, SocketType.Raw, ProtocolType.IcmpV6)));

    /// <summary>True when <paramref name="target"/> answers one of <paramref name="attempts"/> echo requests.</summary>
    public bool Ping(IPAddress target, TimeSpan timeout, int attempts = 3)
    {
        for (ushort sequence = 1; sequence <= attempts; sequence++)
            if (EchoOnce(target, sequence, timeout)) return true;
        return false;
    }

    private bool EchoOnce(IPAddress target, ushort sequence, TimeSpan timeout)
    {
        bool v6 = target.AddressFamily == AddressFamily.InterNetworkV6;
        var socket = v6 ? _v6 : _v4;
        Span<byte> request = stackalloc byte[16];
        request[0] = v6 ? (byte)128 : (byte)8;
        BinaryPrimitives.WriteUInt16BigEndian(request[4..], _identifier);
        BinaryPrimitives.WriteUInt16BigEndian(request[6..], sequence);
        "trellis!"u8.CopyTo(request[8..]);
        if (!v6) BinaryPrimitives.WriteUInt16BigEndian(request[2..], Checksum(request));
        socket.SendTo(request, new IPEndPoint(target, 0));

        var deadline = DateTime.UtcNow + timeout;
        var buffer = new byte[1500];
        while (DateTime.UtcNow < deadline)
        {
            int waitMicros = (int)Math.Max(1, (deadline - DateTime.UtcNow).TotalMicroseconds);
            if (!socket.Poll(waitMicros, SelectMode.SelectRead)) break;
            EndPoint from = new IPEndPoint(v6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
            int length = socket.ReceiveFrom(buffer, ref from);
            // IPv4 raw sockets deliver the IP header; IPv6 ones do not.
            int offset = v6 ? 0 : (buffer[0] & 0x0f) * 4;
            if (length < offset + 8) continue;
            var reply = buffer.AsSpan(offset, length - offset);
            if (reply[0] == (v6 ? 129 : 0) &&
                BinaryPrimitives.ReadUInt16BigEndian(reply[4..]) == _identifier &&
                BinaryPrimitives.ReadUInt16BigEndian(reply[6..]) == sequence &&
                ((IPEndPoint)from).Address.Equals(target))
                return true;
        }
        return false;
    }

    private static ushort Checksum(ReadOnlySpan<byte> data)
    {
        uint sum = 0;
        for (int i = 0; i + 1 < data.Length; i += 2) sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        if (data.Length % 2 == 1) sum += (uint)data[^1] << 8;
        while (sum >> 16 != 0) sum = (sum & 0xffff) + (sum >> 16);
        return (ushort)~sum;
    }

    public void Dispose()
    {
        _v4.Dispose();
        _v6.Dispose();
    }
}
