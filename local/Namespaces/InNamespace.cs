using System.Diagnostics;
using System.Reflection;

namespace Trellis.Local.Namespaces;

/// <summary>Starts programs inside a named network namespace through this executable's <see cref="NamespaceExec"/> verb.</summary>
public static class InNamespace
{
    /// <summary>A start info that runs <paramref name="program"/> inside <paramref name="namespaceName"/>.</summary>
    public static ProcessStartInfo StartInfo(string namespaceName, string program, IEnumerable<string> arguments, string? logFile = null)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("cannot tell this executable's path");
        var info = new ProcessStartInfo(self) { UseShellExecute = false };
        // Run as `dotnet trellis-local.dll`, the host needs the assembly in front of the verb.
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
            info.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        info.ArgumentList.Add(NamespaceExec.Verb);
        if (logFile is not null)
        {
            info.ArgumentList.Add("--log");
            info.ArgumentList.Add(logFile);
        }
        info.ArgumentList.Add(namespaceName);
        info.ArgumentList.Add(program);
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        return info;
    }

    /// <summary>Starts this executable with <paramref name="arguments"/> (a hidden verb first) inside the namespace, detached.</summary>
    public static int StartSelfDetached(string namespaceName, IEnumerable<string> arguments, string logFile)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("cannot tell this executable's path");
        IEnumerable<string> argv = Path.GetFileNameWithoutExtension(self) == "dotnet" ? [Assembly.GetEntryAssembly()!.Location, .. arguments] : arguments;
        return StartDetached(namespaceName, self, argv, logFile);
    }

    /// <summary>Starts a long-lived program detached from us (own session, output to <paramref name="logFile"/>).</summary>
    public static int StartDetached(string namespaceName, string program, IEnumerable<string> arguments, string logFile)
    {
        var info = StartInfo(namespaceName, program, arguments, logFile);
        info.RedirectStandardInput = true;
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {program}");
        return process.Id;
    }
}
