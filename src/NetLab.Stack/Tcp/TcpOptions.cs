using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace NetLab.Stack.Tcp;

/// <summary>
/// Option kinds (RFC 9293 §3.2 and the IANA registry), with Linux's TCPOPT_* names from include/net/tcp.h.
/// Every option but EOL and NOP is kind, length (counting both), then data:
/// <code>
/// +--------+--------+---------...
/// |  Kind  | Length |  data ...
/// +--------+--------+---------...
/// </code>
/// </summary>
public static class TcpOptionKind
{
    public const byte Eol = 0;            // TCPOPT_EOL, RFC 9293 §3.2
    public const byte Nop = 1;            // TCPOPT_NOP
    public const byte Mss = 2;            // TCPOPT_MSS, RFC 9293 §3.7.1
    public const byte WindowScale = 3;    // TCPOPT_WINDOW, RFC 7323 §2.2
    public const byte SackPermitted = 4;  // TCPOPT_SACK_PERM, RFC 2018 §2
    public const byte Sack = 5;           // TCPOPT_SACK, RFC 2018 §3
    public const byte Timestamp = 8;      // TCPOPT_TIMESTAMP, RFC 7323 §3.2
    public const byte Md5Sig = 19;        // TCPOPT_MD5SIG, RFC 2385
    public const byte Ao = 29;            // TCPOPT_AO, RFC 5925 (carried as an unknown option)
    public const byte Mptcp = 30;         // TCPOPT_MPTCP, RFC 8684 (carried as an unknown option)
    public const byte FastOpen = 34;      // TCPOPT_FASTOPEN, RFC 7413 §4.1.1
    public const byte Experimental = 254; // TCPOPT_EXP, RFC 6994: a 16-bit magic follows the length
}

/// <summary>Option lengths and limits, with Linux's names.</summary>
public static class TcpOptionLength
{
    public const int Mss = 4;                 // TCPOLEN_MSS
    public const int WindowScale = 3;         // TCPOLEN_WINDOW
    public const int SackPermitted = 2;       // TCPOLEN_SACK_PERM
    public const int Timestamp = 10;          // TCPOLEN_TIMESTAMP
    public const int Md5Sig = 18;             // TCPOLEN_MD5SIG
    public const int SackBase = 2;            // TCPOLEN_SACK_BASE
    public const int SackPerBlock = 8;        // TCPOLEN_SACK_PERBLOCK
    public const int FastOpenBase = 2;        // TCPOLEN_FASTOPEN_BASE
    public const int ExpFastOpenBase = 4;     // TCPOLEN_EXP_FASTOPEN_BASE: kind, length, 16-bit magic
    public const ushort FastOpenMagic = 0xF989; // TCPOPT_FASTOPEN_MAGIC
    public const int FastOpenCookieMin = 4;   // TCP_FASTOPEN_COOKIE_MIN
    public const int FastOpenCookieMax = 16;  // TCP_FASTOPEN_COOKIE_MAX
    public const int Md5Digest = 16;
    public const byte MaxWindowScale = 14;    // TCP_MAX_WSCALE, RFC 7323 §2.3
    public const int MaxSpace = 40;           // MAX_TCP_OPTION_SPACE: data offset 15 words minus the fixed 20 bytes
}

/// <summary>RFC 7323 §3.2: TSval and TSecr (Linux: rcv_tsval/rcv_tsecr, or opts->tsval/tsecr on output).</summary>
public readonly record struct TcpTimestamp(uint TsVal, uint TsEcr)
{
    public override string ToString() => $"TS val {TsVal} ecr {TsEcr}";
}

/// <summary>RFC 2018 §3: one SACK block, left edge and right edge (Linux: struct tcp_sack_block start_seq/end_seq).</summary>
public readonly record struct SackBlock(SeqNum Start, SeqNum End)
{
    public override string ToString() => $"{{{Start}:{End}}}";
}

