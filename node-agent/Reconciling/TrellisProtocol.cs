namespace Trellis.NodeAgent.Reconciling;

/// <summary>The routing protocol number Trellis stamps on every route it adds; routes without it are never touched.</summary>
public static class TrellisProtocol
{
    public const byte Number = 148;
}
