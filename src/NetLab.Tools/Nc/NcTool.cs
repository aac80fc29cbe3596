using System.Globalization;
using System.Text;
using NetLab.Core.Addressing;
using NetLab.Stack;
using NetLab.Stack.Tcp;
using NetLab.Stack.Udp;
using NetLab.Tools.Common;

namespace NetLab.Tools.Nc;

/// <summary>
/// nc from Debian's netcat-openbsd 1.219: connect (<c>nc HOST PORT</c>), listen (<c>nc -l [-p] PORT</c>,
/// <c>-k</c> to accept again), <c>-u</c> UDP, <c>-z</c> scan (ports and ranges), <c>-w SECS</c> connect and
/// idle timeout, <c>-q SECS</c> quit after stdin's EOF, <c>-v</c>, <c>-n</c>, <c>-N</c> shutdown(SHUT_WR) at
/// stdin's EOF, <c>-d</c> no stdin, <c>-s ADDR</c>. Stdin is <see cref="ToolContext.Stdin"/>; what arrives
/// is printed line by line (a last partial line when the connection ends). Messages go to stderr.
/// Names never resolve (no DNS), so -n only changes the "[tcp/NAME]" of a success message.
/// </summary>
public sealed class NcTool : ITool
{
    public string Name => "nc";

    private sealed class Options
    {
        public bool Listen, Keep, Udp, Scan, Verbose, Numeric, ShutdownOnEof, NoStdin;
        public long TimeoutNs = -1;   // -w
        public long QuitNs = -1;      // -q (negative: wait forever)
        public int SourcePort;
        public Ipv4Address SourceAddress;
    }

    public async Task<int> RunAsync(ToolContext ctx, IReadOnlyList<string> args)
    {
        var o = new Options();
        var err = ctx.Output;
        var g = new Getopt("nc", args, "46CDdFhklNnrStUuvZzI:i:M:m:O:P:p:q:s:T:V:W:w:X:x:");
        while (g.Next(out var opt, out var arg))
        {
            switch (opt)
            {
                case 'l': o.Listen = true; break;
                case 'k': o.Keep = true; break;
                case 'u': o.Udp = true; break;
                case 'z': o.Scan = true; break;
                case 'v': o.Verbose = true; break;
                case 'n': o.Numeric = true; break;
                case 'N': o.ShutdownOnEof = true; break;
                case 'd': o.NoStdin = true; break;
                case '4' or 'D' or 'r' or 'S' or 'C' or 'F' or 't': break;
                case 'w':
                    if (!int.TryParse(arg, NumberStyles.None, CultureInfo.InvariantCulture, out int w) || w < 0)
                        return Fail(err, $"nc: timeout {(arg!.Length > 0 && char.IsDigit(arg[0]) ? "too large" : "invalid")}: {arg}");
                    o.TimeoutNs = w * 1_000_000_000L;
                    break;
                case 'q':
                    if (!int.TryParse(arg, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int q))
                        return Fail(err, $"nc: quit timer invalid: {arg}");
                    o.QuitNs = q < 0 ? -1 : q * 1_000_000_000L;
                    break;
                case 'p':
                    if (!ushort.TryParse(arg, NumberStyles.None, CultureInfo.InvariantCulture, out var sp) || sp == 0)
                        return Fail(err, $"nc: port number invalid: {arg}");
                    o.SourcePort = sp;
                    break;
                case 's':
                    if (!Ipv4Address.TryParse(arg!, out var sa))
                        return Fail(err, $"nc: getaddrinfo: Name or service not known");
                    o.SourceAddress = sa;
                    break;
                case 'h':
                    Usage(err, full: false);
                    return 1;
                case '?':
                    err.WriteError(g.Error!);
                    Usage(err, full: false);
                    return 1;
                default:
                    return Fail(err, $"nc: -{opt} is not supported by NetLab's nc");
            }
        }
        var operands = g.Operands;
        if (o.Listen)
        {
            // nc -l [-p] PORT, nc -l ADDR PORT, nc -l -p PORT
            string? addr = null, port = null;
            if (operands.Count == 0 && o.SourcePort != 0) port = o.SourcePort.ToString(CultureInfo.InvariantCulture);
            else if (operands.Count == 1) port = operands[0];
            else if (operands.Count == 2) (addr, port) = (operands[0], operands[1]);
            if (port is null)
            {
                Usage(err, full: false);
                return 1;
            }
            if (!TryPort(port, o.Udp, out int lport)) return Fail(err, $"nc: port number invalid: {port}");
            var laddr = Ipv4Address.Any;
            if (addr is not null && !Ipv4Address.TryParse(addr, out laddr))
                return Fail(err, $"nc: getaddrinfo for host \"{addr}\" port {port}: Name or service not known");
            return o.Udp ? await ListenUdp(ctx, o, laddr, lport) : await ListenTcp(ctx, o, laddr, lport);
        }
        if (operands.Count != 2)
        {
            Usage(err, full: false);
            return 1;
        }
        if (!Ipv4Address.TryParse(operands[0], out var dst))
            return Fail(err, $"nc: getaddrinfo for host \"{operands[0]}\" port {operands[1]}: Name or service not known");
        if (!TryPorts(operands[1], o.Udp, out var ports)) return Fail(err, $"nc: port number invalid: {operands[1]}");
        int ret = 1;
        foreach (int port in ports)
        {
            int r = o.Udp ? await ConnectUdp(ctx, o, dst, port) : await ConnectTcp(ctx, o, dst, port);
            if (r == ToolRunner.InterruptedStatus) return r;
            if (r == 0) ret = 0;
        }
        return ret;
    }

