using NetLab.Stack.Tcp;
using Xunit.Sdk;

namespace NetLab.Stack.Tests.Tcp;

/// <summary>One assertion on a sent segment, and the text a failure prints for it (gVisor's checker.TransportChecker).</summary>
public sealed record SegCheck(string Description, Func<SentSegment, bool> Matches)
{
    public override string ToString() => Description;
}

/// <summary>
/// Composable segment checks, in the spirit of gVisor's checker package (CONVENTIONS rule 11). Descriptions use
/// tcpdump's words, so a failure reads like the capture it is compared with.
/// </summary>
public static class Seg
{
    /// <summary>Exactly these control bits.</summary>
    public static SegCheck Flags(TcpFlags flags)
    {
        // TcpRepr prints tcpdump's flag letters; its line starts "Flags [...]".
        string line = new TcpRepr(0, 0, default, default, flags, 0).ToString();
        return new(line[..(line.IndexOf(']') + 1)], s => s.Tcp.Flags == flags);
    }

    public static SegCheck Seq(SeqNum seq) => new($"seq {seq}", s => s.Tcp.Seq == seq);
    /// <summary>The acknowledgment field, whether or not ACK is set (use <see cref="Flags"/> for the bit).</summary>
    public static SegCheck Ack(SeqNum ack) => new($"ack {ack}", s => s.Tcp.Ack == ack);
    /// <summary>The raw window field, unscaled.</summary>
    public static SegCheck Window(ushort window) => new($"win {window}", s => s.Tcp.Window == window);
    public static SegCheck WindowAtLeast(ushort window) => new($"win >= {window}", s => s.Tcp.Window >= window);
    public static SegCheck Mss(ushort mss) => new($"mss {mss}", s => s.Tcp.Options.Mss == mss);
    public static SegCheck WScale(byte shift) => new($"wscale {shift}", s => s.Tcp.Options.WindowScale == shift);
    public static SegCheck SackPermitted() => new("sackOK", s => s.Tcp.Options.SackPermitted);

    /// <summary>A timestamp option; TSval and TSecr are compared only when given.</summary>
    public static SegCheck Timestamp(uint? val = null, uint? ecr = null) =>
        new($"TS val {val?.ToString() ?? "*"} ecr {ecr?.ToString() ?? "*"}", s =>
            s.Tcp.Options.Timestamp is { } ts && (val is null || ts.TsVal == val) && (ecr is null || ts.TsEcr == ecr));

    public static SegCheck NoOptions() => new("no options", s => s.Tcp.Options.IsEmpty);

    /// <summary>Exactly these SACK blocks, in this order (RFC 2018 §4: the most recent first).</summary>
    public static SegCheck SackBlocks(params SackBlock[] blocks)
    {
        var expected = new TcpSackBlocks(blocks);
        return new($"sack {blocks.Length} {expected}", s => s.Tcp.Options.SackBlocks == expected);
    }

    /// <summary>No SACK option.</summary>
    public static SegCheck NoSackBlocks() => new("no sack", s => s.Tcp.Options.SackBlocks.IsEmpty);

    public static SegCheck Payload(byte[] bytes) =>
        new($"payload {Convert.ToHexStringLower(bytes)}", s => s.Payload.AsSpan().SequenceEqual(bytes));

    public static SegCheck PayloadLength(int length) => new($"length {length}", s => s.Tcp.PayloadLength == length);
    public static SegCheck Ttl(byte ttl) => new($"ttl {ttl}", s => s.Ip.Ttl == ttl);
    public static SegCheck DontFragment() => new("flags [DF]", s => s.Ip.DontFragment);

    /// <summary>Any other property of the segment, described for the failure message.</summary>
    public static SegCheck Where(string description, Func<SentSegment, bool> predicate) => new(description, predicate);

    /// <summary>Asserts that <paramref name="segment"/> passes every check.</summary>
    /// <exception cref="FailException">Some check fails; the message shows the segment and the failed checks.</exception>
    public static void Verify(SentSegment segment, params SegCheck[] checks)
    {
        if (Mismatch(segment, checks) is { } message) throw FailException.ForFailure(message);
    }

    /// <summary>The failure text when a check fails, else null.</summary>
    internal static string? Mismatch(SentSegment segment, SegCheck[] checks)
    {
        var failed = checks.Where(c => !c.Matches(segment)).ToList();
        return failed.Count == 0 ? null
            : $"Expected: {string.Join(", ", checks.AsEnumerable())}\nMismatch: {string.Join(", ", failed)}\nSent:\n{segment}";
    }
}
