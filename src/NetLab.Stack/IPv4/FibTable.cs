using NetLab.Core.Addressing;

namespace NetLab.Stack.IPv4;

/// <summary>
/// One routing table with longest-prefix match: a hash table per prefix length, probed from
/// the longest non-empty length down. At most 33 O(1) probes per lookup, no allocation
/// (Linux uses an LC-trie; the answer is the same).
/// </summary>
public sealed class FibTable(int id)
{
    private readonly Dictionary<uint, List<Route>>?[] _byLength = new Dictionary<uint, List<Route>>?[33];
    private ulong _nonEmptyLengths; // bit n set: some route of prefix length n exists

    public int Id { get; } = id;

    public void Add(Route r)
    {
        int len = r.Destination.Length;
        var map = _byLength[len] ??= [];
        uint key = r.Destination.Network.Value;
        if (!map.TryGetValue(key, out var list)) map[key] = list = [];
        // Same prefix: lowest metric first (fib_find_alias ordering by priority).
        int i = 0;
        while (i < list.Count && list[i].Metric <= r.Metric) i++;
        list.Insert(i, r);
        _nonEmptyLengths |= 1UL << len;
    }

    public bool Remove(Func<Route, bool> match)
    {
        bool removed = false;
        for (int len = 0; len <= 32; len++)
        {
            var map = _byLength[len];
            if (map is null) continue;
            foreach (var (key, list) in map.ToList())
            {
                removed |= list.RemoveAll(r => match(r)) > 0;
                if (list.Count == 0) map.Remove(key);
            }
            if (map.Count == 0) { _byLength[len] = null; _nonEmptyLengths &= ~(1UL << len); }
        }
        return removed;
    }

    /// <summary>fib_table_lookup(): the longest matching prefix whose route is usable.</summary>
    public Route? Lookup(Ipv4Address destination)
    {
        ulong lengths = _nonEmptyLengths;
        while (lengths != 0)
        {
            int len = 63 - System.Numerics.BitOperations.LeadingZeroCount(lengths);
            lengths &= ~(1UL << len);
            uint mask = len == 0 ? 0 : uint.MaxValue << (32 - len);
            if (_byLength[len]!.TryGetValue(destination.Value & mask, out var list))
            {
                foreach (var r in list)
                    if (r.Device is null || r.Device.IsUp) return r;
            }
        }
        return null;
    }

    /// <summary>
    /// Routes in `ip route show` order, the order of a fib_trie dump: by key (network), then the
    /// longer prefix first (fib_insert_alias keeps a leaf's aliases by ascending suffix length), then metric.
    /// </summary>
    public IEnumerable<Route> All() =>
        _byLength.Where(m => m is not null).SelectMany(m => m!.Values.SelectMany(l => l))
            .OrderBy(r => r.Destination.Network.Value)
            .ThenByDescending(r => r.Destination.Length)
            .ThenBy(r => r.Metric);
}
