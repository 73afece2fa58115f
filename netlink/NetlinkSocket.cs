using System.Runtime.InteropServices;
using Trellis.Netlink.Messages;
using Trellis.Linux;

namespace Trellis.Netlink;

/// <summary>Turns one received message into a value, or null to skip it.</summary>
internal delegate T? MessageDecoder<T>(NetlinkMessage message) where T : class;

/// <summary>
/// An AF_NETLINK/NETLINK_ROUTE socket: sequence numbers, acks, multipart dumps and the
/// NLMSG_ERROR → <see cref="NetlinkException"/> translation all live here and nowhere else.
/// Not thread-safe; <see cref="NetlinkHandle"/> serialises access.
/// </summary>
internal sealed unsafe class NetlinkSocket : IDisposable
{
    /// <summary>Large enough that a dump or a pipelined batch of acks never overflows (acks lost to ENOBUFS would hang a batch).</summary>
    private const int ReceiveBufferBytes = 4 << 20;
    private const int DatagramBytes = 64 << 10;
    private const int DumpAttempts = 10;

    // linux/netlink.h: the protocol family, rtnetlink, and the socket options this socket sets.
    private const int AF_NETLINK = 16, NETLINK_ROUTE = 0, SOL_NETLINK = 270, NETLINK_CAP_ACK = 10, NETLINK_EXT_ACK = 11;

    private readonly byte[] _datagram = GC.AllocateUninitializedArray<byte>(DatagramBytes);
    private readonly NetlinkMessageWriter _writer = new();
    private int _fd;
    // Every exchange gets a fresh number so late replies to an abandoned one (a dump cut short
    // by an exception) are recognised and skipped rather than taken for the current answer.
    private uint _sequence;
    private uint _currentSequence;

    private NetlinkSocket(int fd) => _fd = fd;

    public long RequestsSent { get; private set; }

    /// <summary>Opens the socket in the calling thread's network namespace.</summary>
    public static NetlinkSocket OpenInCurrentNamespace(string where)
    {
        int fd = LibC.Socket(AF_NETLINK, LibC.SOCK_RAW | LibC.SOCK_CLOEXEC, NETLINK_ROUTE);
        if (fd < 0) throw new NetlinkException($"open netlink socket in {where}", LibC.LastErrno);
        var socket = new NetlinkSocket(fd);
        if (!socket.TrySetOption(LibC.SOL_SOCKET, LibC.SO_RCVBUFFORCE, ReceiveBufferBytes))
            socket.TrySetOption(LibC.SOL_SOCKET, LibC.SO_RCVBUF, ReceiveBufferBytes);
        // Echo only the header of a failed request, and let the kernel explain itself in text.
        socket.TrySetOption(SOL_NETLINK, NETLINK_CAP_ACK, 1);
        socket.TrySetOption(SOL_NETLINK, NETLINK_EXT_ACK, 1);
        return socket;
    }

    /// <summary>Starts a new single-message request; fill the family struct and attributes, then call a Run method.</summary>
    public NetlinkMessageWriter Begin(ushort type, ushort flags)
    {
        _writer.Clear();
        _currentSequence = ++_sequence;
        _writer.BeginMessage(type, (ushort)(flags | Nlmsg.NLM_F_REQUEST), _currentSequence);
        return _writer;
    }

    /// <summary>Sends the begun request (which must ask for NLM_F_ACK) and waits for its ack; replies before the ack go to <paramref name="visit"/>.</summary>
    public void RunAcknowledged(string operation, Action<NetlinkMessage>? visit = null)
    {
        _writer.EndMessage();
        SendWritten(operation);
        while (true)
        {
            int received = Receive(operation);
            foreach (var message in new NetlinkMessageReader(_datagram.AsSpan(0, received)))
            {
                if (message.Sequence != _currentSequence) continue;
                if (message.Type == Nlmsg.NLMSG_ERROR)
                {
                    var (errno, text) = ParseError(message);
                    if (errno != 0) throw new NetlinkException(operation, errno, text);
                    return;
                }
                visit?.Invoke(message);
            }
        }
    }

