namespace NetLab.Stack.Tcp;

/// <summary>
/// A TCP sequence number: 32 bits of modular arithmetic (RFC 9293 §3.4). Comparisons are Linux's
/// before()/after()/between() from include/net/tcp.h: the sign of the 32-bit difference decides, so they are
/// right for numbers less than 2^31 apart and wrap at 2^32.
/// <para>
/// This is not a total order, so there is no IComparable and no &lt; operator. Numbers exactly 2^31 apart are each
/// "before" the other, as in Linux, where (s32)(a - b) is INT_MIN both ways.
/// </para>
/// </summary>
public readonly record struct SeqNum(uint Value)
{
    /// <summary>Linux: before(seq1, seq2), <c>(s32)(seq1 - seq2) &lt; 0</c>.</summary>
    public static bool Before(SeqNum a, SeqNum b) => unchecked((int)(a.Value - b.Value)) < 0;

    /// <summary>Linux: after(seq2, seq1), defined as before(seq1, seq2).</summary>
    public static bool After(SeqNum a, SeqNum b) => Before(b, a);

    /// <summary>Linux: between(seq1, seq2, seq3), "is seq2 &lt;= seq1 &lt;= seq3": <c>seq3 - seq2 &gt;= seq1 - seq2</c>.</summary>
    public static bool Between(SeqNum seq, SeqNum low, SeqNum high) =>
        unchecked(high.Value - low.Value >= seq.Value - low.Value);

    /// <summary>The later of two numbers (by <see cref="After"/>).</summary>
    public static SeqNum Max(SeqNum a, SeqNum b) => After(a, b) ? a : b;

    /// <summary>The earlier of two numbers (by <see cref="Before"/>).</summary>
    public static SeqNum Min(SeqNum a, SeqNum b) => Before(a, b) ? a : b;

    public static SeqNum operator +(SeqNum s, int n) => new(unchecked(s.Value + (uint)n));
    public static SeqNum operator +(SeqNum s, uint n) => new(unchecked(s.Value + n));
    public static SeqNum operator -(SeqNum s, int n) => new(unchecked(s.Value - (uint)n));

    /// <summary>The signed distance from <paramref name="b"/> to <paramref name="a"/>, as Linux's <c>(s32)(a - b)</c>.</summary>
    public static int operator -(SeqNum a, SeqNum b) => unchecked((int)(a.Value - b.Value));

    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
