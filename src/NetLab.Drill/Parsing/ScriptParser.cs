using System.Globalization;
using System.Text;

namespace NetLab.Drill.Parsing;

/// <summary>A syntax error: where, and what was expected.</summary>
public sealed record DrillSyntaxError(SourcePos Pos, string Message)
{
    public override string ToString() => $"{Pos.Line}:{Pos.Column}: syntax error: {Message}";
}

/// <summary>Either a script or the first syntax error in it.</summary>
public readonly record struct ParseResult(DrillScript? Script, DrillSyntaxError? Error)
{
    public bool Success => Script is not null;
}

/// <summary>
/// A recursive-descent parser for packetdrill's language (the grammar in packetdrill's parser.y, summarised in
/// shared/packetdrill/syntax.md), written from the grammar. It scans characters rather than tokens because the
/// language is context-dependent: <c>.</c> is the ACK flag after a direction, a fraction in a time, and part of
/// <c>...</c>; <c>&lt;</c> is a direction at the start of an action and opens the options after a segment.
/// </summary>
public sealed class ScriptParser
{
    private readonly string _text;
    private int _pos, _line = 1, _col = 1;

    private ScriptParser(string text) => _text = text;

    /// <summary>Parses a whole script. Never throws on malformed input: the first error comes back with its line and column.</summary>
    public static ParseResult Parse(string text)
    {
        var p = new ScriptParser(text);
        // A syntax error unwinds the whole descent; it is turned into a result here, the parser's only entry point.
        try { return new ParseResult(p.ParseScript(), null); }
        catch (SyntaxException e) { return new ParseResult(null, new DrillSyntaxError(e.Pos, e.Message)); }
    }

    private sealed class SyntaxException(SourcePos pos, string message) : Exception(message)
    {
        public SourcePos Pos { get; } = pos;
    }

    private DrillScript ParseScript()
    {
        var options = new List<DrillOption>();
        var events = new List<DrillEvent>();
        CommandSpec? init = null, cleanup = null;
        SkipTrivia();
        while (Peek() == '-' && Peek(1) == '-') options.Add(ParseOption());
        if (Peek() == '`') init = ParseCommand();
        while (true)
        {
            SkipTrivia();
            if (AtEnd) break;
            if (Peek() == '`')
            {
                // A command without a time after the events is the cleanup command; it must be the last thing.
                cleanup = ParseCommand();
                SkipTrivia();
                if (!AtEnd) throw Error("nothing may follow the cleanup command");
                break;
            }
            events.Add(ParseEvent());
        }
        if (events.Count == 0 && init is null) throw Error("a script needs at least one event");
        return new DrillScript(options, init, events, cleanup);
    }

    private DrillOption ParseOption()
    {
        var pos = Pos;
        Advance(2);
        string name = ReadWhile(c => char.IsAsciiLetterOrDigit(c) || c == '_');
        if (name.Length == 0) throw Error("expected an option name after --");
        string? value = null;
        if (TryChar('='))
        {
            value = ReadWhile(c => !char.IsWhiteSpace(c));
            if (value.Length == 0) throw Error($"expected a value for --{name}");
        }
        RequireLineEnd();
        SkipTrivia();
        return new DrillOption(pos, name, value);
    }

    private CommandSpec ParseCommand()
    {
        var pos = Pos;
        Expect('`');
        int start = _pos;
        while (!AtEnd && Peek() != '`') Advance();
        if (AtEnd) throw new SyntaxException(pos, "unterminated command: missing closing `");
        string text = _text[start.._pos];
        Advance();
        return new CommandSpec(pos, text);
    }

    private DrillEvent ParseEvent()
    {
        var pos = Pos;
        var time = ParseEventTime();
        SkipBlanks();
        var action = ParseAction(time);
        return new DrillEvent(pos, time, action);
    }

    // event_time: '+' time | time | '*' | time '~' time | '+' time '~' '+' time
    private EventTime ParseEventTime()
    {
        if (TryChar('*')) return new EventTime(TimeKind.Any, 0, null);
        bool relative = TryChar('+');
        long start = ParseTime();
        long? end = null;
        if (TryChar('~'))
        {
            if (TryChar('+') != relative) throw Error("both ends of a time range must be relative (+a~+b) or absolute (a~b)");
            end = ParseTime();
            if (end < start) throw Error("a time range must not end before it starts");
        }
        return new EventTime(relative ? TimeKind.Relative : TimeKind.Absolute, start, end);
    }

