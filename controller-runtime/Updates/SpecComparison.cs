using Trellis.ControllerRuntime.Clients;

namespace Trellis.ControllerRuntime.Updates;

/// <summary>
/// The one way specs are compared: by value, through their JSON form, so every field (including one added
/// tomorrow) takes part and no hand-kept list of fields can miss it.
/// </summary>
public static class SpecComparison
{
    public static bool Same<TSpec>(TSpec? a, TSpec? b) where TSpec : class =>
        ReferenceEquals(a, b) || (a is not null && b is not null && ApiJson.Serialize(a) == ApiJson.Serialize(b));
}
