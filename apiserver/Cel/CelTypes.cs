namespace Trellis.ApiServer.Cel;

public enum CelKind { Dyn, Null, Bool, Int, Uint, Double, String, Bytes, List, Map, Object, Timestamp, Duration, Type, IP, CIDR, TypeParam, Error }

/// <summary>
/// A CEL type for the checker: primitives, list(T), map(K, V), object types made from a CRD
/// schema (with their declared fields), Kubernetes' net.IP and net.CIDR, and dyn.
/// </summary>
public sealed record CelType(CelKind Kind, string Name = "", CelType? Element = null, CelType? Key = null, IReadOnlyDictionary<string, CelType>? Fields = null)
{
    public static readonly CelType Dyn = new(CelKind.Dyn, "dyn");
    public static readonly CelType Null = new(CelKind.Null, "null_type");
    public static readonly CelType Bool = new(CelKind.Bool, "bool");
    public static readonly CelType Int = new(CelKind.Int, "int");
    public static readonly CelType Uint = new(CelKind.Uint, "uint");
    public static readonly CelType Double = new(CelKind.Double, "double");
    public static readonly CelType String = new(CelKind.String, "string");
    public static readonly CelType Bytes = new(CelKind.Bytes, "bytes");
    public static readonly CelType Timestamp = new(CelKind.Timestamp, "google.protobuf.Timestamp");
    public static readonly CelType Duration = new(CelKind.Duration, "google.protobuf.Duration");
    public static readonly CelType IP = new(CelKind.IP, "net.IP");
    public static readonly CelType CIDR = new(CelKind.CIDR, "net.CIDR");
    public static readonly CelType Error = new(CelKind.Error, "*error*");
    public static readonly CelType TypeOfTypes = new(CelKind.Type, "type");

    public static CelType ListOf(CelType element) => new(CelKind.List, "list", element);
    public static CelType MapOf(CelType key, CelType value) => new(CelKind.Map, "map", value, key);
    public static CelType Param(string name) => new(CelKind.TypeParam, name);
    public static CelType ObjectOf(string name, IReadOnlyDictionary<string, CelType> fields) => new(CelKind.Object, name, Fields: fields);

    public override string ToString() => Kind switch
    {
        CelKind.List => $"list({Element})",
        CelKind.Map => $"map({Key}, {Element})",
        _ => Name,
    };

    /// <summary>Structural equality without the field tables (object types are equal by name).</summary>
    public bool SameAs(CelType other) => Kind == other.Kind && Kind switch
    {
        CelKind.List => Element!.SameAs(other.Element!),
        CelKind.Map => Key!.SameAs(other.Key!) && Element!.SameAs(other.Element!),
        CelKind.Object or CelKind.TypeParam => Name == other.Name,
        _ => true,
    };
}