    /// <summary>A time in seconds (<c>1</c>, <c>0.200</c>, <c>.1</c>), returned in microseconds.</summary>
    private long ParseTime()
    {
        var pos = Pos;
        string digits = ReadWhile(char.IsAsciiDigit);
        string frac = "";
        // "0...0.2" is a time, an ellipsis and a time: a '.' belongs to the number only before a digit.
        if (Peek() == '.' && char.IsAsciiDigit(Peek(1)))
        {
            Advance();
            frac = ReadWhile(char.IsAsciiDigit);
        }
        if (digits.Length == 0 && frac.Length == 0) throw new SyntaxException(pos, "expected a time");
        if (frac.Length > 6) throw new SyntaxException(pos, "times have at most microsecond precision (6 decimals)");
        if (digits.Length > 9) throw new SyntaxException(pos, "time too large");
        long whole = digits.Length == 0 ? 0 : long.Parse(digits, CultureInfo.InvariantCulture);
        long micros = frac.Length == 0 ? 0 : long.Parse(frac.PadRight(6, '0'), CultureInfo.InvariantCulture);
        return whole * 1_000_000 + micros;
    }

    private DrillAction ParseAction(EventTime time)
    {
        char c = Peek();
        if (c is '<' or '>') return ParsePacket();
        if (c == '`') return ParseCommand();
        if (c == '%' && Peek(1) == '{') return ParseCode();
        if (c == '.' && Peek(1) == '.' && Peek(2) == '.')
        {
            Advance(3);
            SkipBlanks();
            long end = ParseTime();
            if (time.Kind == TimeKind.Any || time.EndUs is not null) throw Error("a blocking call's start must be a single time");
            if (end < time.StartUs) throw Error("a blocking call cannot end before it starts");
            SkipBlanks();
            return ParseSyscall(end);
        }
        if (char.IsAsciiLetter(c) || c == '_') return ParseSyscall(null);
        throw Error(AtEnd ? "expected an action after the time" : $"expected a packet, system call, command or %{{ }}% block, found '{c}'");
    }

    private CodeSpec ParseCode()
    {
        var pos = Pos;
        Advance(2);
        int start = _pos;
        while (!AtEnd && !(Peek() == '}' && Peek(1) == '%')) Advance();
        if (AtEnd) throw new SyntaxException(pos, "unterminated %{ block: missing }%");
        string text = _text[start.._pos];
        Advance(2);
        return new CodeSpec(pos, text);
    }

    // ------------------------------------------------------------------ packets

    private PacketSpec ParsePacket()
    {
        var pos = Pos;
        var dir = Peek() == '<' ? Direction.Inbound : Direction.Outbound;
        Advance();
        SkipBlanks();
        var ip = ParseIpInfo();
        SkipBlanks();
        PacketSpec spec = PeekWord() switch
        {
            "udp" => ParseUdp(pos, dir, ip),
            "icmp" => ParseIcmp(pos, dir, ip),
            _ => ParseTcp(pos, dir, ip),
        };
        RequireLineEnd();
        return spec;
    }

    // opt_ip_info: '(' ip_info ')' | '[' ip_info ']' with ip_info: ecn word, "tos 0x..", "ttl N".
    private IpInfo? ParseIpInfo()
    {
        char open = Peek();
        if (open is not ('(' or '[')) return null;
        char close = open == '(' ? ')' : ']';
        Advance();
        byte? tos = null, ecn = null, ttl = null;
        while (true)
        {
            SkipBlanks();
            var at = Pos;
            string w = ReadWord();
            switch (w)
            {
                case "noecn": ecn = 0; break;
                case "ect1": ecn = 1; break;
                case "ect0": ecn = 2; break;
                case "ce": ecn = 3; break;
                case "ect01": ecn = null; break; // either ECT codepoint: left unchecked
                case "tos": SkipBlanks(); tos = (byte)ParseInt(0, 255, "a TOS byte"); break;
                case "ttl": SkipBlanks(); ttl = (byte)ParseInt(0, 255, "a TTL"); break;
                case "flowlabel": throw new SyntaxException(at, "flowlabel is IPv6; NetLab runs IPv4 scripts");
                default: throw new SyntaxException(at, $"expected noecn, ect0, ect1, ect01, ce, tos or ttl, found '{w}'");
            }
            SkipBlanks();
            if (TryChar(',')) continue;
            if (TryChar(close)) break;
            throw Error($"expected ',' or '{close}' in the IP fields");
        }
        return new IpInfo(tos, ecn, ttl);
    }