/// <summary>
/// Up to four SACK blocks in a fixed inline struct (no allocation per segment). Four is Linux's TCP_NUM_SACKS and
/// the most that fit in 40 bytes of options (2 + 4 * 8 = 34); with timestamps at most three fit. The order is the
/// wire order: RFC 2018 §4 puts the block holding the most recently received segment first.
/// </summary>
public readonly record struct TcpSackBlocks
{
    public const int MaxCount = 4; // TCP_NUM_SACKS
    private readonly SackBlock _b0, _b1, _b2, _b3;

    public TcpSackBlocks(params ReadOnlySpan<SackBlock> blocks)
    {
        if (blocks.Length > MaxCount) throw new ArgumentException($"at most {MaxCount} SACK blocks", nameof(blocks));
        Count = blocks.Length;
        if (Count > 0) _b0 = blocks[0];
        if (Count > 1) _b1 = blocks[1];
        if (Count > 2) _b2 = blocks[2];
        if (Count > 3) _b3 = blocks[3];
    }

    /// <summary>Reads the blocks of a SACK option's data (a multiple of 8 bytes, at most 32).</summary>
    internal static TcpSackBlocks Read(ReadOnlySpan<byte> data)
    {
        Span<SackBlock> blocks = stackalloc SackBlock[MaxCount];
        int n = Math.Min(MaxCount, data.Length / TcpOptionLength.SackPerBlock);
        for (int i = 0; i < n; i++)
        {
            var at = data[(i * TcpOptionLength.SackPerBlock)..];
            blocks[i] = new(new(BinaryPrimitives.ReadUInt32BigEndian(at)), new(BinaryPrimitives.ReadUInt32BigEndian(at[4..])));
        }
        return new(blocks[..n]);
    }

    public int Count { get; }
    public bool IsEmpty => Count == 0;

    public SackBlock this[int index] => (uint)index >= (uint)Count
        ? throw new ArgumentOutOfRangeException(nameof(index))
        : index switch { 0 => _b0, 1 => _b1, 2 => _b2, _ => _b3 };

    public override string ToString()
    {
        var sb = new StringBuilder();
        for (int i = 0; i < Count; i++) sb.Append(this[i].ToString());
        return sb.ToString();
    }
}

/// <summary>
/// Opaque option bytes, up to 40, stored inline (no allocation per segment): a Fast Open cookie, an MD5 digest, or
/// the unknown options of a segment, whole (kind, length and data) and in wire order.
/// </summary>
public readonly struct TcpOptionBytes : IEquatable<TcpOptionBytes>
{
    public const int Capacity = TcpOptionLength.MaxSpace;

    [InlineArray(Capacity)]
    private struct Buffer { private byte _element0; }

    private readonly Buffer _bytes;
    private readonly byte _length;

    public TcpOptionBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > Capacity) throw new ArgumentException($"at most {Capacity} bytes", nameof(bytes));
        bytes.CopyTo(_bytes);
        _length = (byte)bytes.Length;
    }

    public int Length => _length;
    public bool IsEmpty => _length == 0;
    public byte this[int index] => (uint)index < _length ? _bytes[index] : throw new ArgumentOutOfRangeException(nameof(index));

    public void CopyTo(Span<byte> destination) => ((ReadOnlySpan<byte>)_bytes)[.._length].CopyTo(destination);
    public bool SequenceEqual(ReadOnlySpan<byte> other) => ((ReadOnlySpan<byte>)_bytes)[.._length].SequenceEqual(other);
    public byte[] ToArray() => ((ReadOnlySpan<byte>)_bytes)[.._length].ToArray();

    public bool Equals(TcpOptionBytes other) => other.SequenceEqual(((ReadOnlySpan<byte>)_bytes)[.._length]);
    public override bool Equals(object? obj) => obj is TcpOptionBytes other && Equals(other);
    public override int GetHashCode()
    {
        var h = new HashCode();
        h.AddBytes(((ReadOnlySpan<byte>)_bytes)[.._length]);
        return h.ToHashCode();
    }

    public static bool operator ==(TcpOptionBytes a, TcpOptionBytes b) => a.Equals(b);
    public static bool operator !=(TcpOptionBytes a, TcpOptionBytes b) => !a.Equals(b);

    /// <summary>Lower-case hex, as tcpdump prints cookies and digests.</summary>
    public override string ToString() => Convert.ToHexStringLower(((ReadOnlySpan<byte>)_bytes)[.._length]);
}

