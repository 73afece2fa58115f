using System.Net;
using k8s.Autorest;

namespace Trellis.ControllerRuntime.Updates;

/// <summary>
/// Optimistic-concurrency helpers: re-read, re-apply the change and write again when the server answers
/// 409 Conflict because someone else wrote first (client-go's RetryOnConflict).
/// </summary>
public static class ConflictRetry
{
    public const int DefaultAttempts = 5;

    /// <summary>
    /// Reads the object, lets <paramref name="mutate"/> change it (returning false when it is already as wanted,
    /// which skips the write) and writes it, starting again from the read on every 409.
    /// Returns the object as last read or written.
    /// </summary>
    public static Task<T> UpdateAsync<T>(
        Func<CancellationToken, Task<T>> get,
        Func<T, bool> mutate,
        Func<T, CancellationToken, Task<T>> update,
        CancellationToken cancellationToken,
        int attempts = DefaultAttempts) =>
        RetryAsync(async ct =>
        {
            var current = await get(ct).ConfigureAwait(false);
            return mutate(current) ? await update(current, ct).ConfigureAwait(false) : current;
        }, cancellationToken, attempts);

    /// <summary>Runs <paramref name="attempt"/> until it does not fail with 409, at most <paramref name="attempts"/> times, with a short jittered pause between tries.</summary>
    public static async Task<T> RetryAsync<T>(Func<CancellationToken, Task<T>> attempt, CancellationToken cancellationToken, int attempts = DefaultAttempts)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(attempts, 1);
        for (var tried = 1; ; tried++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                return await attempt(cancellationToken).ConfigureAwait(false);
            }
            catch (HttpOperationException error) when (IsConflict(error) && tried < attempts)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(10 + Random.Shared.Next(5)), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public static bool IsConflict(Exception error) =>
        error is HttpOperationException { Response.StatusCode: HttpStatusCode.Conflict };
}
