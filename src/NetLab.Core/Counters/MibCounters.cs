using System.Runtime.CompilerServices;

namespace NetLab.Core.Counters;

/// <summary>
/// A MIB: one long per member of <typeparamref name="TField"/>, whose names are Linux's counter
/// names (/proc/net/snmp, /proc/net/netstat). Incrementing is an array index: no allocation.
/// </summary>
public sealed class MibCounters<TField> where TField : struct, Enum
{
    private static readonly TField[] Fields = Enum.GetValues<TField>();
    private readonly long[] _values = new long[Fields.Length];

    /// <summary>The heading Linux prints before the names ("Ip", "Icmp", "Udp", "TcpExt", ...).</summary>
    public string Heading { get; }

    public MibCounters(string heading) => Heading = heading;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Inc(TField field) => _values[Unsafe.As<TField, int>(ref field)]++;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(TField field, long n) => _values[Unsafe.As<TField, int>(ref field)] += n;

    public long this[TField field] => _values[Unsafe.As<TField, int>(ref field)];

    public IEnumerable<(string Name, long Value)> All() => Fields.Select(f => (f.ToString(), this[f]));

    /// <summary>Two lines, as /proc/net/snmp prints a MIB: names, then values.</summary>
    public string ToProcFormat() =>
        $"{Heading}: {string.Join(' ', Fields.Select(f => f.ToString()))}\n{Heading}: {string.Join(' ', Fields.Select(f => this[f]))}\n";
}
