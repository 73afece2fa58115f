using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Prometheus;
using Trellis.ControllerRuntime.Metrics;

namespace Trellis.ControllerRuntime.Hosting;

/// <summary>What a probe asks, and the answer with its reason.</summary>
public sealed record ProbeAnswer(bool Healthy, string Reason)
{
    public static readonly ProbeAnswer Ok = new(true, "ok");
}

/// <summary>
/// The one HTTP server of a Trellis process: /healthz and /readyz for the kubelet's probes (200 or 503 with the reason)
/// and /metrics in the Prometheus text format. Its clients are the kubelet and Prometheus, each asking one GET at a time,
/// so it speaks just that much HTTP/1.1: one request per connection, answered and closed. Not Kestrel: the agent runs on
/// every node, and ASP.NET Core took 3.5 of its 23.4 MB binary and 8 of its 65 MiB peak (at 5,000 peers) for three
/// fixed answers. Not the managed HttpListener: its Start can fail when a probe connects at that moment (dotnet/corefx#35191)
/// and it throws when a prober hangs up mid-answer. A hostile client costs little here: a request must arrive whole
/// within <see cref="RequestTimeout"/> and <see cref="MaxRequestBytes"/>, and at most <see cref="MaxConnections"/> are
/// answered at once (more are closed unread).
/// </summary>
public static class ProbeEndpoint
{
    public const int MaxRequestBytes = 8 * 1024;
    public const int MaxConnections = 32;
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Serves on every address of <paramref name="port"/> (IPv6 and IPv4) until <paramref name="stoppingToken"/> is cancelled.</summary>
    public static async Task ServeAsync(int port, Func<ProbeAnswer> liveness, Func<ProbeAnswer> readiness, CollectorRegistry metrics,
        ILogger logger, CancellationToken stoppingToken)
    {
        using var listener = Listen(port);
        logger.LogInformation("listening on port {Port} (/healthz, /readyz, /metrics)", port);
        int open = 0;
        while (true)
        {
            Socket connection;
            try
            {
                connection = await listener.AcceptAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException error)
            {
                // A connection reset before it was accepted, or no descriptor left for it: try again, but never in a tight loop.
                logger.LogDebug("accept on port {Port} failed: {Error}", port, error.Message);
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(100), stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                continue;
            }
            if (Interlocked.Increment(ref open) > MaxConnections)
            {
                Interlocked.Decrement(ref open);
                connection.Dispose();
                continue;
            }
            _ = Task.Run(async () =>
            {
                try
                {
                    await ServeConnectionAsync(connection, liveness, readiness, metrics, stoppingToken).ConfigureAwait(false);
                }
                catch (Exception error) when (error is IOException or SocketException or OperationCanceledException)
                {
                    // A client that hung up, or took too long: nothing to answer, nobody to tell.
                }
                catch (Exception error)
                {
                    logger.LogWarning(error, "answering a request on port {Port} failed", port);
                }
                finally
                {
                    connection.Dispose();
                    Interlocked.Decrement(ref open);
                }
            }, CancellationToken.None);
        }
    }

    /// <summary>
    /// A listening socket on every address: dual-stack where the kernel has IPv6, IPv4 alone where it does not. A port that
    /// cannot be had fails the start, naming the port.
    /// </summary>
    private static Socket Listen(int port)
    {
        Socket socket;
        EndPoint endpoint;
        try
        {
            socket = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { DualMode = true };
            endpoint = new IPEndPoint(IPAddress.IPv6Any, port);
        }
        catch (SocketException)
        {
            socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            endpoint = new IPEndPoint(IPAddress.Any, port);
        }
        try
        {
            // No ReuseAddress: on Linux .NET sets SO_REUSEPORT with it, and a second process would then share the port
            // (the kernel splitting connections between the two) instead of failing to start. .NET already sets
            // SO_REUSEADDR on Unix, so a restarted process binds again at once past its predecessor's TIME_WAIT.
            socket.Bind(endpoint);
            socket.Listen(64);
            return socket;
        }
        catch (SocketException error)
        {
            socket.Dispose();
            throw new IOException($"cannot listen on port {port} (/healthz, /readyz, /metrics): {error.Message}", error);
        }
    }

