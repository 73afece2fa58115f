using System.Collections.Immutable;

namespace Trellis.ApiServer.Cel;

/// <summary>
/// Evaluates a checked expression. Errors are values: &amp;&amp; and || absorb them whichever side they
/// are on when the other side decides (false &amp;&amp; error = false, error || true = true), as do
/// all (a false) and exists (a true); ?: evaluates only the chosen branch; anything else returns
/// the first error it meets.
/// </summary>
internal sealed class CelInterpreter(CelChecker checker)
{
    public object? Evaluate(CelExpr expr, ImmutableDictionary<string, object?> activation) => expr switch
    {
        CelLiteral l => l.Value,
        CelIdent i => activation.TryGetValue(i.Name, out var v) ? v
            : CelChecker.TypeNames.TryGetValue(i.Name, out var type) ? type
            : new CelError($"no such attribute: {i.Name}"),
        CelSelect s => Select(s, activation),
        CelList l => List(l, activation),
        CelMapLiteral m => Map(m, activation),
        CelComprehension c => Comprehension(c, activation),
        CelCall c => Call(c, activation),
        _ => new CelError("unsupported expression"),
    };

    private object? Select(CelSelect s, ImmutableDictionary<string, object?> activation)
    {
        var operand = Evaluate(s.Operand, activation);
        switch (operand)
        {
            case CelError: return operand;
            case CelObjectValue obj:
                if (s.TestOnly) return obj.Fields.ContainsKey(s.Field);
                return obj.Fields.TryGetValue(s.Field, out var value) ? value : new CelError($"no such key: {s.Field}");
            case CelMapValue map:
                if (s.TestOnly) return map.TryGet(s.Field, out _);
                return map.TryGet(s.Field, out var entry) ? entry : new CelError($"no such key: {s.Field}");
            default:
                return new CelError($"type '{CelEquality.TypeOf(operand)}' does not support field selection");
        }
    }

    private object? List(CelList l, ImmutableDictionary<string, object?> activation)
    {
        var items = new object?[l.Elements.Count];
        for (var i = 0; i < items.Length; i++)
        {
            items[i] = Evaluate(l.Elements[i], activation);
            if (items[i] is CelError) return items[i];
        }
        return new CelListValue(items);
    }

    private object? Map(CelMapLiteral m, ImmutableDictionary<string, object?> activation)
    {
        var entries = new List<KeyValuePair<object, object?>>();
        foreach (var (keyExpr, valueExpr) in m.Entries)
        {
            var key = Evaluate(keyExpr, activation);
            if (key is CelError) return key;
            var value = Evaluate(valueExpr, activation);
            if (value is CelError) return value;
            if (entries.Any(e => CelEquality.KeyEquals(e.Key, key!))) return new CelError($"Failed with repeated key: {key}");
            entries.Add(KeyValuePair.Create(key!, value));
        }
        return new CelMapValue(entries);
    }

    private object? Comprehension(CelComprehension c, ImmutableDictionary<string, object?> activation)
    {
        var range = Evaluate(c.Range, activation);
        IReadOnlyList<object?> items = range switch
        {
            CelListValue list => list.Items,
            CelMapValue map => map.Entries.Select(e => (object?)e.Key).ToArray(),
            CelError => [],
            _ => [],
        };
        if (range is CelError) return range;
        if (range is not (CelListValue or CelMapValue)) return CelError.NoSuchOverload("comprehension range");
        CelError? error = null;
        switch (c.Kind)
        {
            case CelMacroKind.All:
                foreach (var item in items)
                {
                    var result = Evaluate(c.Body, activation.SetItem(c.Variable, item));
                    if (result is false) return false;
                    if (result is not true) error ??= result as CelError ?? CelError.NoSuchOverload("all");
                }
                return error is null ? true : error;
            case CelMacroKind.Exists:
                foreach (var item in items)
                {
                    var result = Evaluate(c.Body, activation.SetItem(c.Variable, item));
                    if (result is true) return true;
                    if (result is not false) error ??= result as CelError ?? CelError.NoSuchOverload("exists");
                }
                return error is null ? false : error;
            case CelMacroKind.ExistsOne:
                var count = 0;
                foreach (var item in items)
                {
                    var result = Evaluate(c.Body, activation.SetItem(c.Variable, item));
                    if (result is CelError) return result;
                    if (result is true) count++;
                    else if (result is not false) return CelError.NoSuchOverload("exists_one");
                }
                return count == 1;
            case CelMacroKind.Filter:
                var kept = new List<object?>();
                foreach (var item in items)
                {
                    var result = Evaluate(c.Body, activation.SetItem(c.Variable, item));
                    if (result is CelError) return result;
                    if (result is true) kept.Add(item);
                    else if (result is not false) return CelError.NoSuchOverload("filter");
                }
                return new CelListValue(kept);
            default:
                var mapped = new List<object?>();
                foreach (var item in items)
                {
                    var scope = activation.SetItem(c.Variable, item);
                    if (c.Filter is not null)
                    {
                        var keep = Evaluate(c.Filter, scope);
                        if (keep is CelError) return keep;
                        if (keep is false) continue;
                        if (keep is not true) return CelError.NoSuchOverload("map");
                    }
                    var result = Evaluate(c.Body, scope);
                    if (result is CelError) return result;
                    mapped.Add(result);
                }
                return new CelListValue(mapped);
        }
    }

