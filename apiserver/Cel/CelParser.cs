using System.Globalization;
using System.Text;

namespace Trellis.ApiServer.Cel;

/// <summary>
/// The CEL grammar (cel-spec langdef): conditional, ||, &&, relations (in), + -, * / %, unary ! -,
/// member selection, index, calls, list and map literals, int/uint/double/string/bytes/bool/null
/// literals with every escape, and the macros has, all, exists, exists_one, map and filter.
/// Message construction (Type{...}) and optional syntax (?. [?]) are refused.
/// </summary>
public sealed class CelParser
{
    private static readonly HashSet<string> Reserved = ["as", "break", "const", "continue", "else", "for", "function", "if", "import", "let", "loop", "package", "namespace", "return", "var", "void", "while"];

    private readonly string _source;
    private readonly List<Token> _tokens;
    private int _at;

    private enum Kind { Int, Uint, Double, String, Bytes, Ident, Punct, End }

    private sealed record Token(Kind Kind, string Text, object? Value, int Position);

    private CelParser(string source)
    {
        _source = source;
        _tokens = Lex(source);
    }

    public static CelExpr Parse(string source)
    {
        var parser = new CelParser(source);
        var expr = parser.Expr();
        if (parser.Peek.Kind != Kind.End) throw parser.Error(parser.Peek.Position, $"mismatched input '{parser.Peek.Text}' expecting <EOF>");
        return expr;
    }

    /// <summary>cel-go's error shape: "ERROR: &lt;input&gt;:line:column: message", the source line and a caret.</summary>
    public static string Describe(string source, int position, string message)
    {
        var line = 1;
        var lineStart = 0;
        for (var i = 0; i < position && i < source.Length; i++)
            if (source[i] == '\n') { line++; lineStart = i + 1; }
        var lineEnd = source.IndexOf('\n', lineStart);
        var text = lineEnd < 0 ? source[lineStart..] : source[lineStart..lineEnd];
        var column = position - lineStart;
        return $"ERROR: <input>:{line}:{column + 1}: {message}\n | {text}\n | {new string('.', Math.Max(0, column))}^";
    }

    private CelSyntaxException Error(int position, string message) => new(Describe(_source, position, message));

    private Token Peek => _tokens[_at];

    private bool Accept(string punct)
    {
        if (Peek.Kind == Kind.Punct && Peek.Text == punct) { _at++; return true; }
        return false;
    }

    private Token Expect(string punct)
    {
        if (Peek.Kind == Kind.Punct && Peek.Text == punct) return _tokens[_at++];
        throw Error(Peek.Position, $"mismatched input '{(Peek.Kind == Kind.End ? "<EOF>" : Peek.Text)}' expecting '{punct}'");
    }

    private CelExpr Expr()
    {
        var condition = Or();
        if (Peek.Kind == Kind.Punct && Peek.Text == "?")
        {
            var at = _tokens[_at++].Position;
            var then = Or();
            Expect(":");
            var otherwise = Expr();
            return new CelCall(at, "_?_:_", null, [condition, then, otherwise]);
        }
        return condition;
    }

    private CelExpr Or()
    {
        var left = And();
        while (Peek.Kind == Kind.Punct && Peek.Text == "||")
        {
            var at = _tokens[_at++].Position;
            left = new CelCall(at, "_||_", null, [left, And()]);
        }
        return left;
    }

    private CelExpr And()
    {
        var left = Relation();
        while (Peek.Kind == Kind.Punct && Peek.Text == "&&")
        {
            var at = _tokens[_at++].Position;
            left = new CelCall(at, "_&&_", null, [left, Relation()]);
        }
        return left;
    }

    private CelExpr Relation()
    {
        var left = Addition();
        while (true)
        {
            var token = Peek;
            string? op = token.Kind switch
            {
                Kind.Punct when token.Text is "<" or "<=" or ">" or ">=" or "==" or "!=" => $"_{token.Text}_",
                Kind.Ident when token.Text == "in" => "@in",
                _ => null,
            };
            if (op is null) return left;
            _at++;
            left = new CelCall(token.Position, op, null, [left, Addition()]);
        }
    }

    private CelExpr Addition()
    {
        var left = Multiplication();
        while (Peek.Kind == Kind.Punct && Peek.Text is "+" or "-")
        {
            var token = _tokens[_at++];
            left = new CelCall(token.Position, $"_{token.Text}_", null, [left, Multiplication()]);
        }
        return left;
    }

    private CelExpr Multiplication()
    {
        var left = Unary();
        while (Peek.Kind == Kind.Punct && Peek.Text is "*" or "/" or "%")
        {
            var token = _tokens[_at++];
            left = new CelCall(token.Position, $"_{token.Text}_", null, [left, Unary()]);
        }
        return left;
    }

