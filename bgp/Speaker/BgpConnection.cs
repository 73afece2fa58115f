using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Trellis.Bgp.Messages;

namespace Trellis.Bgp.Speaker;

/// <summary>
/// One TCP connection to a peer: a reader that cuts the stream into messages and a writer that
/// sends queued ones in order. It decides nothing; what it reads goes to the speaker's loop.
/// </summary>
internal sealed class BgpConnection
{
    private readonly Socket _socket;
    private readonly Channel<byte[]> _outbox = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _abort = new();
    private Task _writer = Task.CompletedTask;

    public BgpConnection(int id, Socket socket)
    {
        Id = id;
        _socket = socket;
        LocalAddress = (socket.LocalEndPoint as IPEndPoint)?.Address is { } local && local.IsIPv4MappedToIPv6 ? local.MapToIPv4() : (socket.LocalEndPoint as IPEndPoint)?.Address;
    }

    public int Id { get; }

    public IPAddress? LocalAddress { get; }

    /// <summary>How UPDATEs on this connection are laid out; set once the session is negotiated.</summary>
    public CodecOptions Codec { get; set; } = CodecOptions.FourOctet;

    /// <param name="onMessage">Called with each whole message, in order.</param>
    /// <param name="onMalformed">Called once when the stream's framing breaks; reading stops.</param>
    /// <param name="onClosed">Called once when the stream ends or fails.</param>
    public void Start(Action<byte[]> onMessage, Action<MalformedMessageException> onMalformed, Action<string> onClosed)
    {
        _ = Task.Run(() => ReadAsync(onMessage, onMalformed, onClosed));
        _writer = Task.Run(WriteAsync);
    }

    public void Send(byte[] message) => _outbox.Writer.TryWrite(message);

    /// <summary>Sends what is queued, then closes; the task ends when the socket is closed.</summary>
    public Task Close()
    {
        _outbox.Writer.TryComplete();
        return _writer;
    }

    /// <summary>Closes now, dropping anything unsent.</summary>
    public void Abort()
    {
        _outbox.Writer.TryComplete();
        _abort.Cancel();
        _socket.Dispose();
    }

    private async Task ReadAsync(Action<byte[]> onMessage, Action<MalformedMessageException> onMalformed, Action<string> onClosed)
    {
        var buffer = new byte[2 * BgpCodec.MaxMessageLength];
        int filled = 0;
        try
        {
            while (true)
            {
                int read = await _socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, _abort.Token);
                if (read == 0)
                {
                    onClosed("the peer closed the connection");
                    return;
                }
                filled += read;
                int start = 0;
                while (true)
                {
                    int length = BgpCodec.FrameLength(buffer.AsSpan(start, filled - start));
                    if (length == 0 || filled - start < length) break;
                    onMessage(buffer.AsSpan(start, length).ToArray());
                    start += length;
                }
                Buffer.BlockCopy(buffer, start, buffer, 0, filled - start);
                filled -= start;
            }
        }
        catch (MalformedMessageException error)
        {
            onMalformed(error);
        }
        catch (Exception error) when (error is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            onClosed(error is SocketException socketError ? socketError.Message : "closed");
        }
    }

    private async Task WriteAsync()
    {
        try
        {
            await foreach (var message in _outbox.Reader.ReadAllAsync(_abort.Token))
                for (int sent = 0; sent < message.Length;)
                    sent += await _socket.SendAsync(message.AsMemory(sent), SocketFlags.None, _abort.Token);
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception error) when (error is SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
        finally
        {
            _socket.Dispose();
        }
    }
}
