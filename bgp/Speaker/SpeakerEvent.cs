using System.Net.Sockets;
using Trellis.Bgp.Session;

namespace Trellis.Bgp.Speaker;

/// <summary>What reaches the speaker's loop from callers, sockets and timers; the loop alone changes state.</summary>
internal abstract record SpeakerEvent
{
    public sealed record Configure(BgpConfiguration Configuration) : SpeakerEvent;

    public sealed record Session(PeerRunner Runner, SessionEvent Event) : SpeakerEvent;

    public sealed record Frame(PeerRunner Runner, int ConnectionId, byte[] Message) : SpeakerEvent;

    public sealed record Outbound(PeerRunner Runner, int ConnectionId, Socket Socket) : SpeakerEvent;

    public sealed record Inbound(Socket Socket) : SpeakerEvent;

    public sealed record Stop(bool KeepRoutes, TaskCompletionSource Done) : SpeakerEvent;
}