    private static int Fail(IToolOutput err, string message)
    {
        err.WriteError(message);
        return 1;
    }

    private static bool TryPort(string s, bool udp, out int port)
    {
        if (int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out port)) return port is > 0 and <= 65535;
        port = Services.PortOf(s, udp ? "udp" : "tcp") ?? 0;
        return port != 0;
    }

    /// <summary>build_ports(): one port, a service name, or a range LO-HI (either order).</summary>
    private static bool TryPorts(string s, bool udp, out List<int> ports)
    {
        ports = [];
        int dash = s.IndexOf('-');
        if (dash > 0)
        {
            if (!int.TryParse(s[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out int lo)
                || !int.TryParse(s[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int hi)
                || lo is < 1 or > 65535 || hi is < 1 or > 65535) return false;
            if (lo > hi) (lo, hi) = (hi, lo);
            for (int p = lo; p <= hi; p++) ports.Add(p);
            return true;
        }
        if (!TryPort(s, udp, out int port)) return false;
        ports.Add(port);
        return true;
    }

    private static string Service(int port, bool udp, bool numeric) =>
        numeric ? "*" : Services.NameOf(port, udp ? "udp" : "tcp") ?? "*";

    // ------------------------------------------------------------------ TCP

    private static async Task<int> ConnectTcp(ToolContext ctx, Options o, Ipv4Address dst, int port)
    {
        var s = ctx.Host.Tcp.Open();
        try
        {
            if (o.SourcePort != 0 || !o.SourceAddress.IsUnspecified)
            {
                var b = s.Bind(o.SourceAddress, (ushort)o.SourcePort);
                if (b != Errno.None)
                {
                    ctx.Output.WriteError($"nc: bind failed: {b.Describe()}");
                    return 1;
                }
            }
            SocketOwners.AddTcp(ctx, "nc", s);
            Errno failure = Errno.None;
            bool connected = await ctx.WaitAsync(async t =>
            {
                try { await s.ConnectAsync(dst, (ushort)port, t); }
                catch (NetLabSocketException e) { failure = e.Errno; }
            }, o.TimeoutNs, ctx.CancellationToken);
            if (ctx.CancellationToken.IsCancellationRequested) return ToolRunner.InterruptedStatus;
            if (!connected || failure != Errno.None)
            {
                if (o.Verbose)
                    ctx.Output.WriteError(connected
                        ? $"nc: connect to {dst} port {port} (tcp) failed: {failure.Describe()}"
                        : $"nc: connect to {dst} port {port} (tcp) timed out: Operation now in progress");
                return 1;
            }
            if (o.Verbose) ctx.Output.WriteError($"Connection to {dst} {port} port [tcp/{Service(port, false, o.Numeric)}] succeeded!");
            if (o.Scan) return 0;
            return await ReadWriteTcp(ctx, o, s);
        }
        finally
        {
            SocketOwners.RemoveTcp(ctx.Host, s);
            s.Close();
        }
    }

    private static async Task<int> ListenTcp(ToolContext ctx, Options o, Ipv4Address addr, int port)
    {
        var l = ctx.Host.Tcp.Open();
        l.ReuseAddress = true; // netcat sets SO_REUSEADDR (and SO_REUSEPORT) on listeners
        try
        {
            var e = l.Bind(addr, (ushort)port);
            if (e == Errno.None) e = l.Listen(1);
            if (e != Errno.None)
            {
                ctx.Output.WriteError($"nc: {(e == Errno.EADDRINUSE ? "Address already in use" : e.Describe())}");
                return 1;
            }
            SocketOwners.AddTcp(ctx, "nc", l);
            if (o.Verbose) ctx.Output.WriteError($"Listening on {addr} {port}");
            while (true)
            {
                TcpSocket c;
                try { c = await l.AcceptAsync(ctx.CancellationToken); }
                catch (OperationCanceledException) { return ToolRunner.InterruptedStatus; }
                if (o.Verbose) ctx.Output.WriteError($"Connection received on {c.RemoteAddress} {c.RemotePort}");
                SocketOwners.AddTcp(ctx, "nc", c);
                int r;
                try { r = await ReadWriteTcp(ctx, o, c); }
                finally
                {
                    SocketOwners.RemoveTcp(ctx.Host, c);
                    c.Close();
                }
                if (r == ToolRunner.InterruptedStatus || !o.Keep) return r;
            }
        }
        finally
        {
            SocketOwners.RemoveTcp(ctx.Host, l);
            l.Close();
        }
    }

    /// <summary>
    /// readwrite(): stdin to the network, the network to stdout. At stdin's EOF the network output is
    /// done (shutdown(SHUT_WR) only with -N); at the network's EOF stdout is. The loop ends when both
    /// inputs or both outputs are gone, after -w seconds of silence, or -q seconds after stdin's EOF.
    /// </summary>
    private static async Task<int> ReadWriteTcp(ToolContext ctx, Options o, TcpSocket s)
    {
        var printer = new LinePrinter(ctx.Output);
        try
        {
            if (!o.NoStdin && !ctx.Stdin.IsEmpty)
            {
                try { await s.SendAsync(ctx.Stdin, ctx.CancellationToken); }
                catch (NetLabSocketException) { return 1; }
            }
            if (o.ShutdownOnEof) s.Shutdown(ShutdownHow.Write);
            long quitAt = o.QuitNs >= 0 ? ctx.Now.Nanoseconds + o.QuitNs : long.MaxValue;
            var buf = new byte[16384];
            while (true)
            {
                var e = s.TryReceive(buf, out int n);
                if (e == Errno.None && n > 0) { printer.Write(buf.AsSpan(0, n)); continue; }
                if (e == Errno.None || (e != Errno.EAGAIN)) return 0; // EOF (or an error): netin is gone
                if (ctx.Now.Nanoseconds >= quitAt) return 0;
                long wait = o.TimeoutNs;
                if (quitAt != long.MaxValue) wait = wait < 0 ? quitAt - ctx.Now.Nanoseconds : Math.Min(wait, quitAt - ctx.Now.Nanoseconds);
                bool woke = await ctx.WaitAsync(t => s.WaitAsync(t), wait, ctx.CancellationToken);
                if (ctx.CancellationToken.IsCancellationRequested) return ToolRunner.InterruptedStatus;
                if (!woke && o.TimeoutNs >= 0 && ctx.Now.Nanoseconds < quitAt) return 0; // -w idle timeout
            }
        }
        finally
        {
            printer.Flush();
        }
    }

    // ------------------------------------------------------------------ UDP

    private static async Task<int> ConnectUdp(ToolContext ctx, Options o, Ipv4Address dst, int port)
    {
        using var s = ctx.Host.Udp.Open();
        if (o.SourcePort != 0 || !o.SourceAddress.IsUnspecified) s.Bind(o.SourceAddress, (ushort)o.SourcePort);
        var e = s.Connect(dst, (ushort)port);
        if (e != Errno.None)
        {
            if (o.Verbose) ctx.Output.WriteError($"nc: connect to {dst} port {port} (udp) failed: {e.Describe()}");
            return 1;
        }
        SocketOwners.AddUdp(ctx, "nc", s.LocalPort);
        try
        {
            if (o.Scan || o.Verbose)
            {
                // udptest(): four "X" writes; an ICMP error that has arrived makes a later one fail.
                if (o.Scan)
                    for (int i = 0; i <= 3; i++)
                        if (s.Send("X"u8) != Errno.None) return 1;
                if (o.Verbose) ctx.Output.WriteError($"Connection to {dst} {port} port [udp/{Service(port, true, o.Numeric)}] succeeded!");
                if (o.Scan) return 0;
            }
            return await ReadWriteUdp(ctx, o, s);
        }
        finally
        {
            SocketOwners.RemoveUdp(ctx.Host, s.LocalPort);
        }
    }

    private static async Task<int> ListenUdp(ToolContext ctx, Options o, Ipv4Address addr, int port)
    {
        using var s = ctx.Host.Udp.Open();
        s.ReuseAddress = true;
        var e = s.Bind(addr, (ushort)port);
        if (e != Errno.None)
        {
            ctx.Output.WriteError($"nc: {(e == Errno.EADDRINUSE ? "Address already in use" : e.Describe())}");
            return 1;
        }
        SocketOwners.AddUdp(ctx, "nc", port);
        try
        {
            if (o.Verbose) ctx.Output.WriteError($"Bound on {addr} {port}");
            var buf = new byte[65536];
            // The first datagram decides the peer: nc connects the socket to it, then runs readwrite().
            UdpReceiveResult first;
            try { first = await s.ReceiveAsync(buf, ctx.CancellationToken); }
            catch (OperationCanceledException) { return ToolRunner.InterruptedStatus; }
            if (o.Verbose) ctx.Output.WriteError($"Connection received on {first.Address} {first.Port}");
            s.Connect(first.Address, first.Port);
            var printer = new LinePrinter(ctx.Output);
            printer.Write(buf.AsSpan(0, first.Length));
            return await ReadWriteUdp(ctx, o, s, printer);
        }
        finally
        {
            SocketOwners.RemoveUdp(ctx.Host, port);
        }
    }

    private static async Task<int> ReadWriteUdp(ToolContext ctx, Options o, UdpSocket s, LinePrinter? printer = null)
    {
        printer ??= new LinePrinter(ctx.Output);
        try
        {
            if (!o.NoStdin && !ctx.Stdin.IsEmpty) s.Send(ctx.Stdin.Span);
            long quitAt = o.QuitNs >= 0 ? ctx.Now.Nanoseconds + o.QuitNs : long.MaxValue;
            var buf = new byte[65536];
            while (true)
            {
                var e = s.TryReceive(buf, out var r);
                if (e == Errno.None) { printer.Write(buf.AsSpan(0, r.Length)); continue; }
                if (e != Errno.EAGAIN) continue; // an ICMP error: reported once, then reading goes on
                if (ctx.Now.Nanoseconds >= quitAt) return 0;
                long wait = o.TimeoutNs;
                if (quitAt != long.MaxValue) wait = wait < 0 ? quitAt - ctx.Now.Nanoseconds : Math.Min(wait, quitAt - ctx.Now.Nanoseconds);
                bool woke = await ctx.WaitAsync(t => s.WaitReadableAsync(t), wait, ctx.CancellationToken);
                if (ctx.CancellationToken.IsCancellationRequested) return ToolRunner.InterruptedStatus;
                if (!woke && o.TimeoutNs >= 0 && ctx.Now.Nanoseconds < quitAt) return 0;
            }
        }
        finally
        {
            printer.Flush();
        }
    }

    private static void Usage(IToolOutput err, bool full)
    {
        err.WriteError("usage: nc [-46CDdFhklNnrStUuvZz] [-I length] [-i interval] [-M ttl]");
        err.WriteError("\t  [-m minttl] [-O length] [-P proxy_username] [-p source_port]");
        err.WriteError("\t  [-q seconds] [-s sourceaddr] [-T keyword] [-V rtable] [-W recvlimit]");
        err.WriteError("\t  [-w timeout] [-X proxy_protocol] [-x proxy_address[:port]]");
        err.WriteError("\t  [destination] [port]");
    }

    /// <summary>stdout for a byte stream: whole lines as they complete, the rest when flushed.</summary>
    private sealed class LinePrinter(IToolOutput output)
    {
        private readonly StringBuilder _partial = new();
        private readonly Decoder _decoder = Encoding.UTF8.GetDecoder();

        public void Write(ReadOnlySpan<byte> bytes)
        {
            var chars = new char[_decoder.GetCharCount(bytes, flush: false)];
            _decoder.GetChars(bytes, chars, flush: false);
            foreach (char c in chars)
            {
                if (c == '\n')
                {
                    output.WriteLine(_partial.ToString());
                    _partial.Clear();
                }
                else _partial.Append(c);
            }
        }

        public void Flush()
        {
            if (_partial.Length == 0) return;
            output.WriteLine(_partial.ToString());
            _partial.Clear();
        }
    }
}

internal static class ErrnoExtensions
{
    /// <summary>strerror().</summary>
    public static string Describe(this Errno e) => ErrnoText.Describe(e);
}
