namespace Trellis.Netlink;

/// <summary>
/// Reads and writes /proc/sys. Network keys resolve in the calling thread's namespace, so
/// wrap calls in <see cref="NetworkNamespaceRunner"/> to act on another one.
/// </summary>
public static class Sysctl
{
    /// <param name="key">Slash form ("net/ipv4/ip_forward"); the dotted form is accepted when the key has no slash.</param>
    public static void Write(string key, string value)
    {
        var path = PathOf(key);
        try
        {
            File.WriteAllText(path, value);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"write sysctl {key}={value} ({path}): {exception.Message}", exception);
        }
    }

    public static string Read(string key)
    {
        var path = PathOf(key);
        try
        {
            return File.ReadAllText(path).TrimEnd('\n');
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"read sysctl {key} ({path}): {exception.Message}", exception);
        }
    }

    private static string PathOf(string key)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        var relative = key.Contains('/') ? key.Trim('/') : key.Replace('.', '/');
        if (relative.Split('/').Any(part => part is "" or "." or ".."))
            throw new ArgumentException($"sysctl key \"{key}\" is not a plain path below /proc/sys", nameof(key));
        return "/proc/sys/" + relative;
    }
}