/// <summary>
/// A TCP Fast Open option (RFC 7413 §4.1.1; Linux struct tcp_fastopen_cookie). An empty cookie is a cookie request.
/// <see cref="Experimental"/> selects the pre-RFC encoding, kind 254 with magic 0xF989 (RFC 6994), which Linux
/// still parses and answers in kind.
/// </summary>
public readonly record struct TcpFastOpenCookie
{
    /// <summary>A cookie of 4 to 16 bytes, even (tcp_parse_fastopen_option()), or none to request one.</summary>
    public TcpFastOpenCookie(ReadOnlySpan<byte> cookie, bool experimental = false)
    {
        if (!IsValidLength(cookie.Length))
            throw new ArgumentException("a Fast Open cookie has 0 (request) or an even 4 to 16 bytes", nameof(cookie));
        Cookie = new(cookie);
        Experimental = experimental;
    }

    /// <summary>A cookie request (the option with no cookie: RFC 7413 §4.1.1).</summary>
    public static TcpFastOpenCookie Request(bool experimental = false) => new([], experimental);

    public TcpOptionBytes Cookie { get; }
    public bool Experimental { get; }
    public bool IsRequest => Cookie.IsEmpty;

    /// <summary>Kind, length (and magic) plus the cookie, before padding.</summary>
    public int OptionLength =>
        (Experimental ? TcpOptionLength.ExpFastOpenBase : TcpOptionLength.FastOpenBase) + Cookie.Length;

    internal static bool IsValidLength(int n) =>
        n == 0 || (n % 2 == 0 && n >= TcpOptionLength.FastOpenCookieMin && n <= TcpOptionLength.FastOpenCookieMax);

    public override string ToString() => (Experimental ? "exp-tfo" : "tfo ") + (IsRequest ? " cookiereq" : $" cookie {Cookie}");
}

