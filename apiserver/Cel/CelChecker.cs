using System.Collections.Immutable;

namespace Trellis.ApiServer.Cel;

/// <summary>A rule that does not type-check: every message in cel-go's shape.</summary>
public sealed class CelCheckException(string message) : Exception(message);

/// <summary>
/// The type checker: every identifier declared, every field of an object type declared in its
/// schema, every call matching an overload. What cel-go's checker refuses (and so what makes a
/// CRD fail to register on a real server) fails here, with cel-go's messages.
/// </summary>
public sealed class CelChecker
{
    private readonly string _source;
    private readonly List<string> _errors = [];

    internal Dictionary<CelExpr, CelType> Types { get; } = new(ReferenceEqualityComparer.Instance);
    internal Dictionary<CelCall, IReadOnlyList<CelOverload>> Candidates { get; } = new(ReferenceEqualityComparer.Instance);
    /// <summary>Calls written as ns.f(x) that name a namespaced global function (ip.isCanonical, strings.quote, sets.*).</summary>
    internal Dictionary<CelCall, string> NamespacedCalls { get; } = new(ReferenceEqualityComparer.Instance);

    private CelChecker(string source) => _source = source;

    /// <summary>The type identifiers usable as values (type(x) == string).</summary>
    internal static readonly IReadOnlyDictionary<string, CelType> TypeNames = new Dictionary<string, CelType>
    {
        ["int"] = CelType.Int, ["uint"] = CelType.Uint, ["double"] = CelType.Double, ["bool"] = CelType.Bool, ["string"] = CelType.String,
        ["bytes"] = CelType.Bytes, ["null_type"] = CelType.Null, ["type"] = CelType.TypeOfTypes,
        ["list"] = CelType.ListOf(CelType.Dyn), ["map"] = CelType.MapOf(CelType.Dyn, CelType.Dyn),
    };

    /// <exception cref="CelCheckException">Every problem found, as cel-go lists them.</exception>
    public static CelChecker Check(string source, CelExpr expr, IReadOnlyDictionary<string, CelType> variables, out CelType result)
    {
        var checker = new CelChecker(source);
        result = checker.Visit(expr, variables.ToImmutableDictionary());
        if (checker._errors.Count > 0) throw new CelCheckException(string.Join("\n", checker._errors));
        return checker;
    }

    private CelType Fail(CelExpr at, string message)
    {
        _errors.Add(CelParser.Describe(_source, at.Position, message));
        return CelType.Error;
    }

    private CelType Visit(CelExpr expr, ImmutableDictionary<string, CelType> scope)
    {
        var type = expr switch
        {
            CelLiteral l => CelEquality.TypeOf(l.Value),
            CelIdent i => scope.TryGetValue(i.Name, out var t) ? t
                : TypeNames.ContainsKey(i.Name) ? CelType.TypeOfTypes
                : Fail(i, $"undeclared reference to '{i.Name}' (in container '')"),
            CelSelect s => Select(s, scope),
            CelList l => ListType(l, scope),
            CelMapLiteral m => MapType(m, scope),
            CelComprehension c => Comprehension(c, scope),
            CelCall c => Call(c, scope),
            _ => Fail(expr, "unsupported expression"),
        };
        Types[expr] = type;
        return type;
    }

    private CelType Select(CelSelect s, ImmutableDictionary<string, CelType> scope)
    {
        var operand = Visit(s.Operand, scope);
        CelType type;
        switch (operand.Kind)
        {
            case CelKind.Dyn or CelKind.Error: type = CelType.Dyn; break;
            case CelKind.Map when operand.Key!.Kind is CelKind.String or CelKind.Dyn: type = operand.Element!; break;
            case CelKind.Object:
                if (!operand.Fields!.TryGetValue(s.Field, out var fieldType)) return Fail(s, $"undefined field '{s.Field}'");
                type = fieldType;
                break;
            default: return Fail(s, $"type '{operand}' does not support field selection");
        }
        return s.TestOnly ? CelType.Bool : type;
    }

    private CelType ListType(CelList l, ImmutableDictionary<string, CelType> scope)
    {
        var types = l.Elements.Select(e => Visit(e, scope)).ToList();
        return CelType.ListOf(Join(types));
    }