    private object? Call(CelCall c, ImmutableDictionary<string, object?> activation)
    {
        switch (c.Function)
        {
            case "_&&_" or "_||_":
            {
                var decisive = c.Function == "_||_";
                var left = Evaluate(c.Args[0], activation);
                if (left is bool l && l == decisive) return decisive;
                var right = Evaluate(c.Args[1], activation);
                if (right is bool r && r == decisive) return decisive;
                if (left is CelError) return left;
                if (right is CelError) return right;
                if (left is not bool || right is not bool) return CelError.NoSuchOverload(c.Function);
                return !decisive;
            }
            case "_?_:_":
            {
                var condition = Evaluate(c.Args[0], activation);
                return condition switch
                {
                    true => Evaluate(c.Args[1], activation),
                    false => Evaluate(c.Args[2], activation),
                    CelError => condition,
                    _ => CelError.NoSuchOverload("_?_:_"),
                };
            }
        }
        var target = c.Target is null || checker.NamespacedCalls.ContainsKey(c) ? null : Evaluate(c.Target, activation);
        if (target is CelError) return target;
        var args = new object?[c.Args.Count];
        for (var i = 0; i < args.Length; i++)
        {
            args[i] = Evaluate(c.Args[i], activation);
            if (args[i] is CelError) return args[i];
        }
        switch (c.Function)
        {
            case "_==_": return CelEquality.Equal(args[0], args[1]);
            case "_!=_": return !CelEquality.Equal(args[0], args[1]);
            case "@in":
                return args[1] switch
                {
                    CelListValue list => list.Items.Any(i => CelEquality.Equal(i, args[0])),
                    CelMapValue map => map.TryGet(args[0]!, out _),
                    _ => CelError.NoSuchOverload("@in"),
                };
            case "_[_]": return Index(args[0], args[1]);
        }
        var actual = c.Target is null || checker.NamespacedCalls.ContainsKey(c) ? args : args.Prepend(target).ToArray();
        if (!checker.Candidates.TryGetValue(c, out var candidates)) return CelError.NoSuchOverload(c.Function);
        foreach (var overload in candidates)
            if (overload.Params.Zip(actual).All(p => Matches(p.First, p.Second)))
                return overload.Impl(actual);
        return CelError.NoSuchOverload(c.Function);
    }

    private static object? Index(object? container, object? index)
    {
        switch (container)
        {
            case CelListValue list:
                long position;
                switch (index)
                {
                    case long l: position = l; break;
                    case ulong u: position = u > long.MaxValue ? -1 : (long)u; break;
                    case double d when double.IsInteger(d): position = (long)d; break;
                    default: return CelError.NoSuchOverload("_[_]");
                }
                return position >= 0 && position < list.Items.Count ? list.Items[(int)position] : new CelError($"index out of bounds: {index}");
            case CelMapValue map:
                return map.TryGet(index!, out var value) ? value : new CelError($"no such key: {index}");
            case CelObjectValue obj when index is string field:
                return obj.Fields.TryGetValue(field, out var fieldValue) ? fieldValue : new CelError($"no such key: {field}");
            default:
                return CelError.NoSuchOverload("_[_]");
        }
    }

    /// <summary>Whether a runtime value fits an overload's parameter (dispatch for dyn-typed arguments).</summary>
    private static bool Matches(CelType parameter, object? value) => parameter.Kind switch
    {
        CelKind.Dyn or CelKind.TypeParam => true,
        CelKind.Int => value is long,
        CelKind.Uint => value is ulong,
        CelKind.Double => value is double,
        CelKind.String => value is string,
        CelKind.Bool => value is bool,
        CelKind.Bytes => value is byte[],
        CelKind.Null => value is CelNull,
        CelKind.List => value is CelListValue list && (parameter.Element!.Kind is CelKind.Dyn or CelKind.TypeParam || list.Items.All(i => Matches(parameter.Element!, i))),
        CelKind.Map => value is CelMapValue,
        CelKind.Object => value is CelObjectValue,
        CelKind.Timestamp => value is DateTimeOffset,
        CelKind.Duration => value is TimeSpan,
        CelKind.IP => value is CelIp,
        CelKind.CIDR => value is CelCidr,
        CelKind.Type => value is CelType,
        _ => false,
    };
}
