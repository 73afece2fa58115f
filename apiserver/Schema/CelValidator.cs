using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Trellis.ApiServer.Cel;

namespace Trellis.ApiServer.Schema;

/// <summary>
/// A CRD version's x-kubernetes-validations: compiled when the CRD is registered (a rule that does
/// not compile, does not return bool, or reads oldSelf where old and new values cannot be paired
/// makes the CRD invalid, as on a real server), evaluated on every create and update. Transition
/// rules (those reading oldSelf) run only on updates where the value existed before; on updates,
/// other rules whose value did not change only warn (validation ratcheting, GA in Kubernetes 1.33).
/// </summary>
public sealed class CelValidator
{
    private sealed record Rule(string Text, CelProgram Program, CelProgram? MessageExpression, string Message, string? Reason, string FieldPath);

    private sealed class Node
    {
        public required JsonObject Schema { get; init; }
        public required string TypeName { get; init; }
        public bool Root { get; init; }
        public List<Rule> Rules { get; } = [];
        public Dictionary<string, Node> Properties { get; } = [];
        public Node? Items { get; set; }
        public Node? Additional { get; set; }
        public bool HasRules => Rules.Count > 0 || Properties.Count > 0 || Items is not null || Additional is not null;
    }

    private readonly Node _root;

    private CelValidator(Node root) => _root = root;

    /// <param name="path">Where the schema is in the CRD, for errors (spec.versions[0].schema.openAPIV3Schema).</param>
    /// <returns>Null when the schema has no rules anywhere.</returns>
    public static CelValidator? Compile(JsonObject schema, string path, List<StatusCause> causes)
    {
        var root = Build(schema, path, "Object", resourceRoot: true, uncorrelatable: null, causes);
        return root is { HasRules: true } ? new CelValidator(root) : null;
    }

    private static Node? Build(JsonObject schema, string path, string typeName, bool resourceRoot, string? uncorrelatable, List<StatusCause> causes)
    {
        var node = new Node { Schema = schema, TypeName = typeName, Root = resourceRoot };
        if (schema["x-kubernetes-validations"] is JsonArray rules)
        {
            var type = CelSchema.TypeOf(schema, typeName, resourceRoot);
            var variables = new Dictionary<string, CelType> { ["self"] = type, ["oldSelf"] = type };
            for (var i = 0; i < rules.Count; i++)
            {
                var rulePath = $"{path}.x-kubernetes-validations[{i}]";
                if (rules[i] is not JsonObject rule) continue;
                var text = rule["rule"]?.GetValue<string>() ?? "";
                var message = rule["message"]?.GetValue<string>() ?? "";
                if (string.IsNullOrWhiteSpace(text))
                {
                    causes.Add(new("FieldValueRequired", "Required value: rule is not specified", $"{rulePath}.rule"));
                    continue;
                }
                var rendered = Render(rule);
                CelProgram program;
                try { program = CelProgram.Compile(text, variables); }
                catch (Exception e) when (e is CelSyntaxException or CelCheckException)
                {
                    causes.Add(new("FieldValueInvalid", $"Invalid value: {rendered}: compilation failed: {e.Message}", $"{rulePath}.rule"));
                    continue;
                }
                if (program.ResultType.Kind is not (CelKind.Bool or CelKind.Dyn))
                {
                    causes.Add(new("FieldValueInvalid", $"Invalid value: {rendered}: cel expression must evaluate to a bool", $"{rulePath}.rule"));
                    continue;
                }
                if (program.Variables.Contains("oldSelf") && uncorrelatable is not null)
                {
                    causes.Add(new("FieldValueInvalid", $"Invalid value: \"{text}\": oldSelf cannot be used on the uncorrelatable portion of the schema within {uncorrelatable}", $"{rulePath}.rule"));
                    continue;
                }
                CelProgram? messageExpression = null;
                if (rule["messageExpression"]?.GetValue<string>() is { Length: > 0 } messageText)
                {
                    try
                    {
                        messageExpression = CelProgram.Compile(messageText, variables);
                        if (messageExpression.ResultType.Kind is not (CelKind.String or CelKind.Dyn))
                        {
                            causes.Add(new("FieldValueInvalid", $"Invalid value: {rendered}: messageExpression must evaluate to a string", $"{rulePath}.messageExpression"));
                            continue;
                        }
                    }
                    catch (Exception e) when (e is CelSyntaxException or CelCheckException)
                    {
                        causes.Add(new("FieldValueInvalid", $"Invalid value: {rendered}: messageExpression compilation failed: {e.Message}", $"{rulePath}.messageExpression"));
                        continue;
                    }
                }
                var fieldPath = rule["fieldPath"]?.GetValue<string>() ?? "";
                string normalized = "";
                if (fieldPath.Length > 0 && NormalizeFieldPath(fieldPath, schema) is not { } valid)
                {
                    causes.Add(new("FieldValueInvalid", $"Invalid value: \"{fieldPath}\": must be a valid path", $"{rulePath}.fieldPath"));
                    continue;
                }
                else if (fieldPath.Length > 0) normalized = NormalizeFieldPath(fieldPath, schema)!;
                var reason = rule["reason"]?.GetValue<string>();
                if (reason is not (null or "FieldValueInvalid" or "FieldValueForbidden" or "FieldValueRequired" or "FieldValueDuplicate"))
                {
                    causes.Add(new("FieldValueNotSupported", $"Unsupported value: \"{reason}\": supported values: \"FieldValueDuplicate\", \"FieldValueForbidden\", \"FieldValueInvalid\", \"FieldValueRequired\"", $"{rulePath}.reason"));
                    continue;
                }
                node.Rules.Add(new Rule(text, program, messageExpression, message.Trim(), reason, normalized));
            }
        }
        var mapAtomic = schema["x-kubernetes-map-type"]?.GetValue<string>() == "atomic";
        if (schema["properties"] is JsonObject properties)
            foreach (var (property, child) in properties)
                if (child is JsonObject childSchema
                    && Build(childSchema, $"{path}.properties[{property}]", $"{typeName}.{property}", false, uncorrelatable ?? (mapAtomic ? path : null), causes) is { HasRules: true } built)
                    node.Properties[property] = built;
        if (schema["items"] is JsonObject items)
        {
            var correlatable = schema["x-kubernetes-list-type"]?.GetValue<string>() == "map";
            if (Build(items, $"{path}.items", $"{typeName}.@idx", false, uncorrelatable ?? (correlatable ? null : path), causes) is { HasRules: true } built)
                node.Items = built;
        }
        if (schema["additionalProperties"] is JsonObject additional
            && Build(additional, $"{path}.additionalProperties", $"{typeName}.@", false, uncorrelatable ?? (mapAtomic ? path : null), causes) is { HasRules: true } builtAdditional)
            node.Additional = builtAdditional;
        return node;
    }

