using k8s.Models;

namespace Trellis.NetworkPolicy.Facts;

public enum SelectorOperator
{
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

public sealed record SelectorRequirement(string Key, SelectorOperator Operator, IReadOnlyList<string> Values)
{
    public bool Matches(IReadOnlyDictionary<string, string> labels)
    {
        bool present = labels.TryGetValue(Key, out var value);
        return Operator switch
        {
            SelectorOperator.In => present && Values.Contains(value!),
            SelectorOperator.NotIn => !present || !Values.Contains(value!),
            SelectorOperator.Exists => present,
            _ => !present,
        };
    }
}

/// <summary>
/// A podSelector or namespaceSelector of a NetworkPolicy, checked and parsed once: every
/// matchLabels pair and every matchExpression must hold; no requirement at all selects everything.
/// </summary>
public sealed record PolicySelector(IReadOnlyList<SelectorRequirement> Requirements)
{
    public static readonly PolicySelector Everything = new([]);

    public bool SelectsEverything => Requirements.Count == 0;

    public bool Matches(IReadOnlyDictionary<string, string> labels)
    {
        // A loop, not LINQ: the compiler asks this for every pod of every selected namespace.
        foreach (var requirement in Requirements)
            if (!requirement.Matches(labels)) return false;
        return true;
    }

    /// <summary>One spelling per meaning (matchLabels a=b and "a In (b)" read alike), to tell equal selectors apart from different ones.</summary>
    public string Canonical => SelectsEverything
        ? "everything"
        : string.Join(", ", Requirements
            .Select(r => r.Operator is SelectorOperator.Exists or SelectorOperator.DoesNotExist
                ? $"{r.Key} {r.Operator}"
                : $"{r.Key} {r.Operator} ({string.Join(" ", r.Values.Distinct().Order(StringComparer.Ordinal))})")
            .Distinct().Order(StringComparer.Ordinal));

    /// <summary>Parses a selector; <paramref name="error"/> names the field at fault under <paramref name="path"/>.</summary>
    public static PolicySelector? Parse(V1LabelSelector? selector, string path, out string? error)
    {
        error = null;
        if (selector is null) return Everything;
        var requirements = new List<SelectorRequirement>();
        foreach (var (key, value) in selector.MatchLabels ?? new Dictionary<string, string>())
            requirements.Add(new SelectorRequirement(key, SelectorOperator.In, [value ?? ""]));
        var expressions = selector.MatchExpressions ?? [];
        for (int i = 0; i < expressions.Count; i++)
        {
            var expression = expressions[i];
            var where = $"{path}.matchExpressions[{i}]";
            if (string.IsNullOrEmpty(expression.Key))
            {
                error = $"{where}.key is empty";
                return null;
            }
            var values = expression.Values ?? [];
            SelectorOperator op;
            switch (expression.OperatorProperty)
            {
                case "In":
                    op = SelectorOperator.In;
                    break;
                case "NotIn":
                    op = SelectorOperator.NotIn;
                    break;
                case "Exists":
                    op = SelectorOperator.Exists;
                    break;
                case "DoesNotExist":
                    op = SelectorOperator.DoesNotExist;
                    break;
                default:
                    error = $"{where}.operator \"{expression.OperatorProperty}\" is not one of In, NotIn, Exists, DoesNotExist";
                    return null;
            }
            if (op is SelectorOperator.In or SelectorOperator.NotIn && values.Count == 0)
            {
                error = $"{where}: operator {expression.OperatorProperty} needs at least one value";
                return null;
            }
            if (op is SelectorOperator.Exists or SelectorOperator.DoesNotExist && values.Count > 0)
            {
                error = $"{where}: operator {expression.OperatorProperty} takes no values";
                return null;
            }
            requirements.Add(new SelectorRequirement(expression.Key, op, values.ToList()));
        }
        return new PolicySelector(requirements);
    }
}