    private CelExpr Unary()
    {
        if (Peek.Kind == Kind.Punct && Peek.Text == "!")
        {
            var at = _tokens[_at++].Position;
            return new CelCall(at, "!_", null, [Unary()]);
        }
        if (Peek.Kind == Kind.Punct && Peek.Text == "-")
        {
            var at = _tokens[_at++].Position;
            // -9223372036854775808 is a literal, not the negation of an out-of-range one.
            if (Peek.Kind == Kind.Int && Peek.Value is ulong magnitude && magnitude == 9223372036854775808UL && !IsMemberFollowing(_at + 1))
            {
                _at++;
                return new CelLiteral(at, long.MinValue);
            }
            return new CelCall(at, "-_", null, [Unary()]);
        }
        return Member();
    }

    private bool IsMemberFollowing(int index) => _tokens[index].Kind == Kind.Punct && _tokens[index].Text is "." or "[";

    private CelExpr Member()
    {
        var expr = Primary();
        while (true)
        {
            if (Peek.Kind == Kind.Punct && Peek.Text == ".")
            {
                var at = _tokens[_at++].Position;
                if (Peek.Kind == Kind.Punct && Peek.Text == "?") throw Error(Peek.Position, "optional field selection (.?) is not supported by this server");
                var name = Identifier();
                if (Accept("("))
                {
                    var args = Arguments(")");
                    expr = Macro(at, name, expr, args) ?? new CelCall(at, name, expr, args);
                }
                else expr = new CelSelect(at, expr, name, false);
            }
            else if (Peek.Kind == Kind.Punct && Peek.Text == "[")
            {
                var at = _tokens[_at++].Position;
                if (Peek.Kind == Kind.Punct && Peek.Text == "?") throw Error(Peek.Position, "optional index ([?) is not supported by this server");
                var index = Expr();
                Expect("]");
                expr = new CelCall(at, "_[_]", null, [expr, index]);
            }
            else if (Peek.Kind == Kind.Punct && Peek.Text == "{")
                throw Error(Peek.Position, "message construction is not supported in Kubernetes CEL");
            else return expr;
        }
    }

    private string Identifier()
    {
        var token = Peek;
        if (token.Kind != Kind.Ident) throw Error(token.Position, $"mismatched input '{(token.Kind == Kind.End ? "<EOF>" : token.Text)}' expecting IDENTIFIER");
        if (Reserved.Contains(token.Text) || token.Text is "true" or "false" or "null" or "in") throw Error(token.Position, $"reserved identifier: {token.Text}");
        _at++;
        return token.Text;
    }

    private List<CelExpr> Arguments(string close)
    {
        var args = new List<CelExpr>();
        if (Accept(close)) return args;
        do
        {
            if (Peek.Kind == Kind.Punct && Peek.Text == close && close != ")") break;
            args.Add(Expr());
        }
        while (Accept(","));
        Expect(close);
        return args;
    }

    private CelExpr Primary()
    {
        var token = Peek;
        switch (token.Kind)
        {
            case Kind.Int:
                _at++;
                if (token.Value is ulong big && big > long.MaxValue) throw Error(token.Position, $"invalid int literal '{token.Text}'");
                return new CelLiteral(token.Position, token.Value is ulong u ? (long)u : token.Value);
            case Kind.Uint or Kind.Double or Kind.String or Kind.Bytes:
                _at++;
                return new CelLiteral(token.Position, token.Value);
            case Kind.Ident:
                _at++;
                switch (token.Text)
                {
                    case "true": return new CelLiteral(token.Position, true);
                    case "false": return new CelLiteral(token.Position, false);
                    case "null": return new CelLiteral(token.Position, CelNull.Value);
                    case "in": throw Error(token.Position, "extraneous input 'in'");
                }
                if (Reserved.Contains(token.Text)) throw Error(token.Position, $"reserved identifier: {token.Text}");
                if (Accept("("))
                {
                    var args = Arguments(")");
                    return Macro(token.Position, token.Text, null, args) ?? new CelCall(token.Position, token.Text, null, args);
                }
                return new CelIdent(token.Position, token.Text);
            case Kind.Punct when token.Text == "(":
                _at++;
                var inner = Expr();
                Expect(")");
                return inner;
            case Kind.Punct when token.Text == "[":
                _at++;
                return new CelList(token.Position, Arguments("]"));
            case Kind.Punct when token.Text == "{":
                _at++;
                var entries = new List<(CelExpr, CelExpr)>();
                if (!Accept("}"))
                {
                    do
                    {
                        if (Peek.Kind == Kind.Punct && Peek.Text == "}") break;
                        var key = Expr();
                        Expect(":");
                        entries.Add((key, Expr()));
                    }
                    while (Accept(","));
                    Expect("}");
                }
                return new CelMapLiteral(token.Position, entries);
            case Kind.Punct when token.Text == ".":
                throw Error(token.Position, "leading-dot (root-scoped) identifiers are not supported by this server");
            default:
                throw Error(token.Position, $"{(token.Kind == Kind.End ? "mismatched input '<EOF>'" : $"extraneous input '{token.Text}'")} expecting an expression");
        }
    }

