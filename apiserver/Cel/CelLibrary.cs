using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Trellis.ApiServer.Cel;

/// <param name="Params">The receiver first for a member overload.</param>
public sealed record CelOverload(string Function, bool Member, IReadOnlyList<CelType> Params, CelType Result, Func<object?[], object?> Impl);

/// <summary>
/// The functions of Kubernetes' CEL environment that CRD rules use: CEL's standard library, the
/// strings extension (version 2), Kubernetes' lists, regex, sets, IP and CIDR libraries. Every
/// implementation follows the cel-go / Kubernetes semantics: code points, not UTF-16 units, for
/// strings; errors as values ("integer overflow", "division by zero", "index out of bounds").
/// Not provided: quantity, URL, semver, format and the authorizer library (never used by CRD rules here).
/// </summary>
public static class CelLibrary
{
    private static readonly CelType A = CelType.Param("A");
    private static readonly CelType B = CelType.Param("B");
    private static readonly CelType ListA = CelType.ListOf(A);
    private static readonly CelType MapAB = CelType.MapOf(A, B);
    private static readonly CelType S = CelType.String, I = CelType.Int, U = CelType.Uint, D = CelType.Double, Bo = CelType.Bool, By = CelType.Bytes;
    private static readonly CelType Ts = CelType.Timestamp, Du = CelType.Duration;

    public static readonly IReadOnlyList<CelOverload> Overloads = Build();

    public static readonly ILookup<string, CelOverload> ByName = Overloads.ToLookup(o => o.Function);

