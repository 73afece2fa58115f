using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace Trellis.Bgp.Speaker;

/// <summary>
/// TCP MD5 signatures (RFC 2385) through Linux's TCP_MD5SIG socket option: a key per peer
/// address, on the listening socket and on each outgoing one before it connects.
/// </summary>
public static class TcpMd5
{
    public const int MaxKeyLength = 80;
    private const int IpProtoTcp = 6;
    private const int TcpMd5Sig = 14;
    private const int SockaddrStorageSize = 128;
    private const ushort AfInet = 2;
    private const ushort AfInet6 = 10;

    /// <summary>Sets (or with a null password removes) the key for <paramref name="peer"/> on <paramref name="socket"/>.</summary>
    public static void SetKey(Socket socket, IPAddress peer, string? password)
    {
        var key = password is null ? [] : Encoding.UTF8.GetBytes(password);
        if (key.Length > MaxKeyLength) throw new ArgumentException($"a TCP MD5 key holds at most {MaxKeyLength} octets", nameof(password));
        // struct tcp_md5sig { sockaddr_storage addr; u8 flags, prefixlen; u16 keylen; int ifindex; u8 key[80]; }
        var option = new byte[SockaddrStorageSize + 8 + MaxKeyLength];
        var address = socket.AddressFamily == AddressFamily.InterNetworkV6 && peer.AddressFamily == AddressFamily.InterNetwork
            ? peer.MapToIPv6()
            : peer;
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            MemoryMarshal.Write(option, AfInet);
            address.GetAddressBytes().CopyTo(option, 4);
        }
        else
        {
            MemoryMarshal.Write(option, AfInet6);
            address.GetAddressBytes().CopyTo(option, 8);
        }
        MemoryMarshal.Write(option.AsSpan(SockaddrStorageSize + 2), (ushort)key.Length);
        key.CopyTo(option, SockaddrStorageSize + 8);
        try
        {
            socket.SetRawSocketOption(IpProtoTcp, TcpMd5Sig, option);
        }
        catch (SocketException error) when (password is null && error.SocketErrorCode == SocketError.AddressNotAvailable)
        {
            // Removing a key that was never set.
        }
        catch (SocketException error)
        {
            throw new InvalidOperationException($"set the TCP MD5 key for {peer}: {error.Message}", error);
        }
    }
}