    /// <summary>Expands a macro call, or returns null when the call is an ordinary function.</summary>
    private CelExpr? Macro(int position, string name, CelExpr? target, List<CelExpr> args)
    {
        if (target is null)
        {
            if (name != "has") return null;
            if (args.Count != 1) throw Error(position, "has() takes exactly one argument");
            if (args[0] is not CelSelect select || select.TestOnly) throw Error(args[0].Position, "invalid argument to has() macro");
            return select with { TestOnly = true };
        }
        CelMacroKind? kind = (name, args.Count) switch
        {
            ("all", 2) => CelMacroKind.All,
            ("exists", 2) => CelMacroKind.Exists,
            ("exists_one", 2) => CelMacroKind.ExistsOne,
            ("map", 2 or 3) => CelMacroKind.Map,
            ("filter", 2) => CelMacroKind.Filter,
            _ => null,
        };
        if (kind is null) return null;
        if (args[0] is not CelIdent variable) throw Error(args[0].Position, "argument must be a simple name");
        return args.Count == 3
            ? new CelComprehension(position, kind.Value, target, variable.Name, args[2], args[1])
            : new CelComprehension(position, kind.Value, target, variable.Name, args[1], null);
    }

    private static readonly string[] Puncts = ["==", "!=", "<=", ">=", "&&", "||", "<", ">", "+", "-", "*", "/", "%", "!", "?", ":", ".", ",", "(", ")", "[", "]", "{", "}"];

