using System.Globalization;

namespace NetLab.Core.Time;

/// <summary>A span of virtual time in nanoseconds.</summary>
public readonly record struct SimDuration(long Nanoseconds) : IComparable<SimDuration>
{
    public static readonly SimDuration Zero = new(0);
    public static SimDuration FromNanoseconds(long ns) => new(ns);
    public static SimDuration FromMicroseconds(double us) => new((long)Math.Round(us * 1_000));
    public static SimDuration FromMilliseconds(double ms) => new((long)Math.Round(ms * 1_000_000));
    public static SimDuration FromSeconds(double s) => new((long)Math.Round(s * 1_000_000_000));
    public static SimDuration FromTimeSpan(TimeSpan t) => new(t.Ticks * 100);

    public double TotalMilliseconds => Nanoseconds / 1e6;
    public double TotalSeconds => Nanoseconds / 1e9;
    public TimeSpan ToTimeSpan() => TimeSpan.FromTicks(Nanoseconds / 100);

    public static SimDuration operator +(SimDuration a, SimDuration b) => new(a.Nanoseconds + b.Nanoseconds);
    public static SimDuration operator -(SimDuration a, SimDuration b) => new(a.Nanoseconds - b.Nanoseconds);
    public static SimDuration operator *(SimDuration a, long k) => new(a.Nanoseconds * k);
    public static SimDuration operator /(SimDuration a, long k) => new(a.Nanoseconds / k);
    public static bool operator <(SimDuration a, SimDuration b) => a.Nanoseconds < b.Nanoseconds;
    public static bool operator >(SimDuration a, SimDuration b) => a.Nanoseconds > b.Nanoseconds;
    public static bool operator <=(SimDuration a, SimDuration b) => a.Nanoseconds <= b.Nanoseconds;
    public static bool operator >=(SimDuration a, SimDuration b) => a.Nanoseconds >= b.Nanoseconds;
    public int CompareTo(SimDuration other) => Nanoseconds.CompareTo(other.Nanoseconds);

    /// <summary>Parses "10ms", "1.5s", "250us", "3m", "40ns" (the scenario file spelling).</summary>
    public static bool TryParse(string text, out SimDuration value)
    {
        value = default;
        text = text.Trim();
        (string suffix, double scale)[] units = [("ns", 1), ("us", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9)];
        foreach (var (suffix, scale) in units)
        {
            if (!text.EndsWith(suffix, StringComparison.Ordinal)) continue;
            var number = text[..^suffix.Length];
            // "ms" also ends with "s" and "m": only accept when the prefix is a plain number.
            if (double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n >= 0)
            {
                value = new((long)Math.Round(n * scale));
                return true;
            }
        }
        return false;
    }

    public override string ToString() => Nanoseconds switch
    {
        0 => "0s",
        _ when Nanoseconds % 1_000_000_000 == 0 => $"{Nanoseconds / 1_000_000_000}s",
        _ when Nanoseconds % 1_000_000 == 0 => $"{Nanoseconds / 1_000_000}ms",
        _ when Nanoseconds % 1_000 == 0 => $"{Nanoseconds / 1_000}us",
        _ => $"{Nanoseconds}ns",
    };
}

/// <summary>An instant of virtual time: nanoseconds since the world started.</summary>
public readonly record struct SimTime(long Nanoseconds) : IComparable<SimTime>
{
    public static readonly SimTime Zero = new(0);
    public static readonly SimTime MaxValue = new(long.MaxValue);
    public double TotalSeconds => Nanoseconds / 1e9;
    public double TotalMilliseconds => Nanoseconds / 1e6;

    public static SimTime operator +(SimTime t, SimDuration d) => new(t.Nanoseconds + d.Nanoseconds);
    public static SimTime operator -(SimTime t, SimDuration d) => new(t.Nanoseconds - d.Nanoseconds);
    public static SimDuration operator -(SimTime a, SimTime b) => new(a.Nanoseconds - b.Nanoseconds);
    public static bool operator <(SimTime a, SimTime b) => a.Nanoseconds < b.Nanoseconds;
    public static bool operator >(SimTime a, SimTime b) => a.Nanoseconds > b.Nanoseconds;
    public static bool operator <=(SimTime a, SimTime b) => a.Nanoseconds <= b.Nanoseconds;
    public static bool operator >=(SimTime a, SimTime b) => a.Nanoseconds >= b.Nanoseconds;
    public static SimTime Max(SimTime a, SimTime b) => a.Nanoseconds >= b.Nanoseconds ? a : b;
    public int CompareTo(SimTime other) => Nanoseconds.CompareTo(other.Nanoseconds);

    /// <summary>Seconds with microseconds, as dmesg prints: "12.000345".</summary>
    public override string ToString() =>
        (Nanoseconds / 1e9).ToString("0.000000", CultureInfo.InvariantCulture);
}
