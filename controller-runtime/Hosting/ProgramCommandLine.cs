using System.CommandLine;
using FluentValidation;

namespace Trellis.ControllerRuntime.Hosting;

/// <summary>
/// The one way a Trellis program reads its command line. System.CommandLine declares the options (so
/// <c>--help</c> is generated from them), a binder turns the parse into the program's options record, and
/// a FluentValidation validator checks that record at start-up, every problem at once. A parse error or an
/// invalid option is printed as "program: problem" on standard error and ends the process with exit code 2
/// before anything is touched. Termination signals are left to the program (its host stops cleanly on SIGTERM).
/// </summary>
public static class ProgramCommandLine
{
    /// <summary>The exit code of a command line that cannot be run: unknown flag, bad value, invalid options.</summary>
    public const int UsageError = 2;

    /// <param name="program">The program's name, as problems are prefixed with it.</param>
    /// <param name="command">The options (and subcommands) the program accepts; its action is set here for a root without subcommands.</param>
    /// <param name="bind">Reads the program's options record from the parse.</param>
    /// <param name="validator">Checks the record; its messages name the flag and the value.</param>
    /// <param name="run">The program, with valid options; returns its exit code.</param>
    public static Task<int> RunAsync<TOptions>(string program, RootCommand command, string[] args, Func<ParseResult, TOptions> bind,
        IValidator<TOptions> validator, Func<TOptions, CancellationToken, Task<int>> run, TextWriter? error = null)
    {
        command.SetAction(Action(program, bind, validator, run, error));
        return InvokeAsync(program, command, args, error);
    }

    /// <summary>The action of one (sub)command: bind, validate, run; for programs with subcommands, each sets its own.</summary>
    public static Func<ParseResult, CancellationToken, Task<int>> Action<TOptions>(string program, Func<ParseResult, TOptions> bind,
        IValidator<TOptions> validator, Func<TOptions, CancellationToken, Task<int>> run, TextWriter? error = null) =>
        async (parse, cancellationToken) =>
        {
            var options = bind(parse);
            var result = await validator.ValidateAsync(options, cancellationToken).ConfigureAwait(false);
            if (!result.IsValid)
                return Refuse(program, result.Errors.Select(e => e.ErrorMessage).Distinct(), error);
            return await run(options, cancellationToken).ConfigureAwait(false);
        };

    /// <summary>Parses <paramref name="args"/>, refuses a command line that does not parse, and runs the chosen action (or help).</summary>
    public static async Task<int> InvokeAsync(string program, RootCommand command, string[] args, TextWriter? error = null)
    {
        var parse = command.Parse(args);
        if (parse.Errors.Count > 0)
            return Refuse(program, parse.Errors.Select(e => e.Message).Append($"see {program} --help"), error);
        return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }).ConfigureAwait(false);
    }

    private static int Refuse(string program, IEnumerable<string> problems, TextWriter? error)
    {
        error ??= Console.Error;
        foreach (var problem in problems) error.WriteLine($"{program}: {problem}");
        return UsageError;
    }
}
