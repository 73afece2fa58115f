namespace Trellis.Cni.Spec;

/// <summary>A CNI specification version such as 0.4.0 or 1.1.0.</summary>
public readonly record struct CniVersion(int Major, int Minor, int Patch) : IComparable<CniVersion>
{
    public static readonly CniVersion V0_3_0 = new(0, 3, 0);
    public static readonly CniVersion V0_3_1 = new(0, 3, 1);
    public static readonly CniVersion V0_4_0 = new(0, 4, 0);
    public static readonly CniVersion V1_0_0 = new(1, 0, 0);
    public static readonly CniVersion V1_1_0 = new(1, 1, 0);

    /// <summary>The versions this plugin speaks, oldest first, as VERSION reports them.</summary>
    public static IReadOnlyList<CniVersion> Supported { get; } = [V0_3_0, V0_3_1, V0_4_0, V1_0_0, V1_1_0];

    public static CniVersion Latest => V1_1_0;

    public static bool TryParse(string? text, out CniVersion version)
    {
        version = default;
        if (string.IsNullOrEmpty(text)) return false;
        var parts = text.Split('.');
        if (parts.Length != 3) return false;
        Span<int> numbers = stackalloc int[3];
        for (int i = 0; i < 3; i++)
            if (parts[i].Length == 0 || parts[i].Length > 4 ||
                !int.TryParse(parts[i], System.Globalization.NumberStyles.None, null, out numbers[i]))
                return false;
        version = new CniVersion(numbers[0], numbers[1], numbers[2]);
        return true;
    }

    public bool IsSupported => Supported.Contains(this);

    /// <summary>0.3.x and 0.4.0 results tag each IP with "version":"4"/"6"; 1.0.0 dropped it.</summary>
    public bool IpsCarryVersion => this < V1_0_0;

    public bool AllowsCheck => this >= V0_4_0;

    public bool AllowsStatusAndGc => this >= V1_1_0;

    public int CompareTo(CniVersion other)
    {
        int c = Major.CompareTo(other.Major);
        if (c != 0) return c;
        c = Minor.CompareTo(other.Minor);
        return c != 0 ? c : Patch.CompareTo(other.Patch);
    }

    public static bool operator <(CniVersion a, CniVersion b) => a.CompareTo(b) < 0;
    public static bool operator >(CniVersion a, CniVersion b) => a.CompareTo(b) > 0;
    public static bool operator <=(CniVersion a, CniVersion b) => a.CompareTo(b) <= 0;
    public static bool operator >=(CniVersion a, CniVersion b) => a.CompareTo(b) >= 0;

    public override string ToString() => $"{Major}.{Minor}.{Patch}";
}