    private static List<CelOverload> Build()
    {
        var o = new List<CelOverload>();
        void G(string name, CelType[] p, CelType r, Func<object?[], object?> f) => o.Add(new(name, false, p, r, f));
        void M(string name, CelType[] p, CelType r, Func<object?[], object?> f) => o.Add(new(name, true, p, r, f));

        // Operators (comparison and arithmetic; &&, ||, ?:, ==, !=, in and [] are the interpreter's).
        foreach (var (op, test) in new (string, Func<int, bool>)[] { ("_<_", c => c < 0), ("_<=_", c => c <= 0), ("_>_", c => c > 0), ("_>=_", c => c >= 0) })
        {
            foreach (var x in new[] { I, U, D })
                foreach (var y in new[] { I, U, D })
                    G(op, [x, y], Bo, a => test(CelEquality.CompareNumbers(a[0]!, a[1]!)));
            G(op, [S, S], Bo, a => test(string.CompareOrdinal((string)a[0]!, (string)a[1]!)));
            G(op, [By, By], Bo, a => test(((byte[])a[0]!).AsSpan().SequenceCompareTo((byte[])a[1]!)));
            G(op, [Bo, Bo], Bo, a => test(((bool)a[0]!).CompareTo((bool)a[1]!)));
            G(op, [Ts, Ts], Bo, a => test(((DateTimeOffset)a[0]!).CompareTo((DateTimeOffset)a[1]!)));
            G(op, [Du, Du], Bo, a => test(((TimeSpan)a[0]!).CompareTo((TimeSpan)a[1]!)));
        }
        G("_+_", [I, I], I, a => Checked(() => checked((long)a[0]! + (long)a[1]!)));
        G("_+_", [U, U], U, a => Checked(() => checked((ulong)a[0]! + (ulong)a[1]!)));
        G("_+_", [D, D], D, a => (double)a[0]! + (double)a[1]!);
        G("_+_", [S, S], S, a => (string)a[0]! + (string)a[1]!);
        G("_+_", [By, By], By, a => ((byte[])a[0]!).Concat((byte[])a[1]!).ToArray());
        G("_+_", [ListA, ListA], ListA, a => new CelListValue(((CelListValue)a[0]!).Items.Concat(((CelListValue)a[1]!).Items).ToArray()));
        G("_+_", [Ts, Du], Ts, a => (DateTimeOffset)a[0]! + (TimeSpan)a[1]!);
        G("_+_", [Du, Ts], Ts, a => (DateTimeOffset)a[1]! + (TimeSpan)a[0]!);
        G("_+_", [Du, Du], Du, a => (TimeSpan)a[0]! + (TimeSpan)a[1]!);
        G("_-_", [I, I], I, a => Checked(() => checked((long)a[0]! - (long)a[1]!)));
        G("_-_", [U, U], U, a => Checked(() => checked((ulong)a[0]! - (ulong)a[1]!)));
        G("_-_", [D, D], D, a => (double)a[0]! - (double)a[1]!);
        G("_-_", [Ts, Ts], Du, a => (DateTimeOffset)a[0]! - (DateTimeOffset)a[1]!);
        G("_-_", [Ts, Du], Ts, a => (DateTimeOffset)a[0]! - (TimeSpan)a[1]!);
        G("_-_", [Du, Du], Du, a => (TimeSpan)a[0]! - (TimeSpan)a[1]!);
        G("_*_", [I, I], I, a => Checked(() => checked((long)a[0]! * (long)a[1]!)));
        G("_*_", [U, U], U, a => Checked(() => checked((ulong)a[0]! * (ulong)a[1]!)));
        G("_*_", [D, D], D, a => (double)a[0]! * (double)a[1]!);
        G("_/_", [I, I], I, a => (long)a[1]! == 0 ? new CelError("division by zero") : (long)a[0]! == long.MinValue && (long)a[1]! == -1 ? new CelError("integer overflow") : (long)a[0]! / (long)a[1]!);
        G("_/_", [U, U], U, a => (ulong)a[1]! == 0 ? new CelError("division by zero") : (ulong)a[0]! / (ulong)a[1]!);
        G("_/_", [D, D], D, a => (double)a[0]! / (double)a[1]!);
        G("_%_", [I, I], I, a => (long)a[1]! == 0 ? new CelError("modulus by zero") : (long)a[0]! == long.MinValue && (long)a[1]! == -1 ? new CelError("integer overflow") : (long)a[0]! % (long)a[1]!);
        G("_%_", [U, U], U, a => (ulong)a[1]! == 0 ? new CelError("modulus by zero") : (ulong)a[0]! % (ulong)a[1]!);
        G("-_", [I], I, a => (long)a[0]! == long.MinValue ? new CelError("integer overflow") : -(long)a[0]!);
        G("-_", [D], D, a => -(double)a[0]!);
        G("!_", [Bo], Bo, a => !(bool)a[0]!);

        // size
        foreach (var member in new[] { false, true })
        {
            var add = member ? (Action<string, CelType[], CelType, Func<object?[], object?>>)M : G;
            add("size", [S], I, a => (long)Runes((string)a[0]!).Length);
            add("size", [By], I, a => (long)((byte[])a[0]!).Length);
            add("size", [ListA], I, a => (long)((CelListValue)a[0]!).Items.Count);
            add("size", [MapAB], I, a => (long)((CelMapValue)a[0]!).Entries.Count);
        }

        // Conversions
        G("int", [I], I, a => a[0]);
        G("int", [U], I, a => (ulong)a[0]! > long.MaxValue ? new CelError("integer overflow") : (long)(ulong)a[0]!);
        G("int", [D], I, a => DoubleToInt((double)a[0]!));
        G("int", [S], I, a => long.TryParse((string)a[0]!, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v : new CelError($"cannot convert \"{a[0]}\" to int"));
        G("int", [Ts], I, a => ((DateTimeOffset)a[0]!).ToUnixTimeSeconds());
        G("uint", [U], U, a => a[0]);
        G("uint", [I], U, a => (long)a[0]! < 0 ? new CelError("unsigned integer overflow") : (ulong)(long)a[0]!);
        G("uint", [D], U, a => (double)a[0]! is var d && (d < 0 || d >= 18446744073709551616.0 || double.IsNaN(d)) ? new CelError($"range error converting {CelEquality.FormatDouble(d)} to uint") : (ulong)d);
        G("uint", [S], U, a => ulong.TryParse((string)a[0]!, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : new CelError($"cannot convert \"{a[0]}\" to uint"));
        G("double", [D], D, a => a[0]);
        G("double", [I], D, a => (double)(long)a[0]!);
        G("double", [U], D, a => (double)(ulong)a[0]!);
        G("double", [S], D, a => double.TryParse((string)a[0]!, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : new CelError($"cannot convert \"{a[0]}\" to double"));
        G("string", [S], S, a => a[0]);
        G("string", [I], S, a => ((long)a[0]!).ToString(CultureInfo.InvariantCulture));
        G("string", [U], S, a => ((ulong)a[0]!).ToString(CultureInfo.InvariantCulture));
        G("string", [D], S, a => CelEquality.FormatDouble((double)a[0]!));
        G("string", [Bo], S, a => (bool)a[0]! ? "true" : "false");
        G("string", [By], S, a => { try { return new UTF8Encoding(false, true).GetString((byte[])a[0]!); } catch (DecoderFallbackException) { return new CelError("invalid UTF-8 in bytes, cannot convert to string"); } });
        G("string", [Ts], S, a => FormatTimestamp((DateTimeOffset)a[0]!));
        G("string", [Du], S, a => FormatDuration((TimeSpan)a[0]!));
        G("string", [CelType.IP], S, a => NetAddress.Format(((CelIp)a[0]!).Address));
        G("string", [CelType.CIDR], S, a => ((CelCidr)a[0]!).ToString());
        G("bytes", [By], By, a => a[0]);
        G("bytes", [S], By, a => Encoding.UTF8.GetBytes((string)a[0]!));
        G("bool", [Bo], Bo, a => a[0]);
        G("bool", [S], Bo, a => (string)a[0]! switch
        {
            "1" or "t" or "true" or "TRUE" or "True" => true,
            "0" or "f" or "false" or "FALSE" or "False" => false,
            var s => new CelError($"type conversion error from 'string' to 'bool' for \"{s}\""),
        });
        G("dyn", [A], CelType.Dyn, a => a[0]);
        G("type", [A], CelType.TypeOfTypes, a => CelEquality.TypeOf(a[0]));
        G("duration", [S], Du, a => ParseDuration((string)a[0]!));
        G("timestamp", [S], Ts, a => DateTimeOffset.TryParse((string)a[0]!, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out var t) && ((string)a[0]!).Contains('T')
            ? t : new CelError($"timestamp(\"{a[0]}\") is not an RFC 3339 timestamp"));

        // Strings: the standard functions and the strings extension.
        M("contains", [S, S], Bo, a => ((string)a[0]!).Contains((string)a[1]!, StringComparison.Ordinal));
        M("startsWith", [S, S], Bo, a => ((string)a[0]!).StartsWith((string)a[1]!, StringComparison.Ordinal));
        M("endsWith", [S, S], Bo, a => ((string)a[0]!).EndsWith((string)a[1]!, StringComparison.Ordinal));
        M("matches", [S, S], Bo, a => Regex((string)a[1]!) is { } re ? re.IsMatch((string)a[0]!) : BadRegex((string)a[1]!));
        G("matches", [S, S], Bo, a => Regex((string)a[1]!) is { } re ? re.IsMatch((string)a[0]!) : BadRegex((string)a[1]!));
        M("charAt", [S, I], S, a => Runes((string)a[0]!) is var r && (long)a[1]! is var i && i >= 0 && i <= r.Length
            ? (i == r.Length ? "" : r[i].ToString()) : new CelError($"index out of range: {a[1]}"));
        M("indexOf", [S, S], I, a => IndexOf((string)a[0]!, (string)a[1]!, 0));
        M("indexOf", [S, S, I], I, a => IndexOf((string)a[0]!, (string)a[1]!, (long)a[2]!));
        M("lastIndexOf", [S, S], I, a => LastIndexOf((string)a[0]!, (string)a[1]!, null));
        M("lastIndexOf", [S, S, I], I, a => LastIndexOf((string)a[0]!, (string)a[1]!, (long)a[2]!));
        M("lowerAscii", [S], S, a => string.Concat(((string)a[0]!).Select(c => c is >= 'A' and <= 'Z' ? (char)(c + 32) : c)));
        M("upperAscii", [S], S, a => string.Concat(((string)a[0]!).Select(c => c is >= 'a' and <= 'z' ? (char)(c - 32) : c)));
        M("replace", [S, S, S], S, a => Replace((string)a[0]!, (string)a[1]!, (string)a[2]!, -1));
        M("replace", [S, S, S, I], S, a => Replace((string)a[0]!, (string)a[1]!, (string)a[2]!, (long)a[3]!));
        M("split", [S, S], CelType.ListOf(S), a => Split((string)a[0]!, (string)a[1]!, -1));
        M("split", [S, S, I], CelType.ListOf(S), a => Split((string)a[0]!, (string)a[1]!, (long)a[2]!));
        M("substring", [S, I], S, a => Substring((string)a[0]!, (long)a[1]!, null));
        M("substring", [S, I, I], S, a => Substring((string)a[0]!, (long)a[1]!, (long)a[2]!));
        M("trim", [S], S, a => ((string)a[0]!).Trim());
        M("reverse", [S], S, a => string.Concat(Runes((string)a[0]!).Reverse().Select(r => r.ToString())));
        M("join", [CelType.ListOf(S)], S, a => string.Join("", ((CelListValue)a[0]!).Items.Cast<string>()));
        M("join", [CelType.ListOf(S), S], S, a => string.Join((string)a[1]!, ((CelListValue)a[0]!).Items.Cast<string>()));
        G("strings.quote", [S], S, a => Quote((string)a[0]!));

        // Kubernetes regex library.
        M("find", [S, S], S, a => Regex((string)a[1]!) is { } re ? re.Match((string)a[0]!) is { Success: true } m ? m.Value : "" : BadRegex((string)a[1]!));
        M("findAll", [S, S], CelType.ListOf(S), a => FindAll((string)a[0]!, (string)a[1]!, -1));
        M("findAll", [S, S, I], CelType.ListOf(S), a => FindAll((string)a[0]!, (string)a[1]!, (long)a[2]!));

        // Kubernetes lists library.
        foreach (var t in new[] { I, U, D, S, By, Bo, Ts, Du })
        {
            var list = CelType.ListOf(t);
            M("isSorted", [list], Bo, a => IsSorted((CelListValue)a[0]!));
            M("min", [list], t, a => Extreme((CelListValue)a[0]!, -1));
            M("max", [list], t, a => Extreme((CelListValue)a[0]!, 1));
        }
        M("sum", [CelType.ListOf(I)], I, a => Checked(() => ((CelListValue)a[0]!).Items.Aggregate(0L, (s, x) => checked(s + (long)x!))));
        M("sum", [CelType.ListOf(U)], U, a => Checked(() => ((CelListValue)a[0]!).Items.Aggregate(0UL, (s, x) => checked(s + (ulong)x!))));
        M("sum", [CelType.ListOf(D)], D, a => ((CelListValue)a[0]!).Items.Sum(x => (double)x!));
        M("sum", [CelType.ListOf(Du)], Du, a => ((CelListValue)a[0]!).Items.Aggregate(TimeSpan.Zero, (s, x) => s + (TimeSpan)x!));
        M("indexOf", [ListA, A], I, a => (long)IndexInList((CelListValue)a[0]!, a[1], last: false));
        M("lastIndexOf", [ListA, A], I, a => (long)IndexInList((CelListValue)a[0]!, a[1], last: true));

        // Kubernetes sets library (the cel-go sets extension).
        G("sets.contains", [ListA, ListA], Bo, a => ((CelListValue)a[1]!).Items.All(x => ((CelListValue)a[0]!).Items.Any(y => CelEquality.Equal(x, y))));
        G("sets.equivalent", [ListA, ListA], Bo, a =>
            ((CelListValue)a[1]!).Items.All(x => ((CelListValue)a[0]!).Items.Any(y => CelEquality.Equal(x, y)))
            && ((CelListValue)a[0]!).Items.All(x => ((CelListValue)a[1]!).Items.Any(y => CelEquality.Equal(x, y))));
        G("sets.intersects", [ListA, ListA], Bo, a => ((CelListValue)a[1]!).Items.Any(x => ((CelListValue)a[0]!).Items.Any(y => CelEquality.Equal(x, y))));

        // Kubernetes IP library.
        G("ip", [S], CelType.IP, a => ParseIp((string)a[0]!));
        G("isIP", [S], Bo, a => ParseIp((string)a[0]!) is CelIp);
        G("ip.isCanonical", [S], Bo, a => ParseIp((string)a[0]!) is CelIp ip ? NetAddress.Format(ip.Address) == (string)a[0]! : ParseIp((string)a[0]!));
        M("family", [CelType.IP], I, a => (long)((CelIp)a[0]!).Family);
        M("isUnspecified", [CelType.IP], Bo, a => NetAddress.IsUnspecified(((CelIp)a[0]!).Address));
        M("isLoopback", [CelType.IP], Bo, a => NetAddress.IsLoopback(((CelIp)a[0]!).Address));
        M("isLinkLocalMulticast", [CelType.IP], Bo, a => NetAddress.IsLinkLocalMulticast(((CelIp)a[0]!).Address));
        M("isLinkLocalUnicast", [CelType.IP], Bo, a => NetAddress.IsLinkLocalUnicast(((CelIp)a[0]!).Address));
        M("isGlobalUnicast", [CelType.IP], Bo, a => NetAddress.IsGlobalUnicast(((CelIp)a[0]!).Address));

        // Kubernetes CIDR library.
        G("cidr", [S], CelType.CIDR, a => ParseCidr((string)a[0]!));
        G("isCIDR", [S], Bo, a => ParseCidr((string)a[0]!) is CelCidr);
        M("containsIP", [CelType.CIDR, S], Bo, a => ParseIp((string)a[1]!) is CelIp ip ? ((CelCidr)a[0]!).Contains(ip.Address) : ParseIp((string)a[1]!));
        M("containsIP", [CelType.CIDR, CelType.IP], Bo, a => ((CelCidr)a[0]!).Contains(((CelIp)a[1]!).Address));
        M("containsCIDR", [CelType.CIDR, S], Bo, a => ParseCidr((string)a[1]!) is CelCidr c ? ((CelCidr)a[0]!).Contains(c) : ParseCidr((string)a[1]!));
        M("containsCIDR", [CelType.CIDR, CelType.CIDR], Bo, a => ((CelCidr)a[0]!).Contains((CelCidr)a[1]!));
        M("ip", [CelType.CIDR], CelType.IP, a => new CelIp(((CelCidr)a[0]!).Address));
        M("prefixLength", [CelType.CIDR], I, a => (long)((CelCidr)a[0]!).PrefixLength);
        M("masked", [CelType.CIDR], CelType.CIDR, a => ((CelCidr)a[0]!).Masked());
        return o;
    }

    private static object Checked(Func<object> f)
    {
        try { return f(); }
        catch (OverflowException) { return new CelError("integer overflow"); }
    }

    private static object DoubleToInt(double d) =>
        double.IsNaN(d) || d <= -9223372036854775809.0 || d >= 9223372036854775808.0
            ? new CelError($"range error converting {CelEquality.FormatDouble(d)} to int")
            : (long)d;

    public static object ParseIp(string text)
    {
        if (!NetAddress.TryParseAddress(text, out var address, out var error))
            return new CelError(error == "zone"
                ? $"IP address \"{text}\" with zone value is not allowed"
                : $"IP Address \"{text}\" parse error during conversion from string: ParseAddr(\"{text}\"): {error}");
        if (address.IsIPv4MappedToIPv6) return new CelError($"IPv4-mapped IPv6 address \"{text}\" is not allowed");
        return new CelIp(address);
    }

    public static object ParseCidr(string text)
    {
        if (!NetAddress.TryParsePrefix(text, out var prefix, out var error))
            return new CelError($"network address parse error during conversion from string: network address parse error during conversion from string: netip.ParsePrefix(\"{text}\"): {error}");
        if (prefix.Address.IsIPv4MappedToIPv6) return new CelError($"IPv4-mapped IPv6 address \"{text}\" is not allowed");
        return prefix;
    }

    private static readonly Dictionary<string, Regex?> RegexCache = new();

    /// <summary>RE2 patterns as .NET regular expressions; null when the pattern does not compile.</summary>
    private static Regex? Regex(string pattern)
    {
        lock (RegexCache)
        {
            if (RegexCache.TryGetValue(pattern, out var cached)) return cached;
            Regex? compiled;
            try { compiled = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)); }
            catch (ArgumentException) { compiled = null; }
            if (RegexCache.Count < 1000) RegexCache[pattern] = compiled;
            return compiled;
        }
    }

    private static CelError BadRegex(string pattern) => new($"given regex is invalid: error parsing regexp: {pattern}");

    private static object FindAll(string text, string pattern, long limit)
    {
        if (Regex(pattern) is not { } re) return BadRegex(pattern);
        var matches = re.Matches(text).Select(m => (object?)m.Value);
        if (limit >= 0) matches = matches.Take((int)Math.Min(limit, int.MaxValue));
        return new CelListValue(matches.ToArray());
    }

    public static Rune[] Runes(string text) => text.EnumerateRunes().ToArray();

    private static object IndexOf(string text, string search, long from)
    {
        var runes = Runes(text);
        var needle = Runes(search);
        if (from < 0 || from > runes.Length) return new CelError($"index out of range: {from}");
        for (var i = (int)from; i + needle.Length <= runes.Length; i++)
            if (runes.AsSpan(i, needle.Length).SequenceEqual(needle)) return (long)i;
        return -1L;
    }

    private static object LastIndexOf(string text, string search, long? from)
    {
        var runes = Runes(text);
        var needle = Runes(search);
        var start = from ?? runes.Length;
        if (start < 0 || start > runes.Length) return new CelError($"index out of range: {start}");
        for (var i = (int)Math.Min(start, runes.Length - needle.Length); i >= 0; i--)
            if (runes.AsSpan(i, needle.Length).SequenceEqual(needle)) return (long)i;
        return -1L;
    }

    private static object Replace(string text, string old, string replacement, long limit)
    {
        if (limit < 0) return text.Replace(old, replacement, StringComparison.Ordinal);
        var result = new StringBuilder();
        var at = 0;
        for (var n = 0; n < limit; n++)
        {
            var found = text.IndexOf(old, at, StringComparison.Ordinal);
            if (found < 0) break;
            result.Append(text, at, found - at).Append(replacement);
            at = found + old.Length;
            if (old.Length == 0)
            {
                if (at < text.Length) result.Append(text[at]);
                at++;
                if (at > text.Length) break;
            }
        }
        if (at <= text.Length) result.Append(text, at, text.Length - at);
        return result.ToString();
    }

    private static object Split(string text, string separator, long limit)
    {
        if (limit == 0) return new CelListValue([]);
        string[] parts;
        if (separator.Length == 0)
        {
            var runes = Runes(text).Select(r => r.ToString()).ToList();
            if (limit > 0 && runes.Count > limit) { runes[(int)limit - 1] = string.Concat(runes.Skip((int)limit - 1)); runes = runes.Take((int)limit).ToList(); }
            parts = runes.ToArray();
        }
        else parts = limit > 0 ? text.Split(separator, (int)Math.Min(limit, int.MaxValue)) : text.Split(separator);
        return new CelListValue(parts.Cast<object?>().ToArray());
    }

    private static object Substring(string text, long start, long? end)
    {
        var runes = Runes(text);
        var stop = end ?? runes.Length;
        if (start < 0 || start > runes.Length) return new CelError($"index out of range: {start}");
        if (stop < start || stop > runes.Length) return new CelError($"index out of range: {stop}");
        return string.Concat(runes.Skip((int)start).Take((int)(stop - start)).Select(r => r.ToString()));
    }

    private static string Quote(string text)
    {
        var result = new StringBuilder("\"");
        foreach (var rune in text.EnumerateRunes())
            result.Append(rune.Value switch
            {
                '\a' => "\\a", '\b' => "\\b", '\f' => "\\f", '\n' => "\\n", '\r' => "\\r", '\t' => "\\t", '\v' => "\\v",
                '\\' => "\\\\", '"' => "\\\"",
                _ => rune.ToString(),
            });
        return result.Append('"').ToString();
    }

    private static int Compare(object? a, object? b) => (a, b) switch
    {
        _ when CelEquality.IsNumber(a) && CelEquality.IsNumber(b) => CelEquality.CompareNumbers(a!, b!),
        (string x, string y) => string.CompareOrdinal(x, y),
        (bool x, bool y) => x.CompareTo(y),
        (byte[] x, byte[] y) => x.AsSpan().SequenceCompareTo(y),
        (DateTimeOffset x, DateTimeOffset y) => x.CompareTo(y),
        (TimeSpan x, TimeSpan y) => x.CompareTo(y),
        _ => 0,
    };

    private static bool IsSorted(CelListValue list)
    {
        for (var i = 1; i < list.Items.Count; i++)
            if (Compare(list.Items[i - 1], list.Items[i]) > 0) return false;
        return true;
    }

    private static object? Extreme(CelListValue list, int sign)
    {
        if (list.Items.Count == 0) return new CelError($"{(sign < 0 ? "min" : "max")}(list) argument must not be empty");
        var best = list.Items[0];
        foreach (var item in list.Items.Skip(1))
            if (Compare(item, best) * sign > 0) best = item;
        return best;
    }

    private static int IndexInList(CelListValue list, object? value, bool last)
    {
        var indexes = Enumerable.Range(0, list.Items.Count);
        if (last) indexes = indexes.Reverse();
        foreach (var i in indexes)
            if (CelEquality.Equal(list.Items[i], value)) return i;
        return -1;
    }

    public static string FormatTimestamp(DateTimeOffset time)
    {
        var utc = time.UtcDateTime;
        var fraction = utc.Ticks % TimeSpan.TicksPerSecond;
        return utc.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture) + (fraction == 0 ? "" : "." + fraction.ToString("D7", CultureInfo.InvariantCulture).TrimEnd('0')) + "Z";
    }

