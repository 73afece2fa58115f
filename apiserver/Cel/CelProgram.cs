using System.Collections.Immutable;

namespace Trellis.ApiServer.Cel;

/// <summary>
/// A compiled CEL expression: parsed, type-checked against its declared variables, ready to
/// evaluate many times. This is the server's own CEL: the Cel package on NuGet (0.3.3) parses
/// without type-checking (an undefined field or a wrong-typed call "compiles"), absorbs errors in ||
/// on one side only, and has no namespaced functions (ip.isCanonical), so it cannot tell a CRD
/// author what a real API server tells them.
/// </summary>
public sealed class CelProgram
{
    private readonly CelExpr _expr;
    private readonly CelInterpreter _interpreter;

    private CelProgram(string source, CelExpr expr, CelChecker checker, CelType resultType)
    {
        Source = source;
        _expr = expr;
        _interpreter = new CelInterpreter(checker);
        ResultType = resultType;
        Variables = Collect(expr);
    }

    public string Source { get; }
    public CelType ResultType { get; }
    /// <summary>The identifiers the expression reads (so a rule that reads oldSelf is a transition rule).</summary>
    public IReadOnlySet<string> Variables { get; }

    /// <exception cref="CelSyntaxException">It does not parse.</exception>
    /// <exception cref="CelCheckException">It does not type-check.</exception>
    public static CelProgram Compile(string source, IReadOnlyDictionary<string, CelType> variables)
    {
        var expr = CelParser.Parse(source);
        var checker = CelChecker.Check(source, expr, variables, out var result);
        return new CelProgram(source, expr, checker, result);
    }

    /// <returns>The value, or a <see cref="CelError"/>.</returns>
    public object? Evaluate(IReadOnlyDictionary<string, object?> activation) =>
        _interpreter.Evaluate(_expr, activation.ToImmutableDictionary());

    private static HashSet<string> Collect(CelExpr expr)
    {
        var names = new HashSet<string>();
        void Walk(CelExpr e, ImmutableHashSet<string> bound)
        {
            switch (e)
            {
                case CelIdent i when !bound.Contains(i.Name): names.Add(i.Name); break;
                case CelSelect s: Walk(s.Operand, bound); break;
                case CelCall c:
                    if (c.Target is not null) Walk(c.Target, bound);
                    foreach (var a in c.Args) Walk(a, bound);
                    break;
                case CelList l: foreach (var x in l.Elements) Walk(x, bound); break;
                case CelMapLiteral m: foreach (var (k, v) in m.Entries) { Walk(k, bound); Walk(v, bound); } break;
                case CelComprehension c:
                    Walk(c.Range, bound);
                    var inner = bound.Add(c.Variable);
                    Walk(c.Body, inner);
                    if (c.Filter is not null) Walk(c.Filter, inner);
                    break;
            }
        }
        Walk(expr, []);
        return names;
    }
}