    private CelType MapType(CelMapLiteral m, ImmutableDictionary<string, CelType> scope)
    {
        var keys = new List<CelType>();
        var values = new List<CelType>();
        foreach (var (key, value) in m.Entries)
        {
            var keyType = Visit(key, scope);
            if (keyType.Kind is not (CelKind.String or CelKind.Int or CelKind.Uint or CelKind.Bool or CelKind.Dyn or CelKind.Error))
                Fail(key, $"unsupported map key type: {keyType}");
            keys.Add(keyType);
            values.Add(Visit(value, scope));
        }
        return CelType.MapOf(Join(keys), Join(values));
    }

    /// <summary>The one type of all, or dyn when they differ (cel-go's list and map literal typing without heterogeneous-literal errors).</summary>
    private static CelType Join(List<CelType> types)
    {
        var known = types.Where(t => t.Kind is not (CelKind.Error or CelKind.Dyn)).ToList();
        if (known.Count == 0) return CelType.Dyn;
        return known.All(t => t.SameAs(known[0])) && known.Count == types.Count ? known[0] : CelType.Dyn;
    }

    private CelType Comprehension(CelComprehension c, ImmutableDictionary<string, CelType> scope)
    {
        var range = Visit(c.Range, scope);
        var variable = range.Kind switch
        {
            CelKind.List => range.Element!,
            CelKind.Map => range.Key!,
            CelKind.Dyn or CelKind.Error => CelType.Dyn,
            _ => Fail(c.Range, $"expression of type '{range}' cannot be range of a comprehension (must be list, map, or dynamic)"),
        };
        var inner = scope.SetItem(c.Variable, variable);
        if (c.Filter is not null) RequireBool(c.Filter, Visit(c.Filter, inner), c.Kind.ToString().ToLowerInvariant());
        var body = Visit(c.Body, inner);
        switch (c.Kind)
        {
            case CelMacroKind.Map: return CelType.ListOf(body);
            case CelMacroKind.Filter:
                RequireBool(c.Body, body, "filter");
                return CelType.ListOf(variable);
            default:
                RequireBool(c.Body, body, c.Kind switch { CelMacroKind.All => "all", CelMacroKind.Exists => "exists", _ => "exists_one" });
                return CelType.Bool;
        }
    }

    private void RequireBool(CelExpr at, CelType type, string what)
    {
        if (type.Kind is not (CelKind.Bool or CelKind.Dyn or CelKind.Error))
            Fail(at, $"found no matching overload for '{what}' predicate applied to '{type}' (a predicate must be bool)");
    }

    private CelType Call(CelCall c, ImmutableDictionary<string, CelType> scope)
    {
        var name = c.Function;
        var target = c.Target;
        // ip.isCanonical(x), strings.quote(x), sets.contains(a, b): a namespaced global function, not a member call on a variable.
        if (target is CelIdent ns && !scope.ContainsKey(ns.Name) && CelLibrary.ByName.Contains($"{ns.Name}.{name}"))
        {
            name = $"{ns.Name}.{name}";
            target = null;
            NamespacedCalls[c] = name;
        }
        var args = c.Args.Select(a => Visit(a, scope)).ToList();
        var receiver = target is null ? null : Visit(target, scope);
        if (args.Any(a => a.Kind == CelKind.Error) || receiver?.Kind == CelKind.Error) return CelType.Dyn;

        switch (name)
        {
            case "_&&_" or "_||_":
                foreach (var (arg, type) in c.Args.Zip(args))
                    if (type.Kind is not (CelKind.Bool or CelKind.Dyn)) return NoOverload(c, name, args, null);
                return CelType.Bool;
            case "_?_:_":
                if (args[0].Kind is not (CelKind.Bool or CelKind.Dyn)) return NoOverload(c, name, args, null);
                if (args[1].Kind == CelKind.Dyn || args[2].Kind == CelKind.Dyn) return CelType.Dyn;
                if (args[1].Kind == CelKind.Null) return args[2];
                if (args[2].Kind == CelKind.Null) return args[1];
                return Compatible(args[1], args[2]) ? args[1] : NoOverload(c, name, args, null);
            case "_==_" or "_!=_":
                return Compatible(args[0], args[1]) ? CelType.Bool : NoOverload(c, name, args, null);
            case "@in":
                return args[1].Kind switch
                {
                    CelKind.Dyn => CelType.Bool,
                    CelKind.List when Compatible(args[0], args[1].Element!) => CelType.Bool,
                    CelKind.Map when Compatible(args[0], args[1].Key!) => CelType.Bool,
                    _ => NoOverload(c, name, args, null),
                };
            case "_[_]":
                return args[0].Kind switch
                {
                    CelKind.Dyn => CelType.Dyn,
                    CelKind.List when args[1].Kind is CelKind.Int or CelKind.Uint or CelKind.Dyn => args[0].Element!,
                    CelKind.Map when Compatible(args[0].Key!, args[1]) => args[0].Element!,
                    _ => NoOverload(c, name, args, null),
                };
        }

        var candidates = CelLibrary.ByName[name].Where(o => o.Member == (target is not null) && o.Params.Count == args.Count + (target is null ? 0 : 1)).ToList();
        if (candidates.Count == 0)
            return target is null
                ? Fail(c, $"undeclared reference to '{name}' (in container '')")
                : Fail(c, $"undeclared reference to '{name}' (in container '')");
        var actual = (receiver is null ? args : args.Prepend(receiver)).ToList();
        var matching = new List<(CelOverload Overload, CelType Result)>();
        foreach (var overload in candidates)
        {
            var bindings = new Dictionary<string, CelType>();
            if (overload.Params.Zip(actual).All(p => Unify(p.First, p.Second, bindings)))
                matching.Add((overload, Substitute(overload.Result, bindings)));
        }
        if (matching.Count == 0) return NoOverload(c, name, args, receiver);
        Candidates[c] = matching.Select(m => m.Overload).ToArray();
        return matching.Count == 1 || matching.All(m => m.Result.SameAs(matching[0].Result)) ? matching[0].Result : CelType.Dyn;
    }

