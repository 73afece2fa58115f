namespace Trellis.ControllerRuntime.Controllers;

/// <summary>Brings the world in line with the desired state of one key. Must be idempotent: it runs again after every change and on every retry.</summary>
public interface IReconciler<TKey> where TKey : notnull
{
    Task<ReconcileResult> ReconcileAsync(TKey key, CancellationToken cancellationToken);
}
