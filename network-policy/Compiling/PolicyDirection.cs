namespace Trellis.NetworkPolicy.Compiling;

public enum PolicyDirection
{
    Ingress,
    Egress,
}
