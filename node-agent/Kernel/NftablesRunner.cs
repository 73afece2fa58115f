using System.Diagnostics;

namespace Trellis.NodeAgent.Kernel;

/// <summary>
/// Hands a ruleset to `nft -f -`: nftables applies a script as one transaction, which is what
/// makes replacing the masquerade table atomic. Applies only when the script differs from the last one.
/// </summary>
public sealed class NftablesRunner(IReadOnlyList<string> command)
{
    private string? _applied;

    /// <summary>The nft on PATH, acting on the agent's own network namespace.</summary>
    public NftablesRunner() : this(["nft"])
    {
    }

    public bool Apply(string script, bool force)
    {
        if (!force && script == _applied) return false;
        var info = new ProcessStartInfo(command[0])
        {
            RedirectStandardInput = true,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var argument in command.Skip(1)) info.ArgumentList.Add(argument);
        info.ArgumentList.Add("-f");
        info.ArgumentList.Add("-");
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {command[0]}");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        process.StandardInput.Write(script);
        process.StandardInput.Close();
        if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
        {
            process.Kill();
            throw new InvalidOperationException("nft -f - (table inet trellis) did not finish within 30 s");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"nft -f - (table inet trellis) exited {process.ExitCode}: {stderr.Result.Trim()} {stdout.Result.Trim()}");
        _applied = script;
        return true;
    }
}
