namespace Trellis.ApiServer.Cel;

/// <summary>A node of a parsed CEL expression; <see cref="Position"/> is its offset in the source, for errors.</summary>
public abstract record CelExpr(int Position);

public sealed record CelLiteral(int Position, object? Value) : CelExpr(Position);

public sealed record CelIdent(int Position, string Name) : CelExpr(Position);

/// <param name="TestOnly">has(a.b): true when the field is present, never an error for its absence.</param>
public sealed record CelSelect(int Position, CelExpr Operand, string Field, bool TestOnly) : CelExpr(Position);

/// <param name="Target">The receiver of a member call (a.f(x)), or null for a global call f(x) and operators.</param>
public sealed record CelCall(int Position, string Function, CelExpr? Target, IReadOnlyList<CelExpr> Args) : CelExpr(Position);

public sealed record CelList(int Position, IReadOnlyList<CelExpr> Elements) : CelExpr(Position);

public sealed record CelMapLiteral(int Position, IReadOnlyList<(CelExpr Key, CelExpr Value)> Entries) : CelExpr(Position);

public enum CelMacroKind { All, Exists, ExistsOne, Map, Filter }

/// <summary>The comprehension macros: range.all(x, p), exists, exists_one, map(x, [filter,] t), filter(x, p).</summary>
/// <param name="Filter">map's optional filter (three-argument form).</param>
public sealed record CelComprehension(int Position, CelMacroKind Kind, CelExpr Range, string Variable, CelExpr Body, CelExpr? Filter) : CelExpr(Position);

/// <summary>An expression that does not parse: the message says where and why.</summary>
public sealed class CelSyntaxException(string message) : Exception(message);