    private List<Token> Lex(string source)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (true)
        {
            while (i < source.Length)
            {
                if (char.IsWhiteSpace(source[i])) { i++; continue; }
                if (source[i] == '/' && i + 1 < source.Length && source[i + 1] == '/')
                {
                    while (i < source.Length && source[i] != '\n') i++;
                    continue;
                }
                break;
            }
            if (i >= source.Length) { tokens.Add(new Token(Kind.End, "", null, i)); return tokens; }
            var start = i;
            var c = source[i];
            if (char.IsAsciiDigit(c) || (c == '.' && i + 1 < source.Length && char.IsAsciiDigit(source[i + 1])))
            {
                tokens.Add(Number(source, ref i));
                continue;
            }
            if (char.IsAsciiLetter(c) || c == '_')
            {
                while (i < source.Length && (char.IsAsciiLetterOrDigit(source[i]) || source[i] == '_')) i++;
                var word = source[start..i];
                if (i < source.Length && source[i] is '"' or '\'' && word.ToLowerInvariant() is "r" or "b" or "rb" or "br")
                {
                    var raw = word.Contains('r', StringComparison.OrdinalIgnoreCase);
                    var bytes = word.Contains('b', StringComparison.OrdinalIgnoreCase);
                    var text = Quoted(source, ref i, raw, bytes, start);
                    tokens.Add(bytes ? new Token(Kind.Bytes, source[start..i], text.Bytes, start) : new Token(Kind.String, source[start..i], text.Text, start));
                    continue;
                }
                tokens.Add(new Token(Kind.Ident, word, null, start));
                continue;
            }
            if (c is '"' or '\'')
            {
                var text = Quoted(source, ref i, false, false, start);
                tokens.Add(new Token(Kind.String, source[start..i], text.Text, start));
                continue;
            }
            var punct = Puncts.FirstOrDefault(p => string.CompareOrdinal(source, i, p, 0, p.Length) == 0);
            if (punct is null) throw new CelSyntaxException(Describe(source, i, $"token recognition error at: '{c}'"));
            tokens.Add(new Token(Kind.Punct, punct, null, i));
            i += punct.Length;
        }
    }

    private Token Number(string source, ref int i)
    {
        var start = i;
        if (source[i] == '0' && i + 1 < source.Length && source[i + 1] is 'x' or 'X')
        {
            i += 2;
            var digitsStart = i;
            while (i < source.Length && char.IsAsciiHexDigit(source[i])) i++;
            if (i == digitsStart) throw Error(start, $"invalid hex literal '{source[start..i]}'");
            var hex = source[digitsStart..i];
            if (!ulong.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value))
                throw Error(start, $"invalid int literal '{source[start..i]}'");
            if (i < source.Length && source[i] is 'u' or 'U') { i++; return new Token(Kind.Uint, source[start..i], value, start); }
            return new Token(Kind.Int, source[start..i], value, start);
        }
        while (i < source.Length && char.IsAsciiDigit(source[i])) i++;
        var isDouble = false;
        if (i + 1 < source.Length && source[i] == '.' && char.IsAsciiDigit(source[i + 1]))
        {
            isDouble = true;
            i++;
            while (i < source.Length && char.IsAsciiDigit(source[i])) i++;
        }
        if (i < source.Length && source[i] is 'e' or 'E')
        {
            var mark = i;
            i++;
            if (i < source.Length && source[i] is '+' or '-') i++;
            if (i < source.Length && char.IsAsciiDigit(source[i]))
            {
                isDouble = true;
                while (i < source.Length && char.IsAsciiDigit(source[i])) i++;
            }
            else i = mark;
        }
        var text = source[start..i];
        if (isDouble) return new Token(Kind.Double, text, double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture), start);
        if (!ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
            throw Error(start, $"invalid int literal '{text}'");
        if (i < source.Length && source[i] is 'u' or 'U') { i++; return new Token(Kind.Uint, source[start..i], number, start); }
        return new Token(Kind.Int, text, number, start);
    }

    private (string Text, byte[] Bytes) Quoted(string source, ref int i, bool raw, bool bytes, int start)
    {
        var quote = source[i];
        var triple = i + 2 < source.Length && source[i + 1] == quote && source[i + 2] == quote;
        i += triple ? 3 : 1;
        var output = new List<byte>();
        void Append(string s) => output.AddRange(Encoding.UTF8.GetBytes(s));
        while (true)
        {
            if (i >= source.Length) throw Error(start, "unterminated string literal");
            var c = source[i];
            if (triple ? (c == quote && i + 2 < source.Length && source[i + 1] == quote && source[i + 2] == quote) : c == quote)
            {
                i += triple ? 3 : 1;
                break;
            }
            if (!triple && c is '\n' or '\r') throw Error(start, "unterminated string literal (a single-quoted string cannot span lines)");
            if (c != '\\' || raw)
            {
                var rune = Rune.GetRuneAt(source, i);
                Append(rune.ToString());
                i += rune.Utf16SequenceLength;
                continue;
            }
            if (i + 1 >= source.Length) throw Error(i, "invalid escape sequence");
            var e = source[i + 1];
            i += 2;
            switch (e)
            {
                case 'a': Append("\a"); break;
                case 'b': Append("\b"); break;
                case 'f': Append("\f"); break;
                case 'n': Append("\n"); break;
                case 'r': Append("\r"); break;
                case 't': Append("\t"); break;
                case 'v': Append("\v"); break;
                case '\\' or '\'' or '"' or '`' or '?': Append(e.ToString()); break;
                case 'x' or 'X':
                    var hex = Digits(source, ref i, 2, 16);
                    if (bytes) output.Add((byte)hex); else Append(char.ConvertFromUtf32(hex));
                    break;
                case 'u':
                    if (bytes) throw Error(i - 2, "\\u escapes are not allowed in bytes literals");
                    Append(CodePoint(Digits(source, ref i, 4, 16), i));
                    break;
                case 'U':
                    if (bytes) throw Error(i - 2, "\\U escapes are not allowed in bytes literals");
                    Append(CodePoint(Digits(source, ref i, 8, 16), i));
                    break;
                case >= '0' and <= '3':
                    i--;
                    var octal = Digits(source, ref i, 3, 8);
                    if (bytes) output.Add((byte)octal); else Append(char.ConvertFromUtf32(octal));
                    break;
                default: throw Error(i - 2, $"invalid escape sequence '\\{e}'");
            }
        }
        var array = output.ToArray();
        if (bytes) return ("", array);
        try { return (new UTF8Encoding(false, true).GetString(array), array); }
        catch (DecoderFallbackException) { throw Error(start, "string literal is not valid UTF-8"); }
    }

    private string CodePoint(int value, int at)
    {
        if (value is >= 0xD800 and <= 0xDFFF || value > 0x10FFFF) throw Error(at, "invalid unicode code point in escape");
        return char.ConvertFromUtf32(value);
    }

    private int Digits(string source, ref int i, int count, int radix)
    {
        if (i + count > source.Length) throw Error(i, "invalid escape sequence");
        var text = source.Substring(i, count);
        try
        {
            var value = Convert.ToInt32(text, radix);
            if (radix == 16 && !text.All(char.IsAsciiHexDigit)) throw new FormatException();
            i += count;
            return value;
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or OverflowException) { throw Error(i, $"invalid escape sequence '{text}'"); }
    }
}
