namespace Trellis.Bgp.Messages;

/// <summary>
/// A message that cannot be accepted. <see cref="Notification"/> is what RFC 4271 §6 says to
/// answer with; the message says which field lied and how, for the log and the peer's status.
/// </summary>
public sealed class MalformedMessageException(NotificationMessage notification, string description)
    : Exception($"{description} ({notification.Describe()})")
{
    public NotificationMessage Notification { get; } = notification;

    public string Description { get; } = description;
}
