using System.Globalization;

namespace NetLab.Real.Time;

/// <summary>
/// How late the real-time loop ran each due event past its deadline: a histogram in microseconds
/// (1 µs buckets up to 10 ms, then one overflow bucket), so recording never allocates.
/// </summary>
public sealed class TimerJitter
{
    private const int Buckets = 10_000;
    private readonly long[] _counts = new long[Buckets + 1];
    private long _sumNs;

    public long Count { get; private set; }
    public long MaxNs { get; private set; }
    public double MeanMicroseconds => Count == 0 ? 0 : _sumNs / 1e3 / Count;

    public void Record(long latenessNs)
    {
        if (latenessNs < 0) latenessNs = 0;
        _counts[Math.Min(latenessNs / 1000, Buckets)]++;
        _sumNs += latenessNs;
        if (latenessNs > MaxNs) MaxNs = latenessNs;
        Count++;
    }

    /// <summary>The lateness below which <paramref name="fraction"/> of the events ran, in µs (upper bucket bound).</summary>
    public long PercentileMicroseconds(double fraction)
    {
        long target = (long)Math.Ceiling(Count * fraction), seen = 0;
        for (int i = 0; i <= Buckets; i++)
        {
            seen += _counts[i];
            if (seen >= target && seen > 0) return i == Buckets ? MaxNs / 1000 : i + 1;
        }
        return 0;
    }

    public override string ToString() => Count == 0 ? "timer jitter: no timers fired" : string.Create(CultureInfo.InvariantCulture,
        $"timer jitter: {Count} wake-ups for due timers, lateness mean {MeanMicroseconds:0.0} us, p50 {PercentileMicroseconds(0.5)} us, p99 {PercentileMicroseconds(0.99)} us, max {MaxNs / 1000} us");
}
