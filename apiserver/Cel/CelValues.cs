using System.Globalization;
using System.Net;

namespace Trellis.ApiServer.Cel;

/// <summary>CEL's null.</summary>
public sealed class CelNull
{
    public static readonly CelNull Value = new();
    private CelNull() { }
    public override string ToString() => "null";
}

/// <summary>An evaluation error as a value: it flows through expressions until something absorbs it (||, &&, ?:, macros) or it is the result.</summary>
public sealed record CelError(string Message)
{
    public static CelError NoSuchOverload(string function) => new($"no such overload: {function}");
    public override string ToString() => Message;
}

/// <summary>How two lists compare: in order, or (for x-kubernetes-list-type set and map) as sets.</summary>
public enum CelListEquality { Ordered, Set }

public sealed record CelListValue(IReadOnlyList<object?> Items, CelListEquality Equality = CelListEquality.Ordered);

public sealed record CelMapValue(IReadOnlyList<KeyValuePair<object, object?>> Entries)
{
    public bool TryGet(object key, out object? value)
    {
        foreach (var (k, v) in Entries)
            if (CelEquality.KeyEquals(k, key)) { value = v; return true; }
        value = null;
        return false;
    }
}

/// <summary>An object of a CRD schema: only the fields present in the data (absent ones are "no such key").</summary>
public sealed record CelObjectValue(string TypeName, IReadOnlyDictionary<string, object?> Fields);

public sealed record CelIp(IPAddress Address)
{
    public int Family => Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 4 : 6;
    public override string ToString() => Address.ToString();
}

/// <summary>A prefix as netip.Prefix holds it: the address as written (host bits and all) and the length.</summary>
public sealed record CelCidr(IPAddress Address, int PrefixLength)
{
    public CelCidr Masked() => new(NetAddress.Mask(Address, PrefixLength), PrefixLength);
    public bool Contains(IPAddress address) => address.AddressFamily == Address.AddressFamily && NetAddress.Mask(address, PrefixLength).Equals(NetAddress.Mask(Address, PrefixLength));
    public bool Contains(CelCidr other) => other.Address.AddressFamily == Address.AddressFamily && other.PrefixLength >= PrefixLength && Contains(other.Address);
    public override string ToString() => $"{Address}/{PrefixLength}";
}

public static class CelEquality
{
    /// <summary>Heterogeneous equality as cel-go evaluates it: numbers across int, uint and double; lists, maps and objects deeply.</summary>
    public static bool Equal(object? a, object? b)
    {
        if (IsNumber(a) && IsNumber(b)) return CompareNumbers(a!, b!) == 0;
        return (a, b) switch
        {
            (string x, string y) => x == y,
            (bool x, bool y) => x == y,
            (byte[] x, byte[] y) => x.AsSpan().SequenceEqual(y),
            (CelNull, CelNull) => true,
            (CelListValue x, CelListValue y) => ListsEqual(x, y),
            (CelMapValue x, CelMapValue y) => x.Entries.Count == y.Entries.Count && x.Entries.All(e => y.TryGet(e.Key, out var v) && Equal(e.Value, v)),
            (CelObjectValue x, CelObjectValue y) => x.Fields.Count == y.Fields.Count && x.Fields.All(f => y.Fields.TryGetValue(f.Key, out var v) && Equal(f.Value, v)),
            (CelIp x, CelIp y) => x.Address.Equals(y.Address),
            (CelCidr x, CelCidr y) => x.Address.Equals(y.Address) && x.PrefixLength == y.PrefixLength,
            (DateTimeOffset x, DateTimeOffset y) => x == y,
            (TimeSpan x, TimeSpan y) => x == y,
            (CelType x, CelType y) => x.Kind == y.Kind && (x.Kind != CelKind.Object || x.Name == y.Name),
            _ => false,
        };
    }

    private static bool ListsEqual(CelListValue x, CelListValue y)
    {
        if (x.Items.Count != y.Items.Count) return false;
        if (x.Equality == CelListEquality.Set || y.Equality == CelListEquality.Set)
            return x.Items.All(i => y.Items.Any(j => Equal(i, j))) && y.Items.All(j => x.Items.Any(i => Equal(i, j)));
        for (var i = 0; i < x.Items.Count; i++)
            if (!Equal(x.Items[i], y.Items[i])) return false;
        return true;
    }