    private TcpPacketSpec ParseTcp(SourcePos pos, Direction dir, IpInfo? ip)
    {
        // opt_port_info: "1234>80" is allowed by the grammar but never needed against one socket; refuse it clearly.
        if (char.IsAsciiDigit(Peek())) throw Error("expected TCP flags (S, ., P., F., R, ...); port numbers are not supported");
        var flagsPos = Pos;
        string flags = ReadWhile(c => c is '.' or '-' || char.IsAsciiLetter(c));
        if (flags.Length == 0) throw Error("expected TCP flags (S, ., P., F., R, ...)");
        if (flags != "-")
            foreach (char f in flags)
                if ("FSRP.EWU".IndexOf(f) < 0) throw new SyntaxException(flagsPos, $"unknown TCP flag '{f}' in '{flags}' (flags are F S R P . E W U, or - for none)");
        SkipBlanks();
        var (seq, end, len) = ParseSeqRange();
        uint? ack = null;
        int? win = null, urg = null;
        List<TcpOptionSpec>? options = null;
        bool any = false;
        while (true)
        {
            SkipBlanks();
            string w = PeekWord();
            if (w == "ack") { ReadWord(); SkipBlanks(); ack = (uint)ParseInt(0, uint.MaxValue, "an ack number"); }
            else if (w == "win") { ReadWord(); SkipBlanks(); win = (int)ParseInt(0, 65535, "a window"); }
            else if (w == "urg") { ReadWord(); SkipBlanks(); urg = (int)ParseInt(0, 65535, "an urgent pointer"); }
            else break;
        }
        if (Peek() == '<')
        {
            Advance();
            SkipBlanks();
            if (TryString("..."))
            {
                SkipBlanks();
                Expect('>');
                any = true;
            }
            else options = ParseTcpOptions();
        }
        return new TcpPacketSpec(pos, dir, ip, flags, seq, end, len, ack, win, urg, options, any);
    }

    // seq: INTEGER ':' INTEGER '(' INTEGER ')'
    private (uint Start, uint End, int Length) ParseSeqRange()
    {
        var pos = Pos;
        if (!char.IsAsciiDigit(Peek())) throw Error("expected a sequence range start:end(length)");
        uint start = (uint)ParseInt(0, uint.MaxValue, "a sequence number");
        Expect(':');
        uint end = (uint)ParseInt(0, uint.MaxValue, "a sequence number");
        Expect('(');
        int len = (int)ParseInt(0, 1 << 20, "a payload length");
        Expect(')');
        if (unchecked(end - start) != (uint)len)
            throw new SyntaxException(pos, $"inconsistent sequence range {start}:{end}({len}): end - start must equal the length");
        return (start, end, len);
    }

