using Trellis.NetworkPolicy.Ruleset;

namespace Trellis.NetworkPolicy.Applying;

public enum TableWrite
{
    /// <summary>The kernel already held this table.</summary>
    Unchanged,

    /// <summary>Only set and map elements changed (pods came, went or were relabelled).</summary>
    Elements,

    /// <summary>The whole table was replaced in one transaction, counters carried over.</summary>
    Replaced,
}

/// <summary>
/// Makes the kernel hold a compiled table, in as small a transaction as is safe: element changes
/// when only elements differ from what it last wrote, otherwise a replacement. It trusts its
/// memory only as far as the kernel agrees: if element changes fail (someone edited or removed
/// the table), it replaces the table. Not thread-safe: one writer per node, called from one loop.
/// </summary>
public sealed class PolicyTableWriter(NftCommand nft)
{
    private PolicyTable? _written;

    /// <exception cref="NftablesException">nft refused the replacement; the previous table stays in force.</exception>
    public TableWrite Write(PolicyTable table)
    {
        if (_written is not null && PolicyTableScript.ElementChanges(_written, table) is { } changes)
        {
            if (changes.Length == 0) return TableWrite.Unchanged;
            try
            {
                nft.Run(changes);
                _written = table;
                return TableWrite.Elements;
            }
            catch (NftablesException)
            {
                // The kernel is not what we wrote last; a replacement makes it so whatever it holds.
            }
        }
        _written = null;
        nft.Run(PolicyTableScript.Replace(table, ReadCounters(table.Name)));
        _written = table;
        return TableWrite.Replaced;
    }

    /// <summary>
    /// Stops trusting what it wrote last, so the next write replaces the table: a periodic resync
    /// calls this to repair whatever someone else did to the table.
    /// </summary>
    public void Forget() => _written = null;

    /// <summary>Takes <paramref name="table"/> as what the kernel holds, as if this writer had written it.</summary>
    public void Remember(PolicyTable table) => _written = table;

    /// <summary>Removes the table (no policy concerns this node any more, or the agent is told to stop enforcing).</summary>
    public void Remove(string tableName)
    {
        _written = null;
        nft.Run(PolicyTableScript.Remove(tableName));
    }

    /// <summary>The table's counters as the kernel holds them; none when the table does not exist yet.</summary>
    public IReadOnlyDictionary<string, CounterValue> ReadCounters(string tableName)
    {
        try
        {
            return CounterListing.Parse(nft.List("-j", "list", "counters", "table", PolicyTable.Family, tableName));
        }
        catch (NftablesException)
        {
            return new Dictionary<string, CounterValue>();
        }
    }
}
