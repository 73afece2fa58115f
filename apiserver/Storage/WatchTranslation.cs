using System.Text.Json;

namespace Trellis.ApiServer.Storage;

/// <summary>
/// What a selector-filtered watch sends for a store event: an object that starts matching is
/// ADDED, one that stops matching is DELETED, and events of objects never matching are dropped.
/// </summary>
public static class WatchTranslation
{
    /// <param name="matches">Null when the watch has no selector.</param>
    /// <returns>The event type to send, or null to send nothing.</returns>
    public static string? Translate(StoreEvent e, Func<JsonElement, bool>? matches)
    {
        if (matches is null) return Name(e.Type);
        var now = matches(e.Object.Root);
        var before = e.Previous is not null && matches(e.Previous.Root);
        return e.Type switch
        {
            WatchEventType.Added => now ? "ADDED" : null,
            WatchEventType.Deleted => now || before ? "DELETED" : null,
            _ => (now, before) switch
            {
                (true, true) => "MODIFIED",
                (true, false) => "ADDED",
                (false, true) => "DELETED",
                _ => null,
            },
        };
    }

    public static string Name(WatchEventType type) => type switch
    {
        WatchEventType.Added => "ADDED",
        WatchEventType.Modified => "MODIFIED",
        _ => "DELETED",
    };
}