    private List<TcpOptionSpec> ParseTcpOptions()
    {
        var list = new List<TcpOptionSpec>();
        while (true)
        {
            SkipBlanks();
            var at = Pos;
            string w = ReadWord();
            SkipBlanks();
            switch (w)
            {
                case "nop": list.Add(new(TcpOptionKind.Nop)); break;
                case "eol": list.Add(new(TcpOptionKind.Eol)); break;
                case "mss": list.Add(new(TcpOptionKind.Mss, ParseInt(0, 65535, "an MSS"))); break;
                case "wscale": list.Add(new(TcpOptionKind.WindowScale, ParseInt(0, 255, "a window scale"))); break;
                case "sackOK": list.Add(new(TcpOptionKind.SackPermitted)); break;
                case "sack":
                {
                    var blocks = new List<(uint, uint)>();
                    while (char.IsAsciiDigit(Peek()))
                    {
                        uint s = (uint)ParseInt(0, uint.MaxValue, "a SACK block start");
                        Expect(':');
                        uint e = (uint)ParseInt(0, uint.MaxValue, "a SACK block end");
                        blocks.Add((s, e));
                        SkipBlanks();
                    }
                    if (blocks.Count == 0) throw new SyntaxException(at, "sack needs at least one block start:end");
                    if (blocks.Count > 4) throw new SyntaxException(at, "at most 4 SACK blocks fit in the options");
                    list.Add(new(TcpOptionKind.Sack, Blocks: blocks));
                    break;
                }
                case "TS":
                {
                    if (ReadWord() != "val") throw new SyntaxException(at, "expected TS val N ecr N");
                    SkipBlanks();
                    long val = ParseInt(0, uint.MaxValue, "a TS val");
                    SkipBlanks();
                    if (ReadWord() != "ecr") throw new SyntaxException(at, "expected TS val N ecr N");
                    SkipBlanks();
                    list.Add(new(TcpOptionKind.Timestamp, val, ParseInt(0, uint.MaxValue, "a TS ecr")));
                    break;
                }
                case "FO": list.Add(new(TcpOptionKind.FastOpen, Cookie: ReadHexBlob())); break;
                case "FOEXP": list.Add(new(TcpOptionKind.FastOpenExp, Cookie: ReadHexBlob())); break;
                case "md5": list.Add(new(TcpOptionKind.Md5, Cookie: ReadHexBlob())); break;
                case "": throw new SyntaxException(at, "expected a TCP option (nop, mss, sackOK, TS, wscale, sack, FO, ...)");
                default: throw new SyntaxException(at, $"unknown TCP option '{w}'");
            }
            SkipBlanks();
            if (TryChar(',')) continue;
            if (TryChar('>')) return list;
            throw Error("expected ',' or '>' after a TCP option");
        }
    }

    /// <summary>
    /// An optional hex blob after FO/FOEXP/md5 (<c>abcd1234</c>): empty when absent, null for a symbolic name
    /// (<c>TFO_COOKIE</c>, which packetdrill's --define would fill in), which matches any cookie.
    /// </summary>
    private byte[]? ReadHexBlob()
    {
        if (!char.IsAsciiLetterOrDigit(Peek())) return [];
        var hexPos = Pos;
        string blob = ReadWhile(c => char.IsAsciiLetterOrDigit(c) || c == '_');
        if (blob.All(char.IsAsciiHexDigit))
        {
            if (blob.Length % 2 != 0) throw new SyntaxException(hexPos, $"expected an even number of hex digits for the option cookie, found '{blob}'");
            return Convert.FromHexString(blob);
        }
        if (!char.IsAsciiLetter(blob[0]) && blob[0] != '_') throw new SyntaxException(hexPos, $"expected a hex cookie or a name, found '{blob}'");
        return null;
    }

    private UdpPacketSpec ParseUdp(SourcePos pos, Direction dir, IpInfo? ip)
    {
        ReadWord();
        SkipBlanks();
        Expect('(');
        int len = (int)ParseInt(0, 65507, "a UDP payload length");
        Expect(')');
        return new UdpPacketSpec(pos, dir, ip, len);
    }

    // icmp_packet_spec: ICMP icmp_type opt_icmp_code opt_icmp_mtu opt_icmp_echo_id opt_icmp_echoed
    private IcmpPacketSpec ParseIcmp(SourcePos pos, Direction dir, IpInfo? ip)
    {
        ReadWord();
        SkipBlanks();
        var typePos = Pos;
        string type = ReadWord();
        if (type.Length == 0) throw new SyntaxException(typePos, "expected an ICMP type (unreachable, time_exceeded, ...)");
        SkipBlanks();
        string? code = null;
        int? mtu = null;
        if (PeekWord() is { Length: > 0 } w && w != "mtu" && w != "id") { code = ReadWord(); SkipBlanks(); }
        if (PeekWord() == "mtu") { ReadWord(); SkipBlanks(); mtu = (int)ParseInt(68, 65535, "an MTU"); SkipBlanks(); }
        if (PeekWord() == "id") { ReadWord(); SkipBlanks(); ParseInt(0, 65535, "an echo id"); SkipBlanks(); }
        uint? seq = null;
        int? len = null;
        if (TryChar('['))
        {
            SkipBlanks();
            var (s, _, l) = ParseSeqRange();
            seq = s;
            len = l;
            SkipBlanks();
            Expect(']');
        }
        return new IcmpPacketSpec(pos, dir, ip, type, code, mtu, seq, len);
    }