    /// <summary>Go's %#v of the apiextensions.ValidationRule, as the real server quotes a rule that does not compile.</summary>
    private static string Render(JsonObject rule)
    {
        string Quote(string? s) => JsonSerializer.Serialize(s ?? "", WireJson.Options);
        var reason = rule["reason"]?.GetValue<string>();
        var optional = rule["optionalOldSelf"]?.GetValue<bool>();
        return $"apiextensions.ValidationRule{{Rule:{Quote(rule["rule"]?.GetValue<string>())}, Message:{Quote(rule["message"]?.GetValue<string>())}, " +
            $"MessageExpression:{Quote(rule["messageExpression"]?.GetValue<string>())}, Reason:{(reason is null ? "(*apiextensions.FieldValueErrorReason)(nil)" : $"\"{reason}\"")}, " +
            $"FieldPath:{Quote(rule["fieldPath"]?.GetValue<string>())}, OptionalOldSelf:{(optional is null ? "(*bool)(nil)" : optional.Value ? "true" : "false")}}}";
    }

    /// <summary>A rule's fieldPath (".a.b", ".a['b.c']") as a field path below the rule's node, or null when it names no field of the schema.</summary>
    private static string? NormalizeFieldPath(string fieldPath, JsonObject schema)
    {
        var parts = new List<string>();
        var rest = fieldPath.Trim();
        var current = schema;
        while (rest.Length > 0)
        {
            string name;
            if (rest.StartsWith("['", StringComparison.Ordinal))
            {
                var end = rest.IndexOf("']", StringComparison.Ordinal);
                if (end < 0) return null;
                name = rest[2..end];
                rest = rest[(end + 2)..];
                parts.Add(current["additionalProperties"] is JsonObject ? $"[{name}]" : name);
            }
            else if (rest.StartsWith('.'))
            {
                rest = rest[1..];
                var end = rest.IndexOfAny(['.', '[']);
                name = end < 0 ? rest : rest[..end];
                rest = end < 0 ? "" : rest[end..];
                if (name.Length == 0) return null;
                parts.Add(name);
            }
            else return null;
            if (current["properties"]?[name] is JsonObject property) current = property;
            else if (current["additionalProperties"] is JsonObject additional) current = additional;
            else return null;
        }
        return string.Concat(parts.Select((p, i) => p.StartsWith('[') || i == 0 ? p : "." + p));
    }

    /// <summary>Evaluates every rule against <paramref name="obj"/> (and <paramref name="old"/> on an update).</summary>
    /// <param name="warnings">Failures that ratcheting turned into warnings (unchanged values on an update).</param>
    public IReadOnlyList<StatusCause> Validate(JsonObject obj, JsonObject? old, List<string> warnings)
    {
        var causes = new List<StatusCause>();
        Validate(_root, null, obj, old, old is not null, causes, warnings);
        return causes;
    }

    private static void Validate(Node node, string? path, JsonNode? value, JsonNode? old, bool hasOld, List<StatusCause> causes, List<string> warnings)
    {
        if (value is null) return;
        if (node.Rules.Count > 0) Evaluate(node, path, value, old, hasOld, causes, warnings);
        switch (value)
        {
            case JsonObject obj:
                foreach (var (property, child) in node.Properties)
                    if (obj.TryGetPropertyValue(property, out var childValue))
                    {
                        var oldObject = old as JsonObject;
                        var childHasOld = hasOld && oldObject is not null && oldObject.ContainsKey(property);
                        Validate(child, Child(path, property), childValue, childHasOld ? oldObject![property] : null, childHasOld, causes, warnings);
                    }
                if (node.Additional is { } additional)
                    foreach (var (key, childValue) in obj)
                    {
                        if (node.Properties.ContainsKey(key)) continue;
                        var oldObject = old as JsonObject;
                        var childHasOld = hasOld && oldObject is not null && oldObject.ContainsKey(key);
                        Validate(additional, $"{path ?? ""}[{key}]", childValue, childHasOld ? oldObject![key] : null, childHasOld, causes, warnings);
                    }
                break;
            case JsonArray array when node.Items is { } items:
                var keys = node.Schema["x-kubernetes-list-map-keys"] is JsonArray k ? k.Select(x => x!.GetValue<string>()).ToArray() : [];
                var mapList = node.Schema["x-kubernetes-list-type"]?.GetValue<string>() == "map" && keys.Length > 0;
                for (var i = 0; i < array.Count; i++)
                {
                    JsonNode? oldItem = null;
                    var itemHasOld = false;
                    if (hasOld && mapList && old is JsonArray oldArray && array[i] is JsonObject item)
                    {
                        oldItem = oldArray.FirstOrDefault(o => o is JsonObject oo && keys.All(key => JsonNode.DeepEquals(oo[key], item[key])));
                        itemHasOld = oldItem is not null;
                    }
                    Validate(items, $"{path ?? ""}[{i.ToString(CultureInfo.InvariantCulture)}]", array[i], oldItem, itemHasOld, causes, warnings);
                }
                break;
        }
    }

    private static string Child(string? path, string property) => path is null ? property : $"{path}.{property}";

    private static void Evaluate(Node node, string? path, JsonNode value, JsonNode? old, bool hasOld, List<StatusCause> causes, List<string> warnings)
    {
        var schemaType = node.Schema["type"]?.GetValue<string>() ?? "";
        var self = CelSchema.ValueOf(value, node.Schema, node.TypeName, node.Root);
        var activation = new Dictionary<string, object?> { ["self"] = self };
        if (hasOld) activation["oldSelf"] = CelSchema.ValueOf(old, node.Schema, node.TypeName, node.Root);
        var unchanged = hasOld && JsonNode.DeepEquals(value, old);
        var where = path ?? "<nil>";
        foreach (var rule in node.Rules)
        {
            var transition = rule.Program.Variables.Contains("oldSelf");
            if (transition && !hasOld) continue;
            var result = rule.Program.Evaluate(activation);
            StatusCause cause;
            if (result is true) continue;
            if (result is CelError error)
            {
                var ruleText = rule.Message.Length > 0 ? rule.Message : rule.Text.Trim();
                var detail = error.Message.StartsWith("no such overload", StringComparison.Ordinal)
                    ? $"'{error.Message}': call arguments did not match a supported operator, function or macro signature for rule: {ruleText}"
                    : $"{error.Message} evaluating rule: {ruleText}";
                cause = new StatusCause("FieldValueInvalid", $"Invalid value: \"{schemaType}\": {detail}", where);
            }
            else
            {
                var message = rule.Message.Length > 0 ? rule.Message : $"failed rule: {rule.Text.Trim()}";
                if (rule.MessageExpression?.Evaluate(activation) is string evaluated && evaluated.Trim() is { Length: > 0 } trimmed && !trimmed.Contains('\n'))
                    message = trimmed;
                var fieldPath = rule.FieldPath.Length == 0 ? where
                    : path is null ? rule.FieldPath
                    : rule.FieldPath.StartsWith('[') ? where + rule.FieldPath : $"{where}.{rule.FieldPath}";
                var shown = schemaType is "object" or "array" || value is JsonObject or JsonArray ? "" : $" {RenderValue(value)}:";
                cause = rule.Reason switch
                {
                    "FieldValueForbidden" => new StatusCause("FieldValueForbidden", $"Forbidden: {message}", fieldPath),
                    "FieldValueRequired" => new StatusCause("FieldValueRequired", $"Required value: {message}", fieldPath),
                    "FieldValueDuplicate" => new StatusCause("FieldValueDuplicate", $"Duplicate value:{(shown.Length > 0 ? shown.TrimEnd(':') : "")}", fieldPath),
                    _ => new StatusCause("FieldValueInvalid", $"Invalid value:{shown} {message}", fieldPath),
                };
            }
            if (unchanged && !transition) warnings.Add($"{cause.Field}: {cause.Message}");
            else causes.Add(cause);
        }
    }

    private static string RenderValue(JsonNode value) => value is JsonValue v && v.GetValueKind() == JsonValueKind.String
        ? JsonSerializer.Serialize(v.GetValue<string>(), WireJson.Options)
        : value.ToJsonString();
}
