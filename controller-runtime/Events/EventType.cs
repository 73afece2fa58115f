namespace Trellis.ControllerRuntime.Events;

/// <summary>The two event types Kubernetes knows.</summary>
public enum EventType
{
    Normal,
    Warning,
}
