namespace NetLab.Drill.Parsing;

/// <summary>A place in a script: 1-based line and column.</summary>
public readonly record struct SourcePos(int Line, int Column)
{
    public override string ToString() => $"{Line}:{Column}";
}

/// <summary>A parsed packetdrill script (packetdrill's grammar: opt_options opt_init_command events opt_cleanup_command).</summary>
public sealed record DrillScript(
    IReadOnlyList<DrillOption> Options,
    CommandSpec? InitCommand,
    IReadOnlyList<DrillEvent> Events,
    CommandSpec? CleanupCommand);

/// <summary>A <c>--name[=value]</c> line before the events.</summary>
public sealed record DrillOption(SourcePos Pos, string Name, string? Value);

public enum TimeKind
{
    /// <summary><c>0.1</c>: seconds since the script started.</summary>
    Absolute,
    /// <summary><c>+0.1</c>: seconds after the previous event.</summary>
    Relative,
    /// <summary><c>*</c>: any time (outbound packets only).</summary>
    Any,
}

/// <summary>
/// When an event happens: <c>time</c>, <c>+time</c>, <c>*</c>, or a range <c>a~b</c> / <c>+a~+b</c> (the event may happen
/// anywhere in it). Times are microseconds, as packetdrill keeps them.
/// </summary>
public readonly record struct EventTime(TimeKind Kind, long StartUs, long? EndUs);

/// <summary>One line of the script (possibly spanning several lines): a time and an action.</summary>
public sealed record DrillEvent(SourcePos Pos, EventTime Time, DrillAction Action);

public abstract record DrillAction;

/// <summary>A backquoted shell command.</summary>
public sealed record CommandSpec(SourcePos Pos, string Text) : DrillAction;

/// <summary>A <c>%{ ... }%</c> block of Python-like assertions.</summary>
public sealed record CodeSpec(SourcePos Pos, string Text) : DrillAction;

/// <summary>
/// A system call: <c>[...end] name(args) = result [ERRNO [(note)]]</c>. <see cref="EndUs"/> is the end time of a blocking
/// call, in the same base as the event's start time.
/// </summary>
public sealed record SyscallSpec(SourcePos Pos, long? EndUs, string Name, IReadOnlyList<Expr> Args, Expr Result, string? Errno, string? Note)
    : DrillAction;

public enum Direction { Inbound, Outbound }

/// <summary>IPv4 header fields a packet line may pin down: <c>[ect0]</c>, <c>(tos 0x10)</c>, <c>(ttl 32)</c>.</summary>
public sealed record IpInfo(byte? Tos, byte? Ecn, byte? Ttl);

public abstract record PacketSpec(SourcePos Pos, Direction Direction, IpInfo? Ip) : DrillAction;

/// <summary>
/// <c>&lt; S. 0:0(0) ack 1 win 32792 &lt;mss 1460,...&gt;</c>. Sequence and ack numbers are relative to the ISNs, as in
/// the script. <see cref="Options"/> is null when the line has none, empty never, and <see cref="AnyOptions"/> is
/// <c>&lt;...&gt;</c>.
/// </summary>
public sealed record TcpPacketSpec(
    SourcePos Pos, Direction Direction, IpInfo? Ip, string Flags, uint Seq, uint EndSeq, int Length,
    uint? Ack, int? Window, int? Urgent, IReadOnlyList<TcpOptionSpec>? Options, bool AnyOptions)
    : PacketSpec(Pos, Direction, Ip);

public sealed record UdpPacketSpec(SourcePos Pos, Direction Direction, IpInfo? Ip, int Length) : PacketSpec(Pos, Direction, Ip);

/// <summary><c>icmp unreachable frag_needed mtu 800 [1:1001(1000)]</c>: the echoed TCP segment, when given, is relative.</summary>
public sealed record IcmpPacketSpec(
    SourcePos Pos, Direction Direction, IpInfo? Ip, string Type, string? Code, int? Mtu, uint? EchoedSeq, int? EchoedLength)
    : PacketSpec(Pos, Direction, Ip);

public enum TcpOptionKind { Nop, Eol, Mss, WindowScale, SackPermitted, Sack, Timestamp, FastOpen, FastOpenExp, Md5 }

/// <summary>
/// One option of a TCP packet line; <see cref="Blocks"/> for sack, <see cref="Cookie"/> for FO/md5 (hex; null for a
/// symbolic cookie such as TFO_COOKIE, which matches any).
/// </summary>
public sealed record TcpOptionSpec(
    TcpOptionKind Kind, long Value = 0, long Value2 = 0, IReadOnlyList<(uint Start, uint End)>? Blocks = null, byte[]? Cookie = null);

/// <summary>A syscall argument or result: packetdrill's <c>expression</c>.</summary>
public abstract record Expr(SourcePos Pos);

/// <summary><c>...</c>: anything.</summary>
public sealed record EllipsisExpr(SourcePos Pos) : Expr(Pos)
{
    public override string ToString() => "...";
}

public sealed record IntExpr(SourcePos Pos, long Value) : Expr(Pos)
{
    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>A symbol (<c>SOCK_STREAM</c>, <c>NULL</c>, <c>O_NONBLOCK</c>).</summary>
public sealed record WordExpr(SourcePos Pos, string Name) : Expr(Pos)
{
    public override string ToString() => Name;
}

public sealed record StringExpr(SourcePos Pos, string Value) : Expr(Pos)
{
    public override string ToString() => $"\"{Value}\"";
}

/// <summary><c>a | b</c>.</summary>
public sealed record OrExpr(SourcePos Pos, Expr Left, Expr Right) : Expr(Pos)
{
    public override string ToString() => $"{Left}|{Right}";
}

/// <summary><c>name=value</c> or <c>msg_iov(1)=[...]</c>: the left side is a word or a call.</summary>
public sealed record BindExpr(SourcePos Pos, Expr Name, Expr Value) : Expr(Pos)
{
    public override string ToString() => $"{Name}={Value}";
}

/// <summary><c>[a, b]</c>.</summary>
public sealed record ArrayExpr(SourcePos Pos, IReadOnlyList<Expr> Items) : Expr(Pos)
{
    public override string ToString() => $"[{string.Join(", ", Items)}]";
}

/// <summary><c>{a, b}</c>: iovecs, pollfds, msghdrs, linger.</summary>
public sealed record BraceExpr(SourcePos Pos, IReadOnlyList<Expr> Items) : Expr(Pos)
{
    public override string ToString() => $"{{{string.Join(", ", Items)}}}";

    /// <summary>The value bound to <paramref name="name"/> (<c>fd=3</c>, or <c>msg_iov(1)=...</c> by the call's name).</summary>
    public Expr? Field(string name)
    {
        foreach (var item in Items)
        {
            if (item is BindExpr { Name: WordExpr w } b && w.Name == name) return b.Value;
            if (item is BindExpr { Name: CallExpr c } bc && c.Name == name) return bc.Value;
        }
        return null;
    }
}

/// <summary><c>inet_addr("1.2.3.4")</c>, <c>htons(8080)</c>, <c>msg_iov(1)</c>.</summary>
public sealed record CallExpr(SourcePos Pos, string Name, IReadOnlyList<Expr> Args) : Expr(Pos)
{
    public override string ToString() => $"{Name}({string.Join(", ", Args)})";
}
