using Trellis.Addressing;


namespace Trellis.NodeAgent.Planning;

/// <summary>
/// Blocks already given to someone, answering "does this block overlap any of them" in time
/// proportional to the prefix length rather than the number of blocks (5,000 peers must not cost
/// 25 million comparisons). Two CIDRs overlap only when one contains the other, so a block
/// overlaps a claim when one of its supernets is claimed, or when it is a supernet of a claim.
/// </summary>
public sealed class BlockClaims
{
    private readonly Dictionary<Cidr, string> _claims = [];
    private readonly Dictionary<Cidr, Cidr> _supernetOfClaim = [];

    public void Claim(Cidr block, string owner)
    {
        _claims.TryAdd(block, owner);
        for (int length = block.PrefixLength - 1; length >= 0; length--)
            _supernetOfClaim.TryAdd(Cidr.Containing(block.Network, length), block);
    }

    public (Cidr Cidr, string Owner)? FindOverlap(Cidr block)
    {
        for (int length = block.PrefixLength; length >= 0; length--)
        {
            var supernet = length == block.PrefixLength ? block : Cidr.Containing(block.Network, length);
            if (_claims.TryGetValue(supernet, out var owner)) return (supernet, owner);
        }
        if (_supernetOfClaim.TryGetValue(block, out var inner)) return (inner, _claims[inner]);
        return null;
    }
}