/// <summary>
/// The options of a segment, as Linux's tcp_parse_options() reads them and tcp_options_write() writes them.
/// A value type with every field inline: parsing allocates nothing.
/// <para>
/// <see cref="Parse"/> is syntax only. What tcp_parse_options() decides from context is left to the caller (TCP
/// input): MSS, window scale and SACK-permitted count only on a SYN outside an established connection; timestamps
/// only if negotiated (or, on a SYN, if net.ipv4.tcp_timestamps allows); SACK blocks only if SACK was negotiated;
/// a Fast Open cookie only on a SYN; and the sysctls net.ipv4.tcp_window_scaling and tcp_sack.
/// </para>
/// </summary>
public readonly record struct TcpOptionSet
{
    private readonly TcpOptionBytes? _md5;

    /// <summary>RFC 9293 §3.7.1: the largest segment the sender can receive. Linux ignores an MSS of 0.</summary>
    public ushort? Mss { get; init; }

    /// <summary>RFC 7323 §2.2: the shift count. Parsing clamps it to 14, as Linux does.</summary>
    public byte? WindowScale { get; init; }

    /// <summary>RFC 2018 §2.</summary>
    public bool SackPermitted { get; init; }

    /// <summary>RFC 7323 §3.</summary>
    public TcpTimestamp? Timestamp { get; init; }

    /// <summary>RFC 2018 §3; empty when the segment carries no SACK option.</summary>
    public TcpSackBlocks SackBlocks { get; init; }

    /// <summary>RFC 7413 §4.1.1.</summary>
    public TcpFastOpenCookie? FastOpen { get; init; }

    /// <summary>RFC 2385: the 16-byte digest, kept opaque (computing it needs the key, which is the socket's).</summary>
    public TcpOptionBytes? Md5
    {
        get => _md5;
        init => _md5 = value is { Length: not TcpOptionLength.Md5Digest }
            ? throw new ArgumentException("an MD5 digest has 16 bytes", nameof(value)) : value;
    }

    /// <summary>
    /// The options NetLab does not model (AO, MPTCP, SMC's experimental option, ...), whole and in wire order.
    /// Linux sets saw_unknown for them and skips them; NetLab carries them so that a parsed segment can be
    /// re-emitted. Known kinds with a wrong length are dropped, as Linux ignores them.
    /// </summary>
    public TcpOptionBytes Unknown { get; init; }

    public bool IsEmpty => Length == 0;

    /// <summary>
    /// Reads an option area. Linux: tcp_parse_options(). EOL ends the list; NOP is skipped; a length below 2 or
    /// past the end stops parsing (Linux keeps what it read so far); a known kind with the wrong length is
    /// ignored; an unknown kind is skipped (and kept in <see cref="Unknown"/>). When an option repeats, the last
    /// one wins, except MD5, where the first one decides (tcp_parse_md5sig_option()).
    /// </summary>
    public static TcpOptionSet Parse(ReadOnlySpan<byte> options)
    {
        ushort? mss = null;
        byte? wscale = null;
        bool sackPerm = false, md5Seen = false;
        TcpTimestamp? ts = null;
        TcpSackBlocks sack = default;
        TcpFastOpenCookie? tfo = null;
        TcpOptionBytes? md5 = null;
        Span<byte> unknown = stackalloc byte[TcpOptionLength.MaxSpace];
        int unknownLength = 0;

        int i = 0;
        while (i < options.Length)
        {
            byte kind = options[i];
            if (kind == TcpOptionKind.Eol) break;
            if (kind == TcpOptionKind.Nop) { i++; continue; } // RFC 9293 §3.2: padding between options
            if (options.Length - i < 2) break;
            int size = options[i + 1];
            if (size < 2 || size > options.Length - i) break; // "silly options", and partial ones: stop
            var data = options.Slice(i + 2, size - 2);
            switch (kind)
            {
                case TcpOptionKind.Mss when size == TcpOptionLength.Mss:
                    ushort inMss = BinaryPrimitives.ReadUInt16BigEndian(data);
                    if (inMss != 0) mss = inMss; // Linux: "if (in_mss)"; user_mss clamping is the socket's
                    break;
                case TcpOptionKind.WindowScale when size == TcpOptionLength.WindowScale:
                    // Linux logs "Illegal window scaling value %d > 14 received" and uses 14 (RFC 7323 §2.3).
                    wscale = Math.Min(data[0], TcpOptionLength.MaxWindowScale);
                    break;
                case TcpOptionKind.SackPermitted when size == TcpOptionLength.SackPermitted:
                    sackPerm = true;
                    break;
                case TcpOptionKind.Timestamp when size == TcpOptionLength.Timestamp:
                    ts = new(BinaryPrimitives.ReadUInt32BigEndian(data), BinaryPrimitives.ReadUInt32BigEndian(data[4..]));
                    break;
                case TcpOptionKind.Sack when size >= TcpOptionLength.SackBase + TcpOptionLength.SackPerBlock
                                             && (size - TcpOptionLength.SackBase) % TcpOptionLength.SackPerBlock == 0:
                    sack = TcpSackBlocks.Read(data); // tcp_sacktag_write_queue() reads min(4, n) blocks
                    break;
                case TcpOptionKind.Md5Sig:
                    if (!md5Seen && size == TcpOptionLength.Md5Sig) md5 = new TcpOptionBytes(data);
                    md5Seen = true;
                    break;
                case TcpOptionKind.FastOpen:
                    ParseFastOpen(data, experimental: false, ref tfo);
                    break;
                case TcpOptionKind.Experimental when size >= TcpOptionLength.ExpFastOpenBase
                                                     && BinaryPrimitives.ReadUInt16BigEndian(data) == TcpOptionLength.FastOpenMagic:
                    ParseFastOpen(data[2..], experimental: true, ref tfo);
                    break;
                case TcpOptionKind.Mss or TcpOptionKind.WindowScale or TcpOptionKind.SackPermitted
                    or TcpOptionKind.Timestamp or TcpOptionKind.Sack:
                    break; // a known kind with the wrong length: ignored
                default:
                    // An area from a real header has at most 40 bytes; from a longer span, keep what fits.
                    if (unknownLength + size <= unknown.Length)
                    {
                        options.Slice(i, size).CopyTo(unknown[unknownLength..]);
                        unknownLength += size;
                    }
                    break;
            }
            i += size;
        }

        return new TcpOptionSet
        {
            Mss = mss, WindowScale = wscale, SackPermitted = sackPerm, Timestamp = ts, SackBlocks = sack,
            FastOpen = tfo, Md5 = md5, Unknown = new TcpOptionBytes(unknown[..unknownLength]),
        };
    }

    /// <summary>
    /// Linux: tcp_parse_fastopen_option(). An odd length leaves the earlier state alone; an even length outside
    /// 0 and 4..16 makes the cookie invalid (foc->len = -1), which Linux treats as no option at all.
    /// </summary>
    private static void ParseFastOpen(ReadOnlySpan<byte> cookie, bool experimental, ref TcpFastOpenCookie? tfo)
    {
        if (cookie.Length % 2 != 0) return;
        tfo = TcpFastOpenCookie.IsValidLength(cookie.Length) ? new TcpFastOpenCookie(cookie, experimental) : null;
    }

    /// <summary>The bytes <see cref="Write"/> produces: Linux's aligned layout, a multiple of 4.</summary>
    public int Length
    {
        get
        {
            int n = 0;
            if (Md5 is not null) n += 20;                 // TCPOLEN_MD5SIG_ALIGNED
            if (Mss is not null) n += 4;                  // TCPOLEN_MSS_ALIGNED
            if (Timestamp is not null) n += 12;           // TCPOLEN_TSTAMP_ALIGNED, SACK-permitted folded in
            else if (SackPermitted) n += 4;               // TCPOLEN_SACKPERM_ALIGNED
            if (WindowScale is not null) n += 4;          // TCPOLEN_WSCALE_ALIGNED
            if (!SackBlocks.IsEmpty) n += 4 + SackBlocks.Count * TcpOptionLength.SackPerBlock; // TCPOLEN_SACK_BASE_ALIGNED
            if (FastOpen is { } f) n += (f.OptionLength + 3) & ~3;
            n += (Unknown.Length + 3) & ~3;
            return n;
        }
    }

    /// <summary>
    /// Writes the options in Linux's order and padding (tcp_options_write()), every option 32-bit aligned:
    /// <code>
    /// NOP NOP MD5(18)                   MD5 first, so the digest is at a fixed place
    /// MSS(4)
    /// SACKPERM(2) TS(10)                both: SACK-permitted takes the two pad bytes of the timestamps
    /// NOP NOP TS(10)                    timestamps alone
    /// NOP NOP SACKPERM(2)               SACK-permitted alone
    /// NOP WS(3)
    /// NOP NOP SACK(2+8n)
    /// TFO(2+n) [NOP NOP]                or EXP(4+n) magic 0xF989; NOPs after it when its length is 2 mod 4
    /// unknown options [EOL...]          NetLab: where Linux writes SMC and MPTCP, padded with zeros (RFC 9293 §3.1)
    /// </code>
    /// Returns the bytes written (<see cref="Length"/>).
    /// </summary>
    /// <exception cref="InvalidOperationException">The options need more than 40 bytes; Linux never builds such a set
    /// (tcp_established_options() trims the SACK blocks to the room left).</exception>
    public int Write(Span<byte> b)
    {
        int length = Length;
        if (length > TcpOptionLength.MaxSpace)
            throw new InvalidOperationException($"TCP options need {length} bytes; at most {TcpOptionLength.MaxSpace} fit");
        int p = 0;
        if (Md5 is { } md5)
        {
            Word(b, ref p, TcpOptionKind.Nop, TcpOptionKind.Nop, TcpOptionKind.Md5Sig, TcpOptionLength.Md5Sig);
            md5.CopyTo(b[p..]);
            p += TcpOptionLength.Md5Digest;
        }
        if (Mss is { } mss)
            Word(b, ref p, TcpOptionKind.Mss, TcpOptionLength.Mss, (byte)(mss >> 8), (byte)mss);
        if (Timestamp is { } ts)
        {
            if (SackPermitted)
                Word(b, ref p, TcpOptionKind.SackPermitted, TcpOptionLength.SackPermitted, TcpOptionKind.Timestamp, TcpOptionLength.Timestamp);
            else
                Word(b, ref p, TcpOptionKind.Nop, TcpOptionKind.Nop, TcpOptionKind.Timestamp, TcpOptionLength.Timestamp);
            BinaryPrimitives.WriteUInt32BigEndian(b[p..], ts.TsVal);
            BinaryPrimitives.WriteUInt32BigEndian(b[(p + 4)..], ts.TsEcr);
            p += 8;
        }
        else if (SackPermitted)
        {
            Word(b, ref p, TcpOptionKind.Nop, TcpOptionKind.Nop, TcpOptionKind.SackPermitted, TcpOptionLength.SackPermitted);
        }
        if (WindowScale is { } ws)
            Word(b, ref p, TcpOptionKind.Nop, TcpOptionKind.WindowScale, TcpOptionLength.WindowScale, ws);
        if (!SackBlocks.IsEmpty)
        {
            Word(b, ref p, TcpOptionKind.Nop, TcpOptionKind.Nop, TcpOptionKind.Sack,
                (byte)(TcpOptionLength.SackBase + SackBlocks.Count * TcpOptionLength.SackPerBlock));
            for (int i = 0; i < SackBlocks.Count; i++)
            {
                BinaryPrimitives.WriteUInt32BigEndian(b[p..], SackBlocks[i].Start.Value);
                BinaryPrimitives.WriteUInt32BigEndian(b[(p + 4)..], SackBlocks[i].End.Value);
                p += 8;
            }
        }
        if (FastOpen is { } tfo)
        {
            int len = tfo.OptionLength;
            int at = p;
            b[p++] = tfo.Experimental ? TcpOptionKind.Experimental : TcpOptionKind.FastOpen;
            b[p++] = (byte)len;
            if (tfo.Experimental)
            {
                BinaryPrimitives.WriteUInt16BigEndian(b[p..], TcpOptionLength.FastOpenMagic);
                p += 2;
            }
            tfo.Cookie.CopyTo(b[p..]);
            p = at + len;
            if ((len & 3) == 2) { b[p++] = TcpOptionKind.Nop; b[p++] = TcpOptionKind.Nop; } // cookie lengths are even
        }
        if (!Unknown.IsEmpty)
        {
            Unknown.CopyTo(b[p..]);
            p += Unknown.Length;
            while ((p & 3) != 0) b[p++] = TcpOptionKind.Eol;
        }
        return p;
    }

    private static void Word(Span<byte> b, ref int p, byte b0, byte b1, byte b2, byte b3)
    {
        b[p] = b0; b[p + 1] = b1; b[p + 2] = b2; b[p + 3] = b3;
        p += 4;
    }

    /// <summary>The options as tcpdump prints Linux's layout of them (see <see cref="Write"/>).</summary>
    public override string ToString()
    {
        Span<byte> b = stackalloc byte[TcpOptionLength.MaxSpace];
        int n = Length <= TcpOptionLength.MaxSpace ? Write(b) : 0;
        var sb = new StringBuilder();
        TcpOptionPrinter.Append(sb, b[..n]);
        return sb.ToString();
    }
}