    private CelType NoOverload(CelCall c, string name, List<CelType> args, CelType? receiver) =>
        Fail(c, receiver is null
            ? $"found no matching overload for '{name}' applied to '({string.Join(", ", args)})'"
            : $"found no matching overload for '{name}' applied to '{receiver}.({string.Join(", ", args)})'");

    /// <summary>Whether two types can be compared for equality: the same type, or either dyn.</summary>
    private static bool Compatible(CelType a, CelType b)
    {
        var bindings = new Dictionary<string, CelType>();
        return Unify(CelType.Param("T"), a, bindings) && Unify(CelType.Param("T"), b, bindings);
    }

    private static bool Unify(CelType parameter, CelType argument, Dictionary<string, CelType> bindings)
    {
        if (argument.Kind is CelKind.Dyn or CelKind.Error) return true;
        if (parameter.Kind == CelKind.Dyn) return true;
        if (parameter.Kind == CelKind.TypeParam)
        {
            if (!bindings.TryGetValue(parameter.Name, out var bound))
            {
                bindings[parameter.Name] = argument;
                return true;
            }
            if (bound.Kind == CelKind.Dyn) return true;
            if (bound.Kind == CelKind.List && argument.Kind == CelKind.List) return Unify(bound.Element!, argument.Element!, bindings) || Unify(argument.Element!, bound.Element!, bindings);
            if (bound.Kind == CelKind.Map && argument.Kind == CelKind.Map)
                return (Unify(bound.Key!, argument.Key!, bindings) || Unify(argument.Key!, bound.Key!, bindings))
                    && (Unify(bound.Element!, argument.Element!, bindings) || Unify(argument.Element!, bound.Element!, bindings));
            return bound.SameAs(argument) || argument.Kind == CelKind.Dyn;
        }
        if (parameter.Kind != argument.Kind) return false;
        return parameter.Kind switch
        {
            CelKind.List => Unify(parameter.Element!, argument.Element!, bindings),
            CelKind.Map => Unify(parameter.Key!, argument.Key!, bindings) && Unify(parameter.Element!, argument.Element!, bindings),
            CelKind.Object => parameter.Name == argument.Name,
            _ => true,
        };
    }

    private static CelType Substitute(CelType type, Dictionary<string, CelType> bindings) => type.Kind switch
    {
        CelKind.TypeParam => bindings.GetValueOrDefault(type.Name) ?? CelType.Dyn,
        CelKind.List => CelType.ListOf(Substitute(type.Element!, bindings)),
        CelKind.Map => CelType.MapOf(Substitute(type.Key!, bindings), Substitute(type.Element!, bindings)),
        _ => type,
    };
}