    private static async Task ServeConnectionAsync(Socket connection, Func<ProbeAnswer> liveness, Func<ProbeAnswer> readiness,
        CollectorRegistry metrics, CancellationToken stoppingToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        deadline.CancelAfter(RequestTimeout);
        await using var stream = new NetworkStream(connection, ownsSocket: false);
        var head = await ReadHeadAsync(stream, deadline.Token).ConfigureAwait(false);
        if (head.Length == 0) return; // closed before a whole request arrived
        var request = ProbeRequest.Parse(head);
        var response = request.Status != 200 ? ProbeResponse.Text(request.Status, request.Problem!)
            : request.Path switch
            {
                "/healthz" => ProbeResponse.Of(liveness()),
                "/readyz" => ProbeResponse.Of(readiness()),
                "/metrics" => await MetricsAsync(metrics, deadline.Token).ConfigureAwait(false),
                _ => ProbeResponse.Text(404, "not found (/healthz, /readyz, /metrics)"),
            };
        await stream.WriteAsync(response.Encode(withBody: request.Method != "HEAD"), deadline.Token).ConfigureAwait(false);
        connection.Shutdown(SocketShutdown.Send);
    }

    /// <summary>
    /// The request line and headers, up to the blank line that ends them; empty when the client closed first. A head over
    /// <see cref="MaxRequestBytes"/> comes back cut there, with no end, which <see cref="ProbeRequest.Parse"/> refuses.
    /// </summary>
    private static async Task<byte[]> ReadHeadAsync(Stream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxRequestBytes];
        int filled = 0;
        while (filled < buffer.Length)
        {
            int read = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false);
            if (read == 0) return [];
            filled += read;
            if (buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8) >= 0) break;
        }
        return buffer[..filled];
    }

    private static async Task<ProbeResponse> MetricsAsync(CollectorRegistry metrics, CancellationToken cancellationToken)
    {
        using var body = new MemoryStream();
        await metrics.CollectAndExportAsTextAsync(body, cancellationToken).ConfigureAwait(false);
        return new ProbeResponse(200, PrometheusText.ContentType, body.ToArray());
    }
}

/// <summary>An HTTP/1.x request head as far as <see cref="ProbeEndpoint"/> reads it: method and path, or why it is refused.</summary>
public sealed record ProbeRequest(int Status, string Method, string Path, string? Problem)
{
    public static ProbeRequest Parse(ReadOnlySpan<byte> head)
    {
        int end = head.IndexOf("\r\n\r\n"u8);
        if (end < 0) return Refused(431, "request head too large or unterminated");
        int lineEnd = head.IndexOf("\r\n"u8);
        var line = Encoding.ASCII.GetString(head[..lineEnd]);
        var parts = line.Split(' ');
        if (parts.Length != 3 || parts[0].Length == 0 || !parts[1].StartsWith('/') || parts[2] is not ("HTTP/1.1" or "HTTP/1.0"))
            return Refused(400, "malformed request line");
        var method = parts[0];
        if (method is not ("GET" or "HEAD")) return Refused(405, $"method {method} not allowed (GET, HEAD)", method);
        int query = parts[1].IndexOf('?');
        return new ProbeRequest(200, method, query < 0 ? parts[1] : parts[1][..query], null);
    }

    private static ProbeRequest Refused(int status, string problem, string method = "") => new(status, method, "", problem);
}

/// <summary>An answer of <see cref="ProbeEndpoint"/>: status, content type and body, sent with its length and closed.</summary>
public sealed record ProbeResponse(int Status, string ContentType, byte[] Body)
{
    public static ProbeResponse Of(ProbeAnswer answer) => Text(answer.Healthy ? 200 : 503, answer.Reason);

    public static ProbeResponse Text(int status, string text) => new(status, "text/plain; charset=utf-8", Encoding.UTF8.GetBytes(text + "\n"));

    public byte[] Encode(bool withBody)
    {
        var head = new StringBuilder()
            .Append("HTTP/1.1 ").Append(Status).Append(' ').Append(ReasonPhrase(Status)).Append("\r\n")
            .Append("Content-Type: ").Append(ContentType).Append("\r\n")
            .Append("Content-Length: ").Append(Body.Length).Append("\r\n");
        if (Status == 405) head.Append("Allow: GET, HEAD\r\n");
        head.Append("Connection: close\r\n\r\n");
        var bytes = Encoding.ASCII.GetBytes(head.ToString());
        return withBody ? [.. bytes, .. Body] : bytes;
    }

    private static string ReasonPhrase(int status) => status switch
    {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "Status",
    };
}
