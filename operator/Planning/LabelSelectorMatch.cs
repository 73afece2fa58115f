using k8s.Models;

namespace Trellis.Operator.Planning;

/// <summary>Whether a PodNetwork's nodeSelector selects a node: Kubernetes label selector semantics (matchLabels AND every matchExpression), without I/O.</summary>
public static class LabelSelectorMatch
{
    public const string In = "In";
    public const string NotIn = "NotIn";
    public const string Exists = "Exists";
    public const string DoesNotExist = "DoesNotExist";

    /// <summary>A null or empty selector selects everything, as a PodNetwork's nodeSelector does.</summary>
    public static bool Matches(V1LabelSelector? selector, IDictionary<string, string>? labels)
    {
        if (selector is null) return true;
        labels ??= new Dictionary<string, string>();
        if (selector.MatchLabels is { } matchLabels)
            foreach (var (key, value) in matchLabels)
                if (!labels.TryGetValue(key, out var actual) || actual != value) return false;
        if (selector.MatchExpressions is { } expressions)
            foreach (var expression in expressions)
                if (!Matches(expression, labels)) return false;
        return true;
    }

    /// <summary>What is wrong with a selector, one sentence per problem; empty when it is usable.</summary>
    public static IReadOnlyList<string> Problems(V1LabelSelector? selector)
    {
        var problems = new List<string>();
        if (selector?.MatchExpressions is not { } expressions) return problems;
        foreach (var e in expressions)
        {
            if (string.IsNullOrEmpty(e.Key))
                problems.Add("a matchExpression has no key");
            switch (e.OperatorProperty)
            {
                case In or NotIn when e.Values is not { Count: > 0 }:
                    problems.Add($"matchExpression on \"{e.Key}\" with operator {e.OperatorProperty} needs at least one value");
                    break;
                case Exists or DoesNotExist when e.Values is { Count: > 0 }:
                    problems.Add($"matchExpression on \"{e.Key}\" with operator {e.OperatorProperty} must have no values");
                    break;
                case In or NotIn or Exists or DoesNotExist:
                    break;
                default:
                    problems.Add($"matchExpression on \"{e.Key}\" has unknown operator \"{e.OperatorProperty}\" (expected In, NotIn, Exists or DoesNotExist)");
                    break;
            }
        }
        return problems;
    }

    // An expression with an unknown operator selects nothing, so a broken selector never widens a network.
    private static bool Matches(V1LabelSelectorRequirement expression, IDictionary<string, string> labels)
    {
        bool has = labels.TryGetValue(expression.Key ?? "", out var value);
        var values = expression.Values ?? [];
        return expression.OperatorProperty switch
        {
            In => has && values.Contains(value!),
            NotIn => !has || !values.Contains(value!),
            Exists => has,
            DoesNotExist => !has,
            _ => false,
        };
    }
}
