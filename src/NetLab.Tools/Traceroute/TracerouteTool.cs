using System.Globalization;
using NetLab.Core.Addressing;
using NetLab.Stack;
using NetLab.Stack.Icmp;
using NetLab.Stack.IPv4;
using NetLab.Stack.Sockets;
using NetLab.Stack.Tcp;
using NetLab.Stack.Udp;
using NetLab.Tools.Common;

namespace NetLab.Tools;

/// <summary>
/// traceroute 2.1 by Dmitry Butskoy (traceroute.c, mod-udp.c, mod-icmp.c, mod-tcp.c): up to -N probes
/// in flight, -q per hop, UDP to port 33434 + n from a socket per probe (default), ICMP echo (-I), or
/// TCP SYN to port 80 from a raw socket (-T), answers read from the sockets (and their error queues).
/// Options: -I, -T, -M, -O, -n, -q, -m, -f, -w MAX[,HERE,NEAR], -N, -p, -i, -F.
/// </summary>
public sealed class TracerouteTool : ITool
{
    public string Name => "traceroute";

    public Task<int> RunAsync(ToolContext ctx, IReadOnlyList<string> args) => new TracerouteRun(ctx).RunAsync(args);
}

internal sealed partial class TracerouteRun(ToolContext ctx)
{
    private const int MaxHops = 255, MaxProbesPerHop = 10, DefaultStartPort = 33434, DefaultDataLength = 40;
    private const int MaxModuleOptions = 15; // opts[16], the first reserved for the module's name
    private const long WaitPrecisionUs = 1000; // DEF_WAIT_PREC: +1 ms against precision issues

    /// <summary>struct probe.</summary>
    private sealed class Probe
    {
        public bool Done, Final, Sent;
        public long SendUs, RecvUs;
        public Ipv4Address? Res;
        public int RecvTtl;
        public string ErrStr = "";
        /// <summary>pb->ext: mod-tcp's "-O info" flags of the final reply, printed as " &lt;syn,ack&gt;".</summary>
        public string? Ext;
        public UdpSocket? Socket;
        /// <summary>mod-tcp: the TCP socket that holds the probe's source port (pb->sk).</summary>
        public TcpSocket? Holder;
        public int Seq;

        public void CopyFrom(Probe p)
        {
            (Done, Final, Sent, SendUs, RecvUs, Res, RecvTtl, ErrStr, Ext, Socket, Holder, Seq) =
                (p.Done, p.Final, p.Sent, p.SendUs, p.RecvUs, p.Res, p.RecvTtl, p.ErrStr, p.Ext, p.Socket, p.Holder, p.Seq);
        }
    }

    private readonly IToolOutput _out = ctx.Output;
    private readonly System.Text.StringBuilder _line = new(); // the hop being printed
    private readonly WaitQueue _readable = new(ctx.Host.Scheduler);

    private int _firstHop = 1, _maxHops = 30, _simProbes = 16, _probesPerHop = 3;
    private double _waitSecs = 5.0, _hereFactor = 3, _nearFactor = 10;
    private bool _noResolve, _dontFrag;
    private int _portSeq;
    private string? _device;
    private string _module = "default";
    private readonly List<string> _moduleOptions = [];
    private Ipv4Address _dst;
    private string _dstName = "";
    private int _headerLength, _dataLength;
    private Probe[] _probes = [];
    private byte[] _data = [];

    private bool Icmp => _module == "icmp";
    private bool Tcp => _module == "tcp";

    // mod-udp: the next destination port. mod-icmp: the raw socket, identifier, sequence, last TTL.
    private int _currentPort;
    private RawSocket? _icmpSocket;
    private RawDatagram? _peeked;
    private ushort _ident;
    private int _seq = 1;
    private int _lastTtl;
    private bool _icmpDgram;

    // get_time() is gettimeofday(): Unix time, never 0, which print_probe() reads as "no answer".
    // Virtual time starts at 0, so it is shifted by the same epoch as ping's clock.
    private long NowUs => ToolContext.WallMicroseconds(ctx.Now.Nanoseconds);