/// <summary>
/// Prints an option area the way tcpdump's tcp_print() does (print-tcp.c): names joined by commas, "nop" for each
/// pad byte, "[len n]" after an option whose length is not its kind's, "[bad opt]" where parsing fails.
/// Divergences: AO, MPTCP, UTO and the other kinds tcpdump decodes but NetLab does not model print as
/// tcpdump prints an unknown kind ("unknown-30 0x..."); MD5 prints as tcpdump built without libcrypto does
/// ("md5 " and the digest; with libcrypto and no -M secret it prints "md5 shared secret not supplied with -M,
/// can't check - " and the digest).
/// </summary>
internal static class TcpOptionPrinter
{
    public static void Append(StringBuilder sb, ReadOnlySpan<byte> options)
    {
        var inv = CultureInfo.InvariantCulture;
        int p = 0;
        bool first = true;
        while (p < options.Length)
        {
            if (!first) sb.Append(',');
            first = false;
            int remaining = options.Length - p; // from the kind byte on
            byte opt = options[p++];
            bool zeroLength = opt is TcpOptionKind.Eol or TcpOptionKind.Nop; // tcpdump's ZEROLENOPT()
            int len = 1;
            if (!zeroLength)
            {
                if (remaining < 2) { sb.Append("[bad opt]"); return; }
                len = options[p++];
                if (len < 2 || len > remaining) { sb.Append("[bad opt]"); return; }
            }
            int hlen = remaining - (zeroLength ? 1 : 2); // bytes after the kind and length
            var data = options.Slice(p, Math.Max(0, len - 2));
            int datalen = 0;
            bool bad = false;
            switch (opt)
            {
                case TcpOptionKind.Eol: sb.Append("eol"); break;
                case TcpOptionKind.Nop: sb.Append("nop"); break;
                case TcpOptionKind.SackPermitted: sb.Append("sackOK"); break;
                case TcpOptionKind.Mss:
                    sb.Append("mss");
                    datalen = 2;
                    if (bad = datalen > hlen) break;
                    sb.Append(' ').Append(BinaryPrimitives.ReadUInt16BigEndian(options[p..]).ToString(inv));
                    break;
                case TcpOptionKind.WindowScale:
                    sb.Append("wscale");
                    datalen = 1;
                    if (bad = datalen > hlen) break;
                    sb.Append(' ').Append(options[p].ToString(inv));
                    break;
                case TcpOptionKind.Timestamp:
                    sb.Append("TS");
                    datalen = 8;
                    if (bad = datalen > hlen) break;
                    sb.Append(" val ").Append(BinaryPrimitives.ReadUInt32BigEndian(options[p..]).ToString(inv))
                      .Append(" ecr ").Append(BinaryPrimitives.ReadUInt32BigEndian(options[(p + 4)..]).ToString(inv));
                    break;
                case TcpOptionKind.Sack:
                    sb.Append("sack");
                    datalen = len - 2;
                    if (datalen % 8 != 0) { sb.Append(" invalid sack"); break; }
                    if (bad = datalen > hlen) break;
                    sb.Append(' ').Append((datalen / 8).ToString(inv)).Append(' ');
                    for (int i = 0; i < datalen; i += 8)
                        sb.Append('{').Append(BinaryPrimitives.ReadUInt32BigEndian(data[i..]).ToString(inv)).Append(':')
                          .Append(BinaryPrimitives.ReadUInt32BigEndian(data[(i + 4)..]).ToString(inv)).Append('}');
                    break;
                case TcpOptionKind.Md5Sig:
                    sb.Append("md5");
                    datalen = TcpOptionLength.Md5Digest;
                    if (bad = datalen > hlen) break;
                    sb.Append(' ').Append(Convert.ToHexStringLower(options.Slice(p, datalen)));
                    break;
                case TcpOptionKind.FastOpen:
                    sb.Append("tfo");
                    datalen = len - 2;
                    if (bad = datalen > hlen) break;
                    sb.Append(' ');
                    AppendFastOpen(sb, data);
                    break;
                case TcpOptionKind.Experimental:
                    sb.Append("exp");
                    datalen = len - 2;
                    if (bad = datalen > hlen || datalen < 2) break;
                    ushort magic = BinaryPrimitives.ReadUInt16BigEndian(data);
                    sb.Append('-');
                    if (magic == TcpOptionLength.FastOpenMagic) { sb.Append("tfo"); AppendFastOpen(sb, data[2..]); }
                    else sb.Append(magic.ToString("x4", inv));
                    break;
                default:
                    sb.Append("unknown-").Append(opt.ToString(inv));
                    datalen = len - 2;
                    if (bad = datalen > hlen) break;
                    if (datalen > 0) sb.Append(" 0x").Append(Convert.ToHexStringLower(data));
                    break;
            }
            if (bad) { sb.Append("[bad opt]"); return; }
            p += datalen;
            int expected = datalen + (zeroLength ? 1 : 2);
            if (expected != len) sb.Append("[len ").Append(len.ToString(inv)).Append(']');
            if (opt == TcpOptionKind.Eol) break;
        }
    }

    /// <summary>tcpdump's print_tcp_fastopen_option().</summary>
    private static void AppendFastOpen(StringBuilder sb, ReadOnlySpan<byte> cookie)
    {
        if (cookie.Length == 0) sb.Append(" cookiereq");
        else if (cookie.Length % 2 != 0 || cookie.Length < 4 || cookie.Length > 16) sb.Append(" (invalid)");
        else sb.Append(" cookie ").Append(Convert.ToHexStringLower(cookie));
    }
}