    public static string FormatDuration(TimeSpan duration)
    {
        var seconds = (decimal)duration.Ticks / TimeSpan.TicksPerSecond;
        return seconds.ToString("0.#########", CultureInfo.InvariantCulture) + "s";
    }

    /// <summary>Go's time.ParseDuration: a sequence of decimal numbers with units h, m, s, ms, us (µs), ns.</summary>
    public static object ParseDuration(string text)
    {
        var match = System.Text.RegularExpressions.Regex.Match(text, @"^([-+]?)((?:\d+(?:\.\d*)?|\.\d+)(?:h|ms|us|µs|ns|m|s))+$");
        if (text == "0") return TimeSpan.Zero;
        if (!match.Success) return new CelError($"time: invalid duration \"{text}\"");
        decimal ticks = 0;
        foreach (Capture part in match.Groups[2].Captures)
        {
            var unitStart = part.Value.IndexOfAny(['h', 'm', 's', 'u', 'µ', 'n']);
            var number = decimal.Parse(part.Value[..unitStart], CultureInfo.InvariantCulture);
            ticks += number * (part.Value[unitStart..] switch
            {
                "h" => TimeSpan.TicksPerHour,
                "m" => TimeSpan.TicksPerMinute,
                "s" => TimeSpan.TicksPerSecond,
                "ms" => TimeSpan.TicksPerMillisecond,
                "us" or "µs" => 10m,
                _ => 0.01m,
            });
        }
        return TimeSpan.FromTicks((long)(match.Groups[1].Value == "-" ? -ticks : ticks));
    }
}