    /// <summary>Sends the begun dump request and collects every decoded reply until NLMSG_DONE, restarting when the kernel flags the dump as interrupted.</summary>
    public List<T> RunDump<T>(string operation, MessageDecoder<T> decode) where T : class
    {
        _writer.EndMessage();
        var results = new List<T>();
        for (int attempt = 1; ; attempt++)
        {
            results.Clear();
            SendWritten(operation);
            bool interrupted = false, done = false;
            while (!done)
            {
                int received = Receive(operation);
                foreach (var message in new NetlinkMessageReader(_datagram.AsSpan(0, received)))
                {
                    if (message.Sequence != _currentSequence) continue;
                    if ((message.Flags & Nlmsg.NLM_F_DUMP_INTR) != 0) interrupted = true;
                    if (message.Type == Nlmsg.NLMSG_DONE || message.Type == Nlmsg.NLMSG_ERROR)
                    {
                        var (errno, text) = ParseError(message);
                        if (errno != 0) throw new NetlinkException(operation, errno, text);
                        done = true;
                        break;
                    }
                    if (decode(message) is { } value) results.Add(value);
                }
            }
            if (!interrupted) return results;
            if (attempt == DumpAttempts)
                throw new NetlinkException(operation, $"dump kept changing under us for {DumpAttempts} attempts");
        }
    }

    /// <summary>
    /// Sends <paramref name="count"/> acknowledged requests, packing many into each datagram and
    /// keeping at most <paramref name="window"/> unanswered, and returns each one's errno (0 = done)
    /// and extended-ack text in request order.
    /// </summary>
    public (int Errno, string? Text)[] RunPipelined(int count, Action<NetlinkMessageWriter, int, uint> write,
        string operation, int window = 128, int datagramLimit = 32 << 10)
    {
        var results = new (int, string?)[count];
        var answered = new bool[count];
        uint first = _sequence + 1;
        _sequence += (uint)count;
        int sent = 0, acknowledged = 0;
        while (acknowledged < count)
        {
            if (sent < count && sent - acknowledged < window)
            {
                _writer.Clear();
                while (sent < count && sent - acknowledged < window && _writer.Length < datagramLimit)
                {
                    write(_writer, sent, first + (uint)sent);
                    sent++;
                }
                SendWritten(operation);
                continue;
            }
            int received = Receive(operation);
            foreach (var message in new NetlinkMessageReader(_datagram.AsSpan(0, received)))
            {
                uint index = message.Sequence - first;
                if (message.Type != Nlmsg.NLMSG_ERROR || index >= (uint)count || answered[index]) continue;
                answered[index] = true;
                results[index] = ParseError(message);
                acknowledged++;
            }
        }
        return results;
    }

    private void SendWritten(string operation)
    {
        var bytes = _writer.Written;
        fixed (byte* p = bytes)
        {
            while (true)
            {
                nint sent = LibC.Send(_fd, p, (nuint)bytes.Length, 0);
                if (sent >= 0) break;
                int errno = LibC.LastErrno;
                if (errno != Errno.EINTR) throw new NetlinkException(operation, errno, "sending to the kernel");
            }
        }
        RequestsSent += _writer.MessageCount;
    }

    private int Receive(string operation)
    {
        fixed (byte* p = _datagram)
        {
            while (true)
            {
                nint received = LibC.Receive(_fd, p, (nuint)_datagram.Length, LibC.MSG_TRUNC);
                if (received > _datagram.Length)
                    throw new NetlinkException(operation, $"kernel reply of {received} bytes exceeds the {_datagram.Length}-byte buffer");
                if (received >= 0) return (int)received;
                int errno = LibC.LastErrno;
                if (errno != Errno.EINTR) throw new NetlinkException(operation, errno, "receiving from the kernel");
            }
        }
    }

    /// <summary>Reads an NLMSG_ERROR (or NLMSG_DONE) payload: the negated errno, then the echoed request header and, with NLM_F_ACK_TLVS, the kernel's explanation.</summary>
    internal static (int Errno, string? Text) ParseError(NetlinkMessage message)
    {
        var payload = message.Payload;
        if (payload.Length < 4) return (0, null);
        int errno = -MemoryMarshal.Read<int>(payload);
        if (message.Type != Nlmsg.NLMSG_ERROR || (message.Flags & Nlmsg.NLM_F_ACK_TLVS) == 0 || payload.Length < 4 + Nlmsg.HeaderSize)
            return (errno, null);
        const ushort capped = 0x100;
        int echoed = (message.Flags & capped) != 0
            ? Nlmsg.HeaderSize
            : Nlmsg.Align((int)MemoryMarshal.Read<uint>(payload[4..]));
        if (4 + echoed > payload.Length) return (errno, null);
        foreach (var attribute in new NetlinkAttributeReader(payload[(4 + echoed)..]))
            if (attribute.Type == Nlmsg.NLMSGERR_ATTR_MSG) return (errno, attribute.AsString());
        return (errno, null);
    }

    private bool TrySetOption(int level, int name, int value) => LibC.SetSockOpt(_fd, level, name, &value, sizeof(int)) == 0;

    public void Dispose()
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0) LibC.Close(fd);
    }
}