    // ------------------------------------------------------------------ system calls

    /// <summary>The comma-separated expressions after an opening parenthesis, through the closing one.</summary>
    private List<Expr> ParseArguments(string what)
    {
        var args = new List<Expr>();
        SkipTrivia();
        if (TryChar(')')) return args;
        while (true)
        {
            args.Add(ParseExpr());
            SkipTrivia();
            if (TryChar(',')) continue;
            if (TryChar(')')) return args;
            throw Error($"expected ',' or ')' in {what}");
        }
    }

    // syscall_spec: opt_end_time function_name function_arguments '=' expression opt_errno opt_note
    private SyscallSpec ParseSyscall(long? endUs)
    {
        var pos = Pos;
        string name = ReadWord();
        SkipBlanks();
        Expect('(');
        var args = ParseArguments($"the arguments of {name}()");
        SkipBlanks();
        if (!TryChar('=')) throw Error($"expected '= result' after {name}(...)");
        SkipBlanks();
        var result = ParseExpr();
        SkipBlanks();
        string? errno = null, note = null;
        if (char.IsAsciiLetter(Peek())) { errno = ReadWord(); SkipBlanks(); }
        if (Peek() == '(')
        {
            var notePos = Pos;
            Advance();
            int start = _pos;
            while (!AtEnd && Peek() != ')' && Peek() != '\n') Advance();
            if (Peek() != ')') throw new SyntaxException(notePos, "unterminated note: missing ')'");
            note = _text[start.._pos];
            Advance();
        }
        RequireLineEnd();
        return new SyscallSpec(pos, endUs, name, args, result, errno, note);
    }

    private Expr ParseExpr()
    {
        var left = ParsePrimary();
        while (true)
        {
            SkipBlanks(); // a result ends its line: the next line's "+0" must not be read as part of it
            if (Peek() != '|') return left;
            Advance();
            SkipTrivia();
            left = new OrExpr(left.Pos, left, ParsePrimary());
        }
    }

    private Expr ParsePrimary()
    {
        SkipTrivia();
        var pos = Pos;
        char c = Peek();
        if (c == '.' && TryString("...")) return new EllipsisExpr(pos);
        if (char.IsAsciiDigit(c) || (c == '-' && char.IsAsciiDigit(Peek(1))))
            return new IntExpr(pos, ParseInt(int.MinValue, uint.MaxValue, "an integer"));
        if (c == '"')
        {
            Advance();
            var sb = new StringBuilder();
            while (!AtEnd && Peek() != '"' && Peek() != '\n')
            {
                if (Peek() == '\\' && Peek(1) is '"' or '\\') Advance();
                sb.Append(Peek());
                Advance();
            }
            if (Peek() != '"') throw new SyntaxException(pos, "unterminated string");
            Advance();
            SkipBlanks();
            TryString("..."); // STRING ELLIPSIS: a prefix of the data; NetLab does not compare buffers
            return new StringExpr(pos, sb.ToString());
        }
        if (c == '[') return new ArrayExpr(pos, ParseList(']'));
        if (c == '{') return new BraceExpr(pos, ParseList('}'));
        if (char.IsAsciiLetter(c) || c == '_')
        {
            string w = ReadWord();
            Expr e = new WordExpr(pos, w);
            if (Peek() == '(')
            {
                Advance();
                var args = ParseArguments($"{w}(...)");
                e = new CallExpr(pos, w, args);
            }
            SkipBlanks();
            if (Peek() == '=' && Peek(1) != '=')
            {
                Advance();
                SkipTrivia();
                return new BindExpr(pos, e, ParseExpr());
            }
            return e;
        }
        throw Error(AtEnd ? "unexpected end of script in an expression" : $"unexpected '{c}' in an expression");
    }

