using System.Text;
using Trellis.Cni.Spec;
using Trellis.Ipam;

namespace Trellis.Cni.Environment;

public enum CniCommand { Add, Del, Check, Version, Status, Gc }

/// <summary>
/// The CNI_* variables of one invocation, validated before anything is touched: the
/// container ID and interface name end up in file contents and link names, so anything that
/// could walk a path or overflow a name is refused here. CNI_PATH is not read: this plugin
/// delegates to no other. CNI_NETNS must be an absolute path for ADD and CHECK, which use it;
/// DEL takes it only as a hint (<see cref="NetworkNamespace"/> is null when it is unusable),
/// since refusing a DEL over a namespace it does not need would leave the pod's address held.
/// CNI_ARGS is read for ADD, the one verb that records what it names (<see cref="Pod"/>).
/// </summary>
public sealed record CniEnvironment(CniCommand Command, string ContainerId, string? NetworkNamespace, string IfName, PodIdentity? Pod = null)
{
    public const int MaxInterfaceNameBytes = 15;

    public Attachment Attachment => new(ContainerId, IfName);

    public static CniEnvironment Parse(IReadOnlyDictionary<string, string> variables)
    {
        var commandText = Get(variables, "CNI_COMMAND") ?? throw Invalid("CNI_COMMAND is not set");
        var command = commandText switch
        {
            "ADD" => CniCommand.Add,
            "DEL" => CniCommand.Del,
            "CHECK" => CniCommand.Check,
            "VERSION" => CniCommand.Version,
            "STATUS" => CniCommand.Status,
            "GC" => CniCommand.Gc,
            _ => throw Invalid($"CNI_COMMAND \"{commandText}\" is not one of ADD, DEL, CHECK, VERSION, STATUS, GC"),
        };
        if (command is CniCommand.Version or CniCommand.Status or CniCommand.Gc)
            return new CniEnvironment(command, "", null, "");

        var containerId = Get(variables, "CNI_CONTAINERID") ?? throw Invalid($"CNI_CONTAINERID is required for {commandText}");
        if (ContainerIdError(containerId) is string idError) throw Invalid(idError);

        var ifName = Get(variables, "CNI_IFNAME") ?? throw Invalid($"CNI_IFNAME is required for {commandText}");
        if (InterfaceNameError(ifName, "CNI_IFNAME") is string nameError) throw Invalid(nameError);

        var netns = Get(variables, "CNI_NETNS");
        if (command is CniCommand.Del)
            return new CniEnvironment(command, containerId, netns is not null && IsAbsolutePath(netns) ? netns : null, ifName);
        if (netns is null)
            throw Invalid($"CNI_NETNS is required for {commandText}");
        if (!IsAbsolutePath(netns))
            throw Invalid($"CNI_NETNS \"{netns}\" must be an absolute path");

        var pod = command == CniCommand.Add ? CniArguments.Parse(Get(variables, "CNI_ARGS")) : null;
        return new CniEnvironment(command, containerId, netns, ifName, pod);
    }

    /// <summary>
    /// Null when <paramref name="id"/> is a valid container ID: an alphanumeric followed by
    /// alphanumerics, '_', '.' or '-', short enough for the host interface's ownership mark.
    /// </summary>
    public static string? ContainerIdError(string id)
    {
        if (id.Length == 0) return "CNI_CONTAINERID is empty";
        if (!char.IsAsciiLetterOrDigit(id[0]))
            return $"CNI_CONTAINERID \"{id}\" must start with a letter or digit";
        foreach (var c in id)
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('_' or '.' or '-'))
                return $"CNI_CONTAINERID \"{id}\" may hold only letters, digits, '_', '.' and '-'";
        if (id.Length > HostInterface.MaxContainerIdLength)
            return $"CNI_CONTAINERID is {id.Length} characters long; at most {HostInterface.MaxContainerIdLength} are accepted";
        return null;
    }

    /// <summary>Null when <paramref name="name"/> is a name the kernel accepts for a link and no path can hide in.</summary>
    public static string? InterfaceNameError(string name, string what)
    {
        if (name.Length == 0) return $"{what} is empty";
        if (Encoding.UTF8.GetByteCount(name) > MaxInterfaceNameBytes)
            return $"{what} \"{name}\" is longer than {MaxInterfaceNameBytes} bytes";
        if (name is "." or "..") return $"{what} \"{name}\" is not a valid interface name";
        // The kernel reads '%' as a pattern ("eth%d" becomes eth0, eth1, ...), so the link made would not carry the name asked for.
        foreach (var c in name)
            if (c is '/' or ':' or '%' or '\0' || char.IsWhiteSpace(c) || char.IsControl(c))
                return $"{what} \"{name}\" may not hold '/', ':', '%', control characters or whitespace";
        return null;
    }

    private static bool IsAbsolutePath(string path) => path[0] == '/' && !path.Contains('\0');

    private static string? Get(IReadOnlyDictionary<string, string> variables, string name) =>
        variables.TryGetValue(name, out var value) && value.Length > 0 ? value : null;

    private static CniException Invalid(string message) => new(CniErrorCode.InvalidEnvironment, message);
}
