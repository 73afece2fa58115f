using System.Diagnostics;

namespace Trellis.NetworkPolicy.Applying;

/// <summary>nft refused a command; since nft applies a script as one transaction, nothing changed.</summary>
public sealed class NftablesException(string message) : Exception(message);

/// <summary>
/// Runs nft: scripts through `nft -f -` (one transaction each) and listings. The command is
/// "nft" in the caller's own network namespace, or a prefix such as `ip netns exec NAME nft`.
/// </summary>
public sealed class NftCommand(IReadOnlyList<string> command)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    public NftCommand() : this(["nft"])
    {
    }

    /// <exception cref="NftablesException">nft exited non-zero; the message carries its own words.</exception>
    public void Run(string script) => Execute(["-f", "-"], script);

    /// <summary>The output of `nft ARGUMENTS`, such as `-j list counters table inet trellis-policy`.</summary>
    public string List(params string[] arguments) => Execute(arguments, null);

    private string Execute(IReadOnlyList<string> arguments, string? input)
    {
        var info = new ProcessStartInfo(command[0])
        {
            RedirectStandardInput = input is not null,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var part in command.Skip(1).Concat(arguments)) info.ArgumentList.Add(part);
        var described = $"{string.Join(' ', command)} {string.Join(' ', arguments)}";
        using var process = Process.Start(info) ?? throw new NftablesException($"{described}: cannot start {command[0]}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (input is not null)
        {
            process.StandardInput.Write(input);
            process.StandardInput.Close();
        }
        if (!process.WaitForExit(Patience))
        {
            process.Kill(entireProcessTree: true);
            throw new NftablesException($"{described} did not finish within {Patience.TotalSeconds} s");
        }
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new NftablesException($"{described} exited {process.ExitCode}: {stderr.Result.Trim()}");
        return stdout.Result;
    }
}
