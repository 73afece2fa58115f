using System.Collections;
using Trellis.Cni.Commands;
using Trellis.Cni.Config;
using Trellis.Cni.Environment;
using Trellis.Cni.Spec;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

namespace Trellis.Cni;

/// <summary>One invocation: read CNI_* and stdin, run one verb, print its result or the spec's error JSON.</summary>
public static class Program
{
    public static int Main()
    {
        string? input = null;
        try
        {
            // Stdin is drained before anything can fail, so the runtime never writes into a closed pipe.
            input = Console.In.ReadToEnd();
            var env = CniEnvironment.Parse(CniVariables());
            if (env.Command == CniCommand.Version)
            {
                Console.Out.Write(VersionCommand.Run(input));
                return 0;
            }
            var config = NetworkConfigParser.Parse(input);
            switch (env.Command)
            {
                case CniCommand.Add:
                    Console.Out.Write(Add.Run(env, config));
                    break;
                case CniCommand.Del:
                    Del.Run(env, config);
                    break;
                case CniCommand.Check:
                    Check.Run(env, config);
                    break;
                case CniCommand.Status:
                    Status.Run(config);
                    break;
                case CniCommand.Gc:
                    Gc.Run(config);
                    break;
            }
            return 0;
        }
        catch (CniException e)
        {
            return Fail(e, input);
        }
        catch (IOException e)
        {
            return Fail(new CniException(CniErrorCode.IoFailure, e.Message), input);
        }
        catch (Exception e)
        {
            return Fail(new CniException(CniErrorCode.Internal, e.Message, e.GetType().Name), input);
        }
    }

    private static int Fail(CniException error, string? input)
    {
        Console.Out.Write(error.ToJson(NetworkConfigParser.VersionForErrors(input)));
        Console.Error.WriteLine($"trellis-cni: {error.Message}");
        return 1;
    }

    private static Dictionary<string, string> CniVariables()
    {
        var variables = new Dictionary<string, string>();
        foreach (DictionaryEntry entry in System.Environment.GetEnvironmentVariables())
            if (entry.Key is string key && key.StartsWith("CNI_", StringComparison.Ordinal))
                variables[key] = entry.Value as string ?? "";
        return variables;
    }
}
