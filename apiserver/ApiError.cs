using System.Text.Json.Nodes;
using Trellis.ApiServer.Storage;

namespace Trellis.ApiServer;

/// <summary>
/// A failure that becomes a meta/v1 Status response. Every layer (store, patching, schema,
/// routing) throws this so the HTTP edge has exactly one way to turn an error into a reply.
/// </summary>
public sealed class ApiError : Exception
{
    public int Code { get; }
    public string Reason { get; }
    public string? Name { get; init; }
    public string? Group { get; init; }
    public string? Kind { get; init; }
    public IReadOnlyList<StatusCause> Causes { get; init; } = [];

    public ApiError(int code, string reason, string message) : base(message)
    {
        Code = code;
        Reason = reason;
    }

    public static ApiError NotFound(ResourceType type, string name) =>
        new(404, "NotFound", $"{type.Plural}{GroupSuffix(type)} \"{name}\" not found") { Name = name, Group = type.Group, Kind = type.Plural };

    public static ApiError AlreadyExists(ResourceType type, string name) =>
        new(409, "AlreadyExists", $"{type.Plural}{GroupSuffix(type)} \"{name}\" already exists") { Name = name, Group = type.Group, Kind = type.Plural };

    public static ApiError Conflict(ResourceType type, string name, string detail) =>
        new(409, "Conflict", $"Operation cannot be fulfilled on {type.Plural}{GroupSuffix(type)} \"{name}\": {detail}") { Name = name, Group = type.Group, Kind = type.Plural };

    public static ApiError StaleResourceVersion(ResourceType type, string name) =>
        Conflict(type, name, "the object has been modified; please apply your changes to the latest version and try again");

    public static ApiError Invalid(ResourceType type, string name, IReadOnlyList<StatusCause> causes) =>
        new(422, "Invalid", $"{type.Kind}{GroupSuffix(type)} \"{name}\" is invalid: {string.Join(", ", causes.Select(c => c.Field is { Length: > 0 } ? $"{c.Field}: {c.Message}" : c.Message))}")
        { Name = name, Group = type.Group, Kind = type.Kind, Causes = causes };

    public static ApiError BadRequest(string message) => new(400, "BadRequest", message);

    public static ApiError Gone(string message) => new(410, "Expired", message);

    private static string GroupSuffix(ResourceType type) => type.Group.Length == 0 ? "" : "." + type.Group;

    public JsonObject ToStatus()
    {
        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = Message,
            ["reason"] = Reason,
        };
        var details = new JsonObject();
        if (Name is not null) details["name"] = Name;
        if (Group is { Length: > 0 }) details["group"] = Group;
        if (Kind is not null) details["kind"] = Kind;
        if (Causes.Count > 0)
            details["causes"] = new JsonArray(Causes.Select(c => (JsonNode)new JsonObject
            {
                ["reason"] = c.Reason,
                ["message"] = c.Message,
                ["field"] = c.Field,
            }).ToArray());
        if (details.Count > 0) status["details"] = details;
        status["code"] = Code;
        return status;
    }
}

/// <param name="Reason">FieldValueRequired, FieldValueInvalid, FieldValueNotSupported, ...</param>
public sealed record StatusCause(string Reason, string Message, string Field);
