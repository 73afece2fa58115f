namespace Trellis.ControllerRuntime.Clients;

/// <summary>
/// The <c>type</c> of one watch event (kube-apiserver's watch.EventType). ERROR events never reach a caller:
/// <see cref="ResourceClient{T,TList}"/> turns them into exceptions.
/// </summary>
public enum WatchEventKind
{
    Added,
    Modified,
    Deleted,
    Bookmark,
}