    public static bool KeyEquals(object a, object b) => Equal(a, b);

    public static bool IsNumber(object? value) => value is long or ulong or double;

    /// <summary>Orders two numbers of any CEL numeric types exactly (no rounding through double for large integers).</summary>
    public static int CompareNumbers(object a, object b)
    {
        switch (a, b)
        {
            case (long x, long y): return x.CompareTo(y);
            case (ulong x, ulong y): return x.CompareTo(y);
            case (double x, double y): return x.CompareTo(y);
            case (long x, ulong y): return x < 0 ? -1 : ((ulong)x).CompareTo(y);
            case (ulong x, long y): return y < 0 ? 1 : x.CompareTo((ulong)y);
            case (double x, _): return -CompareNumbers(b, x);
            case (long x, double y): return double.IsNaN(y) ? -1 : ((decimal)x).CompareTo(y >= 8e28 ? decimal.MaxValue : y <= -8e28 ? decimal.MinValue : (decimal)y);
            case (ulong x, double y): return double.IsNaN(y) ? -1 : ((decimal)x).CompareTo(y >= 8e28 ? decimal.MaxValue : y <= -8e28 ? decimal.MinValue : (decimal)y);
            default: throw new InvalidOperationException("not numbers");
        }
    }

    /// <summary>The CEL type of a runtime value.</summary>
    public static CelType TypeOf(object? value) => value switch
    {
        long => CelType.Int,
        ulong => CelType.Uint,
        double => CelType.Double,
        string => CelType.String,
        bool => CelType.Bool,
        byte[] => CelType.Bytes,
        CelNull or null => CelType.Null,
        CelListValue => CelType.ListOf(CelType.Dyn),
        CelMapValue => CelType.MapOf(CelType.Dyn, CelType.Dyn),
        CelObjectValue o => CelType.ObjectOf(o.TypeName, new Dictionary<string, CelType>()),
        CelIp => CelType.IP,
        CelCidr => CelType.CIDR,
        DateTimeOffset => CelType.Timestamp,
        TimeSpan => CelType.Duration,
        CelType => CelType.TypeOfTypes,
        _ => CelType.Dyn,
    };

    /// <summary>Go's strconv.FormatFloat(f, 'g', -1, 64), which is how CEL's string(double) prints.</summary>
    public static string FormatDouble(double value)
    {
        if (double.IsNaN(value)) return "NaN";
        if (double.IsPositiveInfinity(value)) return "+Inf";
        if (double.IsNegativeInfinity(value)) return "-Inf";
        if (value == 0) return double.IsNegative(value) ? "-0" : "0";
        var shortest = value.ToString("R", CultureInfo.InvariantCulture);
        // Digits and decimal exponent of the shortest round-trip form.
        var negative = shortest.StartsWith('-');
        var text = negative ? shortest[1..] : shortest;
        var e = 0;
        var ePos = text.IndexOfAny(['E', 'e']);
        if (ePos >= 0) { e = int.Parse(text[(ePos + 1)..], CultureInfo.InvariantCulture); text = text[..ePos]; }
        var dot = text.IndexOf('.');
        var digits = (dot >= 0 ? text.Remove(dot, 1) : text);
        var pointPosition = (dot >= 0 ? dot : text.Length) + e;
        var trimmed = digits.TrimStart('0');
        pointPosition -= digits.Length - trimmed.Length;
        trimmed = trimmed.TrimEnd('0');
        if (trimmed.Length == 0) return "0";
        var exp = pointPosition - 1;
        string result;
        if (exp < -4 || exp >= 6)
        {
            var mantissa = trimmed.Length > 1 ? trimmed[0] + "." + trimmed[1..] : trimmed;
            result = $"{mantissa}e{(exp < 0 ? "-" : "+")}{Math.Abs(exp):00}";
        }
        else if (pointPosition <= 0) result = "0." + new string('0', -pointPosition) + trimmed;
        else if (pointPosition >= trimmed.Length) result = trimmed + new string('0', pointPosition - trimmed.Length);
        else result = trimmed[..pointPosition] + "." + trimmed[pointPosition..];
        return negative ? "-" + result : result;
    }
}
