using System.Text;
using System.Text.RegularExpressions;
using Trellis.Testing;
using Xunit.Abstractions;

namespace Trellis.ApiServer.Tests.Kubectl;

/// <summary>
/// One command of a kubectl table: run as <paramref name="As"/> (a kubeconfig the session wrote),
/// expected to exit with <paramref name="Exit"/> and print something matching <paramref name="Expect"/>
/// (a regular expression over stdout and stderr together).
/// </summary>
/// <param name="Command">kubectl's arguments, split on spaces; 'single quotes' keep spaces; {dir} is the session's directory.</param>
/// <param name="RealServer">Where a real kube-apiserver answers differently, what it answers.</param>
/// <param name="Editor">For kubectl edit: the KUBE_EDITOR command that changes the file.</param>
public sealed record KubectlCase(string As, string Command, int Exit, string Expect, string? RealServer = null, string? Editor = null)
{
    public override string ToString() => $"[{As}] kubectl {Command}";
}

/// <summary>
/// Stock kubectl (/usr/bin/kubectl) against a started server, with a kubeconfig per identity and
/// a discovery cache of its own: the tables of commands in these tests run through it in order.
/// </summary>
public sealed class KubectlSession : IDisposable
{
    public const string KubectlPath = "/usr/bin/kubectl";
    private readonly ITestOutputHelper _output;

    public KubectlSession(KubeApiServer server, ITestOutputHelper output)
    {
        if (!File.Exists(KubectlPath)) throw new InvalidOperationException($"{KubectlPath} is missing: these tests drive stock kubectl");
        Server = server;
        _output = output;
        Directory = System.IO.Directory.CreateTempSubdirectory("trellis-kubectl-").FullName;
        Identity("admin", server.AdminToken);
        Identity("nobody", null);
    }

    public KubeApiServer Server { get; }
    public string Directory { get; }

    /// <summary>Writes a kubeconfig named <paramref name="name"/> holding <paramref name="token"/> (none when null).</summary>
    public void Identity(string name, string? token)
    {
        var path = KubeconfigPath(name);
        Server.WriteKubeconfig(path, token: token ?? "", user: name);
        if (token is null) File.WriteAllLines(path, File.ReadAllLines(path).Where(l => !l.TrimStart().StartsWith("token:", StringComparison.Ordinal)).Select(l => l.Trim() == "user:" ? l + " {}" : l));
    }

    public string KubeconfigPath(string identity) => Path.Combine(Directory, $"{identity}.kubeconfig");

    public string WriteFile(string name, string text)
    {
        var path = Path.Combine(Directory, name);
        File.WriteAllText(path, text);
        return path;
    }

    public CommandResult Run(string identity, string command, string? standardInput = null, string? editor = null) =>
        Run(identity, Split(command.Replace("{dir}", Directory).Replace("{repo}", RepositoryRoot.Find())), standardInput, editor);

    /// <param name="editor">The EDITOR kubectl edit runs on its temporary file (a non-interactive command such as sed -i).</param>
    public CommandResult Run(string identity, IReadOnlyList<string> arguments, string? standardInput = null, string? editor = null)
    {
        var environment = new Dictionary<string, string> { ["KUBECTL_EXTERNAL_DIFF"] = "diff -u -N", ["HOME"] = Directory, ["TMPDIR"] = Directory };
        if (editor is not null) environment["KUBE_EDITOR"] = editor;
        var result = Shell.Run(KubectlPath,
            ["--kubeconfig", KubeconfigPath(identity), "--cache-dir", Path.Combine(Directory, "cache"), .. arguments],
            standardInput, environment, TimeSpan.FromMinutes(1));
        _output.WriteLine($"$ [{identity}] kubectl {string.Join(' ', arguments)}  → exit {result.ExitCode}\n{Indent(result.StandardOutput)}{Indent(result.StandardError)}");
        return result;
    }

    /// <summary>Runs every case in order and fails once at the end, listing each case that answered otherwise.</summary>
    public void RunTable(IEnumerable<KubectlCase> cases)
    {
        var failures = new List<string>();
        foreach (var c in cases)
        {
            var result = Run(c.As, c.Command, editor: c.Editor);
            var text = result.StandardOutput + result.StandardError;
            if (result.ExitCode != c.Exit || !Regex.IsMatch(text, c.Expect, RegexOptions.Multiline))
                failures.Add($"{c}: expected exit {c.Exit} and /{c.Expect}/, got exit {result.ExitCode}: {text.Trim()}");
        }
        Assert.True(failures.Count == 0, string.Join("\n\n", failures));
    }

    private static string Indent(string text) => text.Length == 0 ? "" : string.Join("", text.Split('\n').Where(l => l.Length > 0).Select(l => "    " + l + "\n"));

    private static List<string> Split(string command)
    {
        var arguments = new List<string>();
        var current = new StringBuilder();
        var quoted = false;
        var any = false;
        foreach (var c in command)
        {
            if (c == '\'') { quoted = !quoted; any = true; continue; }
            if (c == ' ' && !quoted)
            {
                if (any) arguments.Add(current.ToString());
                current.Clear();
                any = false;
                continue;
            }
            current.Append(c);
            any = true;
        }
        if (any) arguments.Add(current.ToString());
        return arguments;
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
