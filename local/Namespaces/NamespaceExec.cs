using System.Runtime.InteropServices;
using System.Text;
using Trellis.Linux;
using Trellis.Netlink;

namespace Trellis.Local.Namespaces;

/// <summary>
/// Replaces this process with a program running inside a named network namespace: setns on
/// one thread, then execve from that same thread, whose namespace the new image inherits.
/// This is how trellis-local starts agents and plugins "inside a node" without iproute2.
/// </summary>
public static class NamespaceExec
{
    /// <summary>The hidden verb: <c>trellis-local __netns-exec [--log FILE] NAME PROGRAM [ARGS...]</c>.</summary>
    public const string Verb = "__netns-exec";

    /// <summary>Parses the verb's arguments (after the verb) and execs; returns only on failure.</summary>
    public static int RunVerb(IReadOnlyList<string> args)
    {
        string? log = null;
        int i = 0;
        if (args.Count > 1 && args[0] == "--log")
        {
            log = args[1];
            i = 2;
        }
        if (args.Count - i < 2)
        {
            Console.Error.WriteLine($"usage: trellis-local {Verb} [--log FILE] NAMESPACE PROGRAM [ARGS...]");
            return 2;
        }
        if (log is not null)
        {
            // A detached agent outlives whoever started it: give it its own session and a log file, not our pipes.
            LibC.SetSid();
            int fd = LibC.Open(log, OpenFlags.WriteOnly | OpenFlags.Create | OpenFlags.Append | OpenFlags.CloseOnExec, 0x180);
            if (fd < 0)
            {
                Console.Error.WriteLine($"trellis-local: open log {log}: {LibC.LastError()}");
                return 1;
            }
            int devNull = LibC.Open("/dev/null", OpenFlags.ReadOnly | OpenFlags.CloseOnExec);
            LibC.Dup2(devNull, 0);
            LibC.Dup2(fd, 1);
            LibC.Dup2(fd, 2);
        }
        return Run(args[i], args[i + 1], args.Skip(i + 2).ToList());
    }

    public static int Run(string namespaceName, string program, IReadOnlyList<string> arguments)
    {
        var resolved = Resolve(program) ?? throw new FileNotFoundException($"program {program} not found on PATH");
        string? error = null;
        var thread = new Thread(() => error = EnterAndExec(NamedNetworkNamespace.PathOf(namespaceName), resolved, [program, .. arguments]));
        thread.Start();
        thread.Join();
        Console.Error.WriteLine($"trellis-local: run {program} in namespace {namespaceName}: {error}");
        return 127;
    }

    private static unsafe string EnterAndExec(string namespacePath, string path, IReadOnlyList<string> argv)
    {
        int fd = LibC.Open(namespacePath, OpenFlags.ReadOnly | OpenFlags.CloseOnExec);
        if (fd < 0) return $"open {namespacePath}: {LibC.LastError()}";
        if (LibC.SetNs(fd, LibC.CLONE_NEWNET) != 0) return $"setns {namespacePath}: {LibC.LastError()}";
        LibC.Close(fd);

        var environment = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .Select(e => $"{e.Key}={e.Value}").ToList();
        byte** args = ToNullTerminated(argv);
        byte** envp = ToNullTerminated(environment);
        LibC.Execve(path, args, envp);
        return $"execve {path}: {LibC.LastError()}";
    }

    private static unsafe byte** ToNullTerminated(IReadOnlyList<string> values)
    {
        var array = (byte**)NativeMemory.Alloc((nuint)(values.Count + 1), (nuint)sizeof(byte*));
        for (int i = 0; i < values.Count; i++)
        {
            var bytes = Encoding.UTF8.GetBytes(values[i] + "\0");
            var copy = (byte*)NativeMemory.Alloc((nuint)bytes.Length);
            bytes.CopyTo(new Span<byte>(copy, bytes.Length));
            array[i] = copy;
        }
        array[values.Count] = null;
        return array;
    }

    private static string? Resolve(string program)
    {
        if (program.Contains('/')) return File.Exists(program) ? Path.GetFullPath(program) : null;
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin").Split(':'))
        {
            var candidate = Path.Combine(dir, program);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