    private List<Expr> ParseList(char close)
    {
        Advance();
        var items = new List<Expr>();
        SkipTrivia();
        if (TryChar(close)) return items;
        while (true)
        {
            items.Add(ParseExpr());
            SkipTrivia();
            if (TryChar(',')) { SkipTrivia(); continue; }
            if (TryChar(close)) return items;
            throw Error($"expected ',' or '{close}'");
        }
    }

    // ------------------------------------------------------------------ scanning

    private bool AtEnd => _pos >= _text.Length;
    private SourcePos Pos => new(_line, _col);
    private char Peek(int ahead = 0) => _pos + ahead < _text.Length ? _text[_pos + ahead] : '\0';

    private void Advance(int n = 1)
    {
        for (int i = 0; i < n && _pos < _text.Length; i++)
        {
            if (_text[_pos] == '\n') { _line++; _col = 1; }
            else _col++;
            _pos++;
        }
    }

    private bool TryChar(char c)
    {
        if (Peek() != c) return false;
        Advance();
        return true;
    }

    private bool TryString(string s)
    {
        if (string.CompareOrdinal(_text, _pos, s, 0, s.Length) != 0) return false;
        Advance(s.Length);
        return true;
    }

    private void Expect(char c)
    {
        SkipBlanks();
        if (!TryChar(c)) throw Error(AtEnd ? $"expected '{c}', found the end of the script" : $"expected '{c}', found '{Peek()}'");
    }

    private string ReadWhile(Func<char, bool> accept)
    {
        int start = _pos;
        while (!AtEnd && accept(Peek())) Advance();
        return _text[start.._pos];
    }

    private string ReadWord() => ReadWhile(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    private string PeekWord()
    {
        int end = _pos;
        while (end < _text.Length && (char.IsAsciiLetterOrDigit(_text[end]) || _text[end] == '_')) end++;
        return _text[_pos..end];
    }

    /// <summary>A decimal or 0x hex integer (optionally negative) within bounds.</summary>
    private long ParseInt(long min, long max, string what)
    {
        var pos = Pos;
        bool negative = TryChar('-');
        long value;
        if (Peek() == '0' && Peek(1) is 'x' or 'X')
        {
            Advance(2);
            string hex = ReadWhile(char.IsAsciiHexDigit);
            if (hex.Length is 0 or > 15) throw new SyntaxException(pos, $"expected {what}");
            value = long.Parse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        }
        else
        {
            string digits = ReadWhile(char.IsAsciiDigit);
            if (digits.Length is 0 or > 18) throw new SyntaxException(pos, $"expected {what}");
            value = long.Parse(digits, CultureInfo.InvariantCulture);
        }
        if (negative) value = -value;
        if (value < min || value > max) throw new SyntaxException(pos, $"{what} out of range: {value}");
        return value;
    }

    /// <summary>Spaces and tabs only (an action's parts stay on its line unless inside brackets).</summary>
    private void SkipBlanks()
    {
        while (true)
        {
            char c = Peek();
            if (c is ' ' or '\t' or '\r') Advance();
            else if (c == '\\' && Peek(1) == '\n') Advance(2);
            else if (c == '/' && Peek(1) == '*') SkipBlockComment();
            else return;
        }
    }

    /// <summary>Whitespace, newlines and comments (// to the end of the line, /* ... */).</summary>
    private void SkipTrivia()
    {
        while (true)
        {
            char c = Peek();
            if (c is ' ' or '\t' or '\r' or '\n') Advance();
            else if (c == '/' && Peek(1) == '/') { while (!AtEnd && Peek() != '\n') Advance(); }
            else if (c == '/' && Peek(1) == '*') SkipBlockComment();
            else return;
        }
    }

    private void SkipBlockComment()
    {
        var pos = Pos;
        Advance(2);
        while (!AtEnd && !(Peek() == '*' && Peek(1) == '/')) Advance();
        if (AtEnd) throw new SyntaxException(pos, "unterminated /* comment");
        Advance(2);
    }

    /// <summary>After a complete action only blanks and a comment may follow on the line.</summary>
    private void RequireLineEnd()
    {
        SkipBlanks();
        if (Peek() == '/' && Peek(1) == '/') return;
        if (AtEnd || Peek() == '\n') return;
        throw Error($"unexpected '{Peek()}' after the end of the statement");
    }

    private SyntaxException Error(string message) => new(Pos, message);
}