    public async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        int status = ParseOptions(args);
        if (status >= 0) return status;
        _headerLength = Ipv4Repr.HeaderLength + (_module == "default" ? UdpHeaderView.Length : 0);
        _dataLength = DefaultDataLength - (_module == "default" ? UdpHeaderView.Length : 0);
        _probes = Enumerable.Range(0, _maxHops * _probesPerHop).Select(_ => new Probe()).ToArray();
        try
        {
            // ops->init(): an error() here comes before the header.
            var err = Tcp ? TcpInit() : Icmp ? IcmpInit() : UdpInit();
            if (err is not null)
            {
                _out.WriteError("");
                _out.WriteError(err);
                return 1;
            }
            return await DoIt();
        }
        finally
        {
            _icmpSocket?.Dispose();
            _tcpSocket?.Dispose();
            foreach (var p in _probes)
            {
                p.Socket?.Dispose();
                p.Holder?.Dispose();
            }
        }
    }

    /// <summary>udp_init(): the payload, 0x40 + (i &amp; 0x3f); the first port.</summary>
    private string? UdpInit()
    {
        _data = new byte[_dataLength];
        for (int i = 0; i < _data.Length; i++) _data[i] = (byte)(0x40 + (i & 0x3f));
        _currentPort = _portSeq != 0 ? _portSeq : DefaultStartPort;
        return null;
    }

    /// <summary>icmp_init(): the raw socket (a ping socket with -O dgram), the echo data after its header.</summary>
    private string? IcmpInit()
    {
        // SOCK_DGRAM ICMP needs the group in net.ipv4.ping_group_range, which is "1 0" (nobody) by default.
        if (_icmpDgram) return "socket: Permission denied";
        _data = new byte[_dataLength];
        for (int i = IcmpHeaderView.Length; i < _data.Length; i++) _data[i] = (byte)(0x40 + (i & 0x3f));
        if (_portSeq != 0) _seq = _portSeq;
        _icmpSocket = RawSocket.Open(ctx.Host, IpProtocol.Icmp);
        if (TuneSocket(_icmpSocket) is { } err) return err;
        _ident = (ushort)(ctx.Pid & 0xffff); // getpid() & 0xffff
        return null;
    }

    // ------------------------------------------------------------------ options

    private int ParseOptions(IReadOnlyList<string> args)
    {
        // CLIF prints the whole help, on stderr, when there are no arguments at all, and exits 0.
        if (args.Count == 0)
        {
            foreach (var line in UsageText) _out.WriteError(line);
            return 0;
        }
        var operands = new List<string>();
        for (int i = 0; i < args.Count; i++)
        {
            var a = args[i];
            if (a.Length < 2 || a[0] != '-') { operands.Add(a); continue; }
            if (a == "--") // CLIF: the end of the options
            {
                operands.AddRange(args.Skip(i + 1));
                break;
            }
            switch (a)
            {
                case "--icmp": _module = "icmp"; continue;
                case "--tcp": _module = "tcp"; continue;
                case "--dont-fragment": _dontFrag = true; continue;
                case "-UL" or "--udp" or "--dccp":
                    _out.WriteError($"traceroute: the {a} method is not available in NetLab");
                    return 2;
            }
            if (a[1] == '-')
            {
                int status = LongOption(args, ref i);
                if (status >= 0) return status;
                continue;
            }
            // A group of short options ("-nT"); one with a value ends it, joined only to the first ("-q1").
            for (int j = 1; j < a.Length; j++)
            {
                char opt = a[j];
                switch (opt)
                {
                    case 'I': _module = "icmp"; continue;
                    case 'T': _module = "tcp"; continue;
                    case 'n': _noResolve = true; continue;
                    case 'F': _dontFrag = true; continue;
                    case '4': continue;
                    case 'U' or 'D' or 'P':
                        _out.WriteError($"traceroute: the -{opt} method is not available in NetLab");
                        return 2;
                }
                if ("fmNpqwizMO".IndexOf(opt) < 0)
                {
                    _out.WriteError($"Bad option `-{opt}' (argc {i + 1})");
                    return 2;
                }
                string value;
                if (j + 1 < a.Length)
                {
                    if (j != 1)
                    {
                        _out.WriteError($"Option `-{opt}' (argc {i + 1}) requires an argument: `-{opt} {OptionArgName(opt)}'");
                        return 2;
                    }
                    value = a[2..];
                }
                else if (i + 1 < args.Count) value = args[++i];
                else
                {
                    _out.WriteError($"Option `-{opt}' (argc {i + 1}) requires an argument: `-{opt} {OptionArgName(opt)}'");
                    return 2;
                }
                int result = SetOption(opt, value);
                if (result >= 0) return result;
                if (result == -2)
                {
                    _out.WriteError($"Cannot handle `-{opt}' option with arg `{value}' (argc {i + 1})");
                    return 2;
                }
                break;
            }
        }
        if (operands.Count == 0)
        {
            _out.WriteError("Specify \"host\" missing argument.");
            return 2;
        }
        if (!Ipv4Address.TryParse(operands[0], out _dst))
        {
            _out.WriteError($"{operands[0]}: Name or service not known");
            _out.WriteError($"Cannot handle \"host\" cmdline arg `{operands[0]}' on position 1 (argc {args.Count})");
            return 2;
        }
        _dstName = operands[0];
        // main(): tr_get_module(), then the common checks, then the module's own options (-O).
        switch (_module)
        {
            case "default" or "icmp" or "tcp": break;
            case "udp" or "udplite" or "dccp" or "raw" or "tcpconn":
                _out.WriteError($"traceroute: the {_module} method is not available in NetLab");
                return 2;
            default: return ExError($"Unknown traceroute module {_module}");
        }
        if (_firstHop == 0 || _firstHop > _maxHops) return ExError("first hop out of range");
        if (_maxHops > MaxHops) return ExError("max hops cannot be more than 255");
        if (_probesPerHop == 0 || _probesPerHop > MaxProbesPerHop) return ExError("no more than 10 probes per hop");
        if (_moduleOptions.Count > 0 && ModuleKeywords() is { } keywords && !ParseModuleOptions(keywords)) return 2;
        return -1;
    }

    /// <summary>
    /// A "--name" or "--name=value" option (CLIF: the value only after '='). Returns an exit status,
    /// or -1 to go on.
    /// </summary>
    private int LongOption(IReadOnlyList<string> args, ref int i)
    {
        var a = args[i];
        int eq = a.IndexOf('=');
        string name = eq < 0 ? a[2..] : a[2..eq];
        string? value = eq < 0 ? null : a[(eq + 1)..];
        char opt = name switch
        {
            "first" => 'f', "interface" => 'i', "max-hops" => 'm', "sim-queries" => 'N', "port" => 'p',
            "wait" => 'w', "queries" => 'q', "module" => 'M', "options" => 'O', _ => '\0',
        };
        if (opt == '\0')
        {
            _out.WriteError(value is null ? $"Bad option `{a}' (argc {i + 1})" : $"Bad option `{a}' (with arg `{value}') (argc {i + 1})");
            return 2;
        }
        if (value is null)
        {
            _out.WriteError($"Option `--{name}' (argc {i + 1}) requires an argument: `--{name}={OptionArgName(opt)}'");
            return 2;
        }
        int result = SetOption(opt, value);
        if (result == -2)
        {
            _out.WriteError($"Cannot handle `--{name}' option with arg `{value}' (argc {i + 1})");
            return 2;
        }
        return result;
    }

    /// <summary>An option's handler: -1 when taken, -2 when refused ("Cannot handle"), or an exit status.</summary>
    private int SetOption(char opt, string value) => opt switch
    {
        'f' => TryUInt(value, out _firstHop) ? -1 : -2,
        'm' => TryUInt(value, out _maxHops) ? -1 : -2,
        'N' => TryUInt(value, out _simProbes) ? -1 : -2,
        'p' => SetPort(value) ? -1 : -2,
        'q' => TryUInt(value, out _probesPerHop) ? -1 : -2,
        'w' => SetWaitSpecs(value) ? -1 : -2,
        'i' => (_device = value) is not null ? -1 : -2,
        'M' => (_module = value) is not null ? -1 : -2,
        'O' => SetModuleOption(value),
        _ => -2,
    };

    private static string OptionArgName(char opt) => opt switch
    {
        'f' => "first_ttl", 'm' => "max_ttl", 'N' => "squeries", 'p' => "port", 'q' => "nqueries",
        'w' => "MAX,HERE,NEAR", 'i' => "device", 'M' => "name", 'O' => "OPTS,...", _ => "sendwait",
    };

    private int ExError(string message)
    {
        _out.WriteError(message);
        return 2;
    }

    private static bool TryUInt(string s, out int value) =>
        int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out value);

    /// <summary>set_port(): strtoul(, 0) of the start of the word, else a service name (getservbyname()).</summary>
    private bool SetPort(string arg)
    {
        ulong v = CFormat.Strtoul(arg, out int used);
        if (used > 0)
        {
            _portSeq = (int)(uint)v;
            return true;
        }
        if ((Services.PortOf(arg, "tcp") ?? Services.PortOf(arg, "udp")) is not { } port) return false;
        _portSeq = port;
        return true;
    }

    /// <summary>set_wait_specs(): MAX[,HERE[,NEAR]]; giving -w at all zeroes the factors not given.</summary>
    private bool SetWaitSpecs(string arg)
    {
        _hereFactor = _nearFactor = 0;
        var parts = arg.Split(',');
        if (parts.Length > 3) return false;
        double[] v = new double[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!CFormat.TryParseDouble(parts[i], out v[i]) || v[i] < 0) return false;
        _waitSecs = v[0];
        if (v.Length > 1) _hereFactor = v[1];
        if (v.Length > 2) _nearFactor = v[2];
        return true;
    }

    /// <summary>
    /// set_mod_option() for each word of -O's value (CLIF_SEVERAL splits at blanks and commas): "help" prints
    /// the current module's options and exits 0; the others are kept (15 at most) for the module to parse.
    /// </summary>
    private int SetModuleOption(string value)
    {
        int at = 0;
        while (at < value.Length)
        {
            int end = at;
            while (end < value.Length && value[end] is not (' ' or '\t' or ',')) end++;
            if (end - at >= 80) return -2; // call_function()'s tmp[80]
            var word = value[at..end];
            if (word == "help")
            {
                foreach (var line in ModuleHelp(_module)) _out.WriteError(line);
                return 0;
            }
            if (_moduleOptions.Count >= MaxModuleOptions)
            {
                _out.WriteError("Too many module options");
                return -2;
            }
            _moduleOptions.Add(word);
            at = end;
            while (at < value.Length && value[at] is ' ' or '\t' or ',') at++;
        }
        return -1;
    }

    /// <summary>One of a module's CLIF keywords (its -O options): a name, the name of its value if it takes one.</summary>
    private sealed record Keyword(string Name, string? ArgName, Func<string?, bool> Set, bool Abbrev = false, bool Exclusive = false);

    /// <summary>The module's tcp_options[] / icmp_options[] (mod-tcp.c, mod-icmp.c); null when it has none.</summary>
    private Keyword[]? ModuleKeywords() => _module switch
    {
        "tcp" =>
        [
            TcpFlag("syn", (int)TcpFlags.Syn), TcpFlag("ack", (int)TcpFlags.Ack), TcpFlag("fin", (int)TcpFlags.Fin),
            TcpFlag("rst", (int)TcpFlags.Rst), TcpFlag("psh", (int)TcpFlags.Psh), TcpFlag("urg", (int)TcpFlags.Urg),
            TcpFlag("ece", (int)TcpFlags.Ece), TcpFlag("cwr", (int)TcpFlags.Cwr),
            new("flags", "NUM", SetTcpFlags, Abbrev: true),
            TcpFlag("ecn", FlEcn), TcpFlag("sack", FlSack),
            TcpFlag("timestamps", FlTstamp) with { Abbrev = true },
            TcpFlag("window_scaling", FlWscale) with { Abbrev = true },
            new("sysctl", null, _ => _tcpSysctl = true),
            new("reuse", null, _ => _tcpReuse = true),
            new("mss", "NUM", SetTcpMss),
            new("info", null, _ => _tcpInfo = true),
        ],
        "icmp" =>
        [
            new("raw", null, _ =>
            {
                _icmpDgram = false;
                return true;
            }, Exclusive: true),
            new("dgram", null, _ => _icmpDgram = true, Exclusive: true),
        ],
        _ => null, // mod-udp has none: its -O words are never looked at
    };

    /// <summary>
    /// CLIF_parse(opts, ops->options, CLIF_KEYWORD): each -O word is a keyword, "name" or "name=value";
    /// flags, timestamps and window_scaling may be shortened to two letters or more. Errors are CLIF's,
    /// with the word's place among the -O words as its argc.
    /// </summary>
    private bool ParseModuleOptions(Keyword[] keywords)
    {
        int exclusive = keywords.Any(k => k.Exclusive) ? 1 : 0;
        for (int n = 1; n <= _moduleOptions.Count; n++)
        {
            var word = _moduleOptions[n - 1];
            if (word.Length > 1 && word[0] == '-' && word[1] != '-')
            {
                _out.WriteError($"Bad option `-{word[1]}' (argc {n})"); // no keyword has a short form
                return false;
            }
            string? arg = null;
            var k = word.StartsWith('-') ? null : FindKeyword(keywords, word, out arg);
            if (k is null)
            {
                _out.WriteError($"`{word}' (argc {n}): arguments are not allowed");
                return false;
            }
            if (k.Exclusive && exclusive-- == 0)
            {
                _out.WriteError($"Keyword `{k.Name}' (argc {n}): Only one of:");
                _out.WriteError("    " + string.Join(" | ", keywords.Where(x => x.Exclusive).Select(x => x.Name)));
                _out.WriteError("may be specified.");
                return false;
            }
            if (k.ArgName is not null && arg is null)
            {
                _out.WriteError($"Keyword `{k.Name}' (argc {n}) requires an argument: `{k.Name}={k.ArgName}'");
                return false;
            }
            if (!k.Set(arg))
            {
                _out.WriteError(k.ArgName is null ? $"Cannot handle `{k.Name}' keyword (argc {n})"
                    : $"Cannot handle `{k.Name}' keyword with arg `{arg}' (argc {n})");
                return false;
            }
        }
        return true;
    }

    /// <summary>find_long(): an exact name, or the one abbreviable keyword that starts with at least two letters of the word.</summary>
    private static Keyword? FindKeyword(Keyword[] keywords, string word, out string? arg)
    {
        arg = null;
        Keyword? abbrev = null;
        string? abbrevArg = null;
        bool abbrevFound = false;
        foreach (var k in keywords)
        {
            int n = 0;
            while (n < k.Name.Length && n < word.Length && word[n] == k.Name[n]) n++;
            bool atEnd = n == word.Length;
            if (!atEnd && !(word[n] == '=' && k.ArgName is not null)) continue;
            string? value = atEnd ? null : word[(n + 1)..];
            if (n == k.Name.Length)
            {
                arg = value;
                return k;
            }
            if (k.Abbrev && n >= 2)
            {
                if (abbrevFound) abbrev = null; // more than one: none
                else (abbrevFound, abbrev, abbrevArg) = (true, k, value);
            }
        }
        arg = abbrevArg;
        return abbrev;
    }

    /// <summary>"-O help": CLIF_print_options() of the module, on stderr (for the modules NetLab lacks too).</summary>
    private static string[] ModuleHelp(string module) => module switch
    {
        "tcp" => TcpOptionsHelp,
        "icmp" =>
        [
            "  raw                         Use raw sockets way only. Default is try this way",
            "                              first (probably not allowed for unprivileged",
            "                              users), then try dgram",
            "  dgram                       Use dgram sockets way only. May be not",
            "                              implemented by old kernels or restricted by",
            "                              sysadmins",
            "Only one of these may be specified:",
            "    raw | dgram",
        ],
        "raw" => ["  protocol=PROT               Use protocol PROT (default is 253)"],
        "dccp" =>
        [
            "  service=NUM                 Set DCCP service code to NUM (default is",
            "                              1885957735)",
        ],
        "udplite" =>
        [
            "  coverage=NUM                Set udplite send coverage to NUM (default is",
            "                              (sizeof (struct udphdr)))",
        ],
        _ => [$"No options for module `{module}'"],
    };

    // ------------------------------------------------------------------ the main loop

    /// <summary>do_it(): keep up to -N probes in flight, print them in order as they complete or expire.</summary>
    private async Task<int> DoIt()
    {
        int start = (_firstHop - 1) * _probesPerHop;
        int end = _probes.Length;
        // print_header(): the line is flushed at once; its newline only comes with the first hop.
        _out.WriteLine($"traceroute to {_dstName} ({_dst}), {_maxHops} hops max, {_headerLength + _dataLength} byte packets");
        while (start < end)
        {
            if (ctx.CancellationToken.IsCancellationRequested)
            {
                FlushLine();
                return ToolRunner.InterruptedStatus;
            }
            int num = 0;
            long? next = null;
            long now = NowUs;
            for (int n = start; n < end; n++)
            {
                var pb = _probes[n];
                if (n == start && !pb.Done && pb.Sent)
                {
                    long expire = pb.SendUs + Timeout(n);
                    if (expire > now) next = expire;
                    else
                    {
                        ProbeDone(pb); // expire_probe()
                        CheckExpired(n);
                    }
                }
                if (pb.Done)
                {
                    if (n == start)
                    {
                        PrintProbe(n);
                        start++;
                    }
                    if (pb.Final) end = (n / _probesPerHop + 1) * _probesPerHop;
                    continue;
                }
                if (!pb.Sent)
                {
                    var err = SendProbe(pb, n / _probesPerHop + 1);
                    if (err is not null)
                    {
                        // error(): a newline and perror() on stderr, exit 1.
                        FlushLine();
                        _out.WriteError("");
                        _out.WriteError(err);
                        return 1;
                    }
                    if (!pb.Sent)
                    {
                        if (next is not null) break; // ENOBUFS/EAGAIN: chances later
                        FlushLine();
                        _out.WriteError("");
                        _out.WriteError("send probe: Resource temporarily unavailable");
                        return 1;
                    }
                }
                next ??= pb.SendUs + Timeout(n);
                if (++num >= _simProbes) break;
            }
            if (next is { } deadline) await Poll(Math.Max(0, (deadline - ToolContext.WallMicroseconds(0)) * 1000 - ctx.Now.Nanoseconds));
        }
        FlushLine(); // print_end()
        return 0;
    }

    /// <summary>do_poll(): wait for a socket to become readable, then let each readable one read a message.</summary>
    private async Task Poll(long timeoutNs)
    {
        if (_tcpSocket is { } tcp)
        {
            if (!AnyReadable()) await ctx.WaitAsync(tcp.WaitReadableAsync, timeoutNs, ctx.CancellationToken);
            if (AnyReadable()) TcpRecvProbe(tcp);
            return;
        }
        if (!AnyReadable())
        {
            if (_icmpSocket is { } raw)
                await ctx.WaitAsync(async t => _peeked = await raw.ReceiveAsync(t), timeoutNs, ctx.CancellationToken);
            else
                await ctx.WaitAsync(_readable.WaitAsync, timeoutNs, ctx.CancellationToken);
        }
        if (_icmpSocket is not null)
        {
            if (_peeked is not null || _icmpSocket.Queued > 0) IcmpRecvProbe();
            return;
        }
        foreach (var pb in _probes.Where(p => p.Socket is not null).ToList())
            UdpRecvProbe(pb);
    }

    private bool AnyReadable() => _tcpSocket is { } tcp
        ? tcp.Queued > 0 || tcp.ErrorQueueLength > 0 || tcp.PendingError != Errno.None
        : _icmpSocket is { } raw
        ? _peeked is not null || raw.Queued > 0
        : _probes.Any(p => p.Socket is { } s && (s.QueuedDatagrams > 0 || s.ErrorQueueLength > 0));

    /// <summary>get_timeout(): 3× a reply of the same hop, or 10× one of a later hop, capped at MAX.</summary>
    private long Timeout(int idx)
    {
        long wait = (long)Math.Round(_waitSecs * 1e6);
        if (_hereFactor != 0)
        {
            int hop = idx - idx % _probesPerHop;
            for (int i = 0; i < _probesPerHop; i++)
            {
                var p = _probes[hop + i];
                long value = p.RecvUs - p.SendUs;
                if (p.Done && p.RecvUs != 0 && value > 0) return Math.Min((long)((value + WaitPrecisionUs) * _hereFactor), wait);
            }
        }
        if (_nearFactor != 0)
        {
            for (int i = idx + 1; i < _probes.Length && _probes[i].Sent; i++)
            {
                var p = _probes[i];
                long value = p.RecvUs - p.SendUs;
                if (p.Done && p.RecvUs != 0 && value > 0) return Math.Min((long)((value + WaitPrecisionUs) * _nearFactor), wait);
            }
        }
        return wait;
    }

    // ------------------------------------------------------------------ sending

    /// <summary>udp_send_probe() / icmp_send_probe() / tcp_send_probe(); returns perror()'s text when traceroute would die.</summary>
    private string? SendProbe(Probe pb, int ttl)
    {
        if (Tcp) return TcpSendProbe(pb, ttl);
        if (Icmp)
        {
            var raw = _icmpSocket!;
            if (ttl != _lastTtl)
            {
                raw.Ttl = ttl;
                _lastTtl = ttl;
            }
            new IcmpRepr(IcmpType.EchoRequest, 0, ((uint)_ident << 16) | (ushort)_seq, _data.Length - IcmpHeaderView.Length).Emit(_data);
            pb.SendUs = NowUs;
            var err = raw.SendTo(_data, _dst);
            if (err is Errno.ENOBUFS or Errno.EAGAIN) return null;
            if (err is not (Errno.None or Errno.EMSGSIZE)) return $"send: {ErrnoText.Describe(err)}";
            pb.Sent = true;
            pb.Seq = _seq++;
            return null;
        }
        var sk = ctx.Host.Udp.Open();
        if (TuneSocket(sk) is { } tuneErr)
        {
            sk.Dispose();
            return tuneErr;
        }
        sk.Ttl = ttl;
        if (sk.Connect(_dst, (ushort)_currentPort) is var connectErr and not Errno.None)
        {
            sk.Dispose();
            return $"connect: {ErrnoText.Describe(connectErr)}";
        }
        sk.RecvErr = true;
        pb.SendUs = NowUs;
        var sendErr = sk.Send(_data);
        if (sendErr is Errno.ENOBUFS or Errno.EAGAIN)
        {
            sk.Dispose();
            return null;
        }
        if (sendErr is not (Errno.None or Errno.EMSGSIZE))
        {
            sk.Dispose();
            return $"send: {ErrnoText.Describe(sendErr)}";
        }
        pb.Sent = true;
        pb.Socket = sk;
        sk.Readable += _readable.WakeAll;
        pb.Seq = _currentPort++;
        return null;
    }

    /// <summary>
    /// tune_socket(): bind_socket() (the device, then bind to any address), and DF only with -F
    /// (IP_PMTUDISC_PROBE), else IP_PMTUDISC_DONT.
    /// </summary>
    private string? TuneSocket(UdpSocket sk)
    {
        if (BoundDevice() is not { } ifIndex) return "setsockopt SO_BINDTODEVICE: No such device";
        sk.BoundDevice = ifIndex;
        if (sk.Bind(Ipv4Address.Any, 0) is var err and not Errno.None) return $"bind: {ErrnoText.Describe(err)}";
        sk.PmtuDisc = _dontFrag ? PmtuDisc.Probe : PmtuDisc.Dont;
        return null;
    }

    private string? TuneSocket(RawSocket sk)
    {
        if (BoundDevice() is not { } ifIndex) return "setsockopt SO_BINDTODEVICE: No such device";
        sk.BoundDevice = ifIndex;
        sk.PmtuDisc = _dontFrag ? PmtuDisc.Probe : PmtuDisc.Dont;
        return null;
    }

    /// <summary>SO_BINDTODEVICE of -i: its ifindex, 0 without -i, null for a device that does not exist.</summary>
    private int? BoundDevice() =>
        _device is null ? 0 : ctx.Host.FindDevice(_device)?.IfIndex;

    // ------------------------------------------------------------------ receiving

    /// <summary>udp_recv_probe() + recv_reply(): one message, from the error queue when POLLERR.</summary>
    private void UdpRecvProbe(Probe pb)
    {
        var sk = pb.Socket!;
        if (sk.ErrorQueueLength > 0 || sk.PendingError != Errno.None)
        {
            if (!sk.TryReceiveError(out var e)) return;
            // udp_check_reply(): the error must be about the datagram to this probe's port.
            if (pb.Seq != e!.DestinationPort) return;
            pb.RecvUs = ToolContext.WallMicroseconds(e.TimestampNs);
            pb.RecvTtl = e.OffenderTtl < 0 ? 0 : e.OffenderTtl;
            if (e.Origin == ErrOrigin.Local) ParseLocalRes(pb, e.Errno, e.Info);
            else
            {
                pb.Res = e.Offender;
                ParseIcmpRes(pb, e.Type, e.Code, e.Info);
            }
            ProbeDone(pb);
            return;
        }
        if (sk.QueuedDatagrams == 0) return;
        Span<byte> buf = stackalloc byte[1280];
        if (sk.TryReceive(buf, out var r) != Errno.None || r.Port != pb.Seq) return;
        // A UDP answer from the target itself.
        pb.Res = r.Address;
        pb.RecvUs = NowUs;
        pb.RecvTtl = r.Ttl;
        pb.Final = true;
        ProbeDone(pb);
    }

    /// <summary>
    /// icmp_recv_probe() + recv_reply(): an echo reply from the target (the socket is connected to
    /// it), or an ICMP error quoting one of our echo requests (what the error queue would hold).
    /// </summary>
    private void IcmpRecvProbe()
    {
        var d = _peeked;
        _peeked = null;
        if (d is null && !_icmpSocket!.TryReceive(out d)) return;
        var buf = d!.Datagram.AsSpan();
        int hlen = (buf[0] & 0x0F) * 4;
        if (buf.Length < hlen + IcmpHeaderView.Length) return;
        var ip = Ipv4HeaderView.ForEmit(buf);
        var icmp = IcmpHeaderView.ForEmit(buf[hlen..]);
        if (icmp.Type == IcmpType.EchoReply)
        {
            if (ip.Source != _dst || icmp.Identifier != _ident) return;
            var pb = ProbeBySeq(icmp.Sequence);
            if (pb is null) return;
            pb.Res = ip.Source;
            pb.RecvUs = ToolContext.WallMicroseconds(d.TimestampNs);
            pb.RecvTtl = ip.Ttl;
            pb.Final = true;
            ProbeDone(pb);
            return;
        }
        if (icmp.Type is not (IcmpType.DestinationUnreachable or IcmpType.TimeExceeded or IcmpType.ParameterProblem)) return;
        var quoted = icmp.Payload;
        if (quoted.Length < 20 + IcmpHeaderView.Length || quoted.Length < (quoted[0] & 0x0F) * 4 + IcmpHeaderView.Length) return;
        var inner = Ipv4HeaderView.ForEmit(quoted);
        var innerIcmp = IcmpHeaderView.ForEmit(quoted[inner.HeaderLength..]);
        if (inner.Protocol != IpProtocol.Icmp || inner.Destination != _dst || innerIcmp.Type != IcmpType.EchoRequest
            || innerIcmp.Identifier != _ident) return;
        var probe = ProbeBySeq(innerIcmp.Sequence);
        if (probe is null) return;
        probe.RecvUs = ToolContext.WallMicroseconds(d.TimestampNs);
        probe.RecvTtl = ip.Ttl;
        probe.Res = ip.Source;
        uint info = icmp.Type == IcmpType.DestinationUnreachable && icmp.Code == IcmpCode.FragmentationNeeded ? icmp.NextHopMtu : 0u;
        ParseIcmpRes(probe, icmp.Type, icmp.Code, info);
        ProbeDone(probe);
    }

    private Probe? ProbeBySeq(int seq) => seq <= 0 ? null : _probes.FirstOrDefault(p => p.Seq == seq);

    /// <summary>parse_icmp_res(): time exceeded in transit is a hop; anything else ends the trace, with its annotation.</summary>
    private static void ParseIcmpRes(Probe pb, byte type, byte code, uint info)
    {
        string? str = null;
        if (type == IcmpType.TimeExceeded)
        {
            if (code == IcmpCode.TtlExceeded) return;
        }
        else if (type == IcmpType.DestinationUnreachable)
        {
            str = code switch
            {
                0 or 6 or 8 or 11 => "!N",
                1 or 7 or 12 => "!H",
                9 or 10 or 13 => "!X",
                3 => "", // the destination is reached
                2 => "!P",
                4 => $"!F-{info}",
                5 => "!S",
                14 => "!V",
                15 => "!C",
                _ => $"!<{code}>",
            };
        }
        pb.ErrStr = str ?? $"!<{type}-{code}>";
        pb.Final = true;
    }

    /// <summary>parse_local_res(): only EMSGSIZE with an MTU is expected (with -F).</summary>
    private void ParseLocalRes(Probe pb, Errno errno, uint info)
    {
        if (errno == Errno.EMSGSIZE && info != 0)
        {
            pb.ErrStr = $"!F-{info}";
            pb.Final = true;
            return;
        }
        _out.WriteError($"local recverr: {ErrnoText.Describe(errno)}");
    }

    /// <summary>probe_done(): close the probe's socket (mod-tcp: the one holding its port), forget its sequence number.</summary>
    private void ProbeDone(Probe pb)
    {
        if (pb.Socket is { } sk)
        {
            sk.Readable -= _readable.WakeAll;
            sk.Dispose();
            pb.Socket = null;
        }
        pb.Holder?.Dispose();
        pb.Holder = null;
        pb.Seq = 0;
        pb.Done = true;
    }

    /// <summary>
    /// check_expired(): with many probes in flight a final hop may answer only the later ones
    /// ("* * !H"); move a final answer back into an expired probe's place when it belongs there.
    /// </summary>
    private void CheckExpired(int idx)
    {
        var pb = _probes[idx];
        if (!pb.Done) return;
        int q = _probesPerHop;
        int previousFinal = -1, fp = -1;
        for (int p = idx - idx % q; p < idx; p++)
        {
            if (!_probes[p].Done || !_probes[p].Final) return;
            previousFinal = p;
        }
        for (int p = idx + 1; p < _probes.Length && _probes[p].Sent; p++)
        {
            if (!_probes[p].Done) continue;
            if (!_probes[p].Final) return;
            fp = p;
            break;
        }
        if (fp < 0) return;
        var final = _probes[fp];
        if (final.ErrStr.Length == 0) return; // not an ICMP unreachable report
        if (previousFinal >= 0 || idx % q + (fp - idx) < q)
        {
            ReplaceByFinal(idx, fp);
            return;
        }
        for (int p = idx - 1; p >= 0; p--)
        {
            if (_probes[p].Res is { } r && r == final.Res)
            {
                ReplaceByFinal(idx, fp);
                return;
            }
        }
        if (final.RecvTtl != 0)
        {
            int backHops = TtlToHops(final.RecvTtl);
            for (int p = idx - 1; p >= 0; p--)
            {
                var prev = _probes[p];
                if (prev.Done && !prev.Final && prev.RecvTtl != 0)
                {
                    int hops = TtlToHops(prev.RecvTtl);
                    if (hops < backHops)
                    {
                        backHops = backHops - hops + p / q + 1;
                        break;
                    }
                }
            }
            if (backHops <= idx / q + 1) ReplaceByFinal(idx, fp);
        }
    }

    private void ReplaceByFinal(int idx, int fp)
    {
        _probes[idx].CopyFrom(_probes[fp]);
        // The emptied slot counts as sent long ago, so it expires (as "*") instead of being resent.
        _probes[fp] = new Probe { Sent = true, SendUs = 1 };
    }

    /// <summary>ttl2hops(): hops back from a TTL that started at 64, 128 or 255.</summary>
    private static int TtlToHops(int ttl) => (ttl <= 64 ? 65 : ttl <= 128 ? 129 : 256) - ttl;

    // ------------------------------------------------------------------ printing

    /// <summary>
    /// print_probe(): a hop starts a line; an address (with mod-tcp's "-O info" flags) is printed when
    /// it or the flags differ from the previous answer. traceroute flushes stdout after each probe, so
    /// a hop's line is complete on the terminal with its last probe (the newline itself only comes with
    /// the next hop).
    /// </summary>
    private void PrintProbe(int idx)
    {
        var pb = _probes[idx];
        int ttl = idx / _probesPerHop + 1;
        int np = idx % _probesPerHop;
        if (np == 0) _line.Append($"{ttl,2} ");
        if (pb.Res is not { } res) _line.Append(" *");
        else
        {
            bool print = np == 0;
            if (np != 0)
            {
                int p = idx - 1;
                for (; np != 0 && _probes[p].Res is null; p--, np--) { }
                if (np == 0 || _probes[p].Res != res || _probes[p].Ext != pb.Ext) print = true;
            }
            if (print)
            {
                _line.Append(_noResolve ? $" {res}" : $" {res} ({res})");
                if (pb.Ext is not null) _line.Append($" <{pb.Ext}>");
            }
        }
        if (pb.RecvUs != 0)
        {
            long us = pb.RecvUs - pb.SendUs;
            _line.Append($"  {us / 1000}.{us % 1000:000} ms");
        }
        if (pb.ErrStr.Length > 0) _line.Append($" {pb.ErrStr}");
        if (idx % _probesPerHop == _probesPerHop - 1) FlushLine();
    }

    private void FlushLine()
    {
        if (_line.Length == 0) return;
        _out.WriteLine(_line.ToString());
        _line.Clear();
    }

    /// <summary>traceroute 2.1.2's help text, word for word (it lists methods and options NetLab does not have).</summary>
    private static readonly string[] UsageText =
    [
        "Usage:",
        "  traceroute [ -46dFITnreAUDV ] [ -f first_ttl ] [ -g gate,... ] [ -i device ] [ -m max_ttl ] [ -N squeries ] [ -p port ] [ -t tos ] [ -l flow_label ] [ -w MAX,HERE,NEAR ] [ -q nqueries ] [ -s src_addr ] [ -z sendwait ] [ --fwmark=num ] host [ packetlen ]",
        "Options:",
        "  -4                          Use IPv4",
        "  -6                          Use IPv6",
        "  -d  --debug                 Enable socket level debugging",
        "  -F  --dont-fragment         Do not fragment packets",
        "  -f first_ttl  --first=first_ttl",
        "                              Start from the first_ttl hop (instead from 1)",
        "  -g gate,...  --gateway=gate,...",
        "                              Route packets through the specified gateway",
        "                              (maximum 8 for IPv4 and 127 for IPv6)",
        "  -I  --icmp                  Use ICMP ECHO for tracerouting",
        "  -T  --tcp                   Use TCP SYN for tracerouting (default port is 80)",
        "  -i device  --interface=device",
        "                              Specify a network interface to operate with",
        "  -m max_ttl  --max-hops=max_ttl",
        "                              Set the max number of hops (max TTL to be",
        "                              reached). Default is 30",
        "  -N squeries  --sim-queries=squeries",
        "                              Set the number of probes to be tried",
        "                              simultaneously (default is 16)",
        "  -n                          Do not resolve IP addresses to their domain names",
        "  -p port  --port=port        Set the destination port to use. It is either",
        "                              initial udp port value for \"default\" method",
        "                              (incremented by each probe, default is 33434), or",
        "                              initial seq for \"icmp\" (incremented as well,",
        "                              default from 1), or some constant destination",
        "                              port for other methods (with default of 80 for",
        "                              \"tcp\", 53 for \"udp\", etc.)",
        "  -t tos  --tos=tos           Set the TOS (IPv4 type of service) or TC (IPv6",
        "                              traffic class) value for outgoing packets",
        "  -l flow_label  --flowlabel=flow_label",
        "                              Use specified flow_label for IPv6 packets",
        "  -w MAX,HERE,NEAR  --wait=MAX,HERE,NEAR",
        "                              Wait for a probe no more than HERE (default 3)",
        "                              times longer than a response from the same hop,",
        "                              or no more than NEAR (default 10) times than some",
        "                              next hop, or MAX (default 5.0) seconds (float",
        "                              point values allowed too)",
        "  -q nqueries  --queries=nqueries",
        "                              Set the number of probes per each hop. Default is",
        "                              3",
        "  -r                          Bypass the normal routing and send directly to a",
        "                              host on an attached network",
        "  -s src_addr  --source=src_addr",
        "                              Use source src_addr for outgoing packets",
        "  -z sendwait  --sendwait=sendwait",
        "                              Minimal time interval between probes (default 0).",
        "                              If the value is more than 10, then it specifies a",
        "                              number in milliseconds, else it is a number of",
        "                              seconds (float point values allowed too)",
        "  -e  --extensions            Show ICMP extensions (if present), including MPLS",
        "  -A  --as-path-lookups       Perform AS path lookups in routing registries and",
        "                              print results directly after the corresponding",
        "                              addresses",
        "  -M name  --module=name      Use specified module (either builtin or external)",
        "                              for traceroute operations. Most methods have",
        "                              their shortcuts (`-I' means `-M icmp' etc.)",
        "  -O OPTS,...  --options=OPTS,...",
        "                              Use module-specific option OPTS for the",
        "                              traceroute module. Several OPTS allowed,",
        "                              separated by comma. If OPTS is \"help\", print info",
        "                              about available options",
        "  --sport=num                 Use source port num for outgoing packets. Implies",
        "                              `-N 1'",
        "  --fwmark=num                Set firewall mark for outgoing packets",
        "  -U  --udp                   Use UDP to particular port for tracerouting",
        "                              (instead of increasing the port per each probe),",
        "                              default port is 53",
        "  -UL                         Use UDPLITE for tracerouting (default dest port",
        "                              is 53)",
        "  -D  --dccp                  Use DCCP Request for tracerouting (default port",
        "                              is 33434)",
        "  -P prot  --protocol=prot    Use raw packet of protocol prot for tracerouting",
        "  --mtu                       Discover MTU along the path being traced. Implies",
        "                              `-F -N 1'",
        "  --back                      Guess the number of hops in the backward path and",
        "                              print if it differs",
        "  -V  --version               Print version info and exit",
        "  --help                      Read this help and exit",
        "",
        "Arguments:",
        "+     host          The host to traceroute to",
        "      packetlen     The full packet length (default is the length of an IP",
        "                    header plus 40). Can be ignored or increased to a minimal",
        "                    allowed value",
    ];
}
