using System.Diagnostics;

namespace Trellis.Testing;

public sealed record CommandResult(int ExitCode, string StandardOutput, string StandardError)
{
    public bool Succeeded => ExitCode == 0;
}

/// <summary>
/// Runs tools (ip, ping, nft) for tests and benchmarks. Product code never shells out to
/// iproute2; tests do, because an independent tool is the honest witness of kernel state.
/// </summary>
public static class Shell
{
    public static CommandResult Run(string file, IEnumerable<string> arguments, string? standardInput = null,
        IDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = standardInput is not null,
            UseShellExecute = false,
        };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        if (environment is not null)
            foreach (var (key, value) in environment) info.Environment[key] = value;

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (standardInput is not null)
        {
            process.StandardInput.Write(standardInput);
            process.StandardInput.Close();
        }
        if (!process.WaitForExit(timeout ?? TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} did not finish in time");
        }
        process.WaitForExit();
        return new CommandResult(process.ExitCode, stdout.Result, stderr.Result);
    }

    public static CommandResult Run(string file, params string[] arguments) => Run(file, (IEnumerable<string>)arguments);

    /// <summary>Runs and throws with the command's own words when it fails.</summary>
    public static string RunChecked(string file, params string[] arguments)
    {
        var result = Run(file, arguments);
        if (!result.Succeeded)
            throw new InvalidOperationException(
                $"{file} {string.Join(' ', arguments)} exited {result.ExitCode}: {result.StandardError.Trim()} {result.StandardOutput.Trim()}");
        return result.StandardOutput;
    }
}
