using System.Globalization;
using System.Text;
using NetLab.Core.Addressing;
using NetLab.Stack;
using NetLab.Stack.Tcp;
using NetLab.Tools.Common;

namespace NetLab.Tools.Iperf;

/// <summary>
/// iperf3 (3.12 output) for TCP: <c>iperf3 -s [-p PORT] [-1] [-i SECS]</c> and
/// <c>iperf3 -c HOST [-p PORT] [-t SECS] [-n BYTES] [-i SECS] [-R] [-C CC] [-l LEN]</c>. As the real tool, a
/// control connection carries the parameters and results and a second connection the data; the
/// sender writes -l byte blocks as fast as its socket takes them. The sender's interval lines have
/// Retr (tcpi_total_retrans delta) and Cwnd (tcpi_snd_cwnd × tcpi_snd_mss) from TCP_INFO. The
/// control protocol is NetLab's own (text lines, not iperf3's JSON), so it talks to NetLab's iperf3 only.
/// </summary>
public sealed class Iperf3Tool : ITool
{
    public string Name => "iperf3";

    private const int StreamId = 5; // the data socket's fd in the real tool
    private const string Dashes = "-----------------------------------------------------------";
    private const string Separator = "- - - - - - - - - - - - - - - - - - - - - - - - -";

    private sealed class Params
    {
        public double Time = 10, Interval = 1;
        public long Bytes;
        public bool Reverse;
        public string? Congestion;
        public int Length = 128 * 1024;
    }

    public async Task<int> RunAsync(ToolContext ctx, IReadOnlyList<string> args)
    {
        bool server = false, oneOff = false;
        string? host = null;
        int port = 5201;
        var p = new Params();
        var err = ctx.Output;
        var g = new Getopt("iperf3", args.Select(a => a switch
        {
            "--server" => "-s", "--client" => "-c", "--time" => "-t", "--bytes" => "-n", "--interval" => "-i",
            "--reverse" => "-R", "--congestion" => "-C", "--length" => "-l", "--port" => "-p", "--one-off" => "-1",
            _ => a,
        }).ToList(), "sc:t:n:i:RC:l:p:1");
        while (g.Next(out var opt, out var arg))
        {
            switch (opt)
            {
                case 's': server = true; break;
                case 'c': host = arg; break;
                case '1': oneOff = true; break;
                case 'R': p.Reverse = true; break;
                case 'C': p.Congestion = arg; break;
                case 't' when double.TryParse(arg, NumberStyles.Float, CultureInfo.InvariantCulture, out var t) && t >= 0:
                    p.Time = t; break;
                case 'i' when double.TryParse(arg, NumberStyles.Float, CultureInfo.InvariantCulture, out var i) && (i == 0 || i >= 0.1):
                    p.Interval = i; break;
                case 'n' when TryParseKmg(arg!, out var n):
                    p.Bytes = n; break;
                case 'l' when TryParseKmg(arg!, out var l) && l > 0:
                    p.Length = (int)Math.Min(l, 1 << 30); break;
                case 'p' when int.TryParse(arg, NumberStyles.None, CultureInfo.InvariantCulture, out var pp) && pp is > 0 and < 65536:
                    port = pp; break;
                case 't' or 'i' or 'n' or 'l' or 'p':
                    err.WriteError($"iperf3: parameter error - invalid argument: {arg}");
                    return 1;
                default:
                    err.WriteError(g.Error ?? $"iperf3: invalid option -- '{opt}'");
                    err.WriteError("Usage: iperf3 [-s|-c host] [options]");
                    return 1;
            }
        }
        if (server == (host is not null))
        {
            err.WriteError("iperf3: parameter error - must either be a client (-c) or server (-s)");
            return 1;
        }
        return server ? await Server(ctx, port, oneOff, p.Interval) : await Client(ctx, host!, port, p);
    }

    /// <summary>-n and -l accept K, M, G suffixes (powers of 1024).</summary>
    private static bool TryParseKmg(string s, out long value)
    {
        value = 0;
        if (s.Length == 0) return false;
        long mult = char.ToUpperInvariant(s[^1]) switch { 'K' => 1024, 'M' => 1024 * 1024, 'G' => 1024L * 1024 * 1024, _ => 1 };
        var num = mult == 1 ? s : s[..^1];
        if (!double.TryParse(num, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) || d < 0) return false;
        value = (long)(d * mult);
        return true;
    }

    // ------------------------------------------------------------------ client

    private static async Task<int> Client(ToolContext ctx, string hostText, int port, Params p)
    {
        var o = ctx.Output;
        if (!Ipv4Address.TryParse(hostText, out var dst))
        {
            o.WriteError($"iperf3: error - unable to resolve host: {hostText}");
            return 1;
        }
        o.WriteLine($"Connecting to host {dst}, port {port}");
        if (p.Congestion is not null && CongestionUnknown(ctx.Host, p.Congestion))
        {
            o.WriteError("iperf3: error - unable to set TCP_CONGESTION: Supplied congestion control algorithm not supported on this host");
            return 1;
        }
        var control = ctx.Host.Tcp.Open();
        var data = ctx.Host.Tcp.Open();
        SocketOwners.AddTcp(ctx, "iperf3", control);
        try
        {
            try
            {
                await control.ConnectAsync(dst, (ushort)port, ctx.CancellationToken);
                var reader = new LineReader(control);
                await Send(control, $"PARAMS {p.Time.ToString(CultureInfo.InvariantCulture)} {p.Bytes} {(p.Reverse ? 1 : 0)} {p.Length} {p.Congestion ?? "-"}", ctx);
                var answer = await reader.ReadLine(ctx.CancellationToken);
                if (answer is null || answer.StartsWith("ERROR", StringComparison.Ordinal))
                {
                    o.WriteError("iperf3: error - " + (answer?[6..] ?? "control socket has closed unexpectedly"));
                    return 1;
                }
                if (p.Congestion is not null) data.Congestion = p.Congestion;
                await data.ConnectAsync(dst, (ushort)port, ctx.CancellationToken);
                SocketOwners.AddTcp(ctx, "iperf3", data);
                if (p.Reverse) o.WriteLine($"Reverse mode, remote host {dst} is sending");
                o.WriteLine($"[{StreamId,3}] local {data.LocalAddress} port {data.LocalPort} connected to {dst} port {port}");
                // iperf 3.12 prints the sender's heading on the client even in reverse mode.
                o.WriteLine("[ ID] Interval           Transfer     Bitrate         Retr  Cwnd");
                var mine = p.Reverse ? await Receive(ctx, data, p.Interval) : await SendData(ctx, data, p);
                if (mine is null) return ToolRunner.InterruptedStatus;
                await Send(control, "RESULT " + mine.Serialize(), ctx);
                var theirsLine = await reader.ReadLine(ctx.CancellationToken);
                var theirs = theirsLine is not null && theirsLine.StartsWith("RESULT ", StringComparison.Ordinal) ? Result.Parse(theirsLine[7..]) : null;
                if (theirs is null)
                {
                    o.WriteError("iperf3: error - control socket has closed unexpectedly");
                    return 1;
                }
                var (sender, receiver) = p.Reverse ? (theirs, mine) : (mine, theirs);
                o.WriteLine(Separator);
                o.WriteLine("[ ID] Interval           Transfer     Bitrate         Retr");
                o.WriteLine(SumLine(sender, "sender", retrans: true));
                o.WriteLine(SumLine(receiver, "receiver", retrans: false));
                o.WriteLine("");
                o.WriteLine("iperf Done.");
                return 0;
            }
            catch (NetLabSocketException e)
            {
                o.WriteError($"iperf3: error - unable to connect to server: {ErrnoText.Describe(e.Errno)}");
                return 1;
            }
            catch (OperationCanceledException) when (ctx.CancellationToken.IsCancellationRequested)
            {
                o.WriteError("iperf3: interrupt - the client has terminated");
                return 1;
            }
        }
        finally
        {
            SocketOwners.RemoveTcp(ctx.Host, control);
            SocketOwners.RemoveTcp(ctx.Host, data);
            data.Close();
            control.Close();
        }
    }

    private static bool CongestionUnknown(Host host, string name)
    {
        var probe = host.Tcp.Open();
        try { probe.Congestion = name; return false; }
        catch (NetLabSocketException) { return true; }
        finally { probe.Close(); }
    }

    // ------------------------------------------------------------------ server

    private static async Task<int> Server(ToolContext ctx, int port, bool oneOff, double interval)
    {
        var o = ctx.Output;
        var listener = ctx.Host.Tcp.Open();
        listener.ReuseAddress = true;
        var e = listener.Bind(Ipv4Address.Any, (ushort)port);
        if (e == Errno.None) e = listener.Listen(5);
        if (e != Errno.None)
        {
            o.WriteError($"iperf3: error - unable to start listener for connections: {ErrnoText.Describe(e)}");
            o.WriteError("iperf3: exiting");
            return 1;
        }
        SocketOwners.AddTcp(ctx, "iperf3", listener);
        try
        {
            for (int test = 1; ; test++)
            {
                o.WriteLine(Dashes);
                o.WriteLine($"Server listening on {port} (test #{test})");
                o.WriteLine(Dashes);
                var control = await listener.AcceptAsync(ctx.CancellationToken);
                try
                {
                    await ServeOne(ctx, listener, control, port, interval);
                }
                catch (NetLabSocketException)
                {
                    o.WriteError("iperf3: error - control socket has closed unexpectedly");
                }
                finally
                {
                    control.Close();
                }
                if (oneOff) return 0;
            }
        }
        catch (OperationCanceledException) when (ctx.CancellationToken.IsCancellationRequested)
        {
            o.WriteError("iperf3: interrupt - the server has terminated");
            return 1;
        }
        finally
        {
            SocketOwners.RemoveTcp(ctx.Host, listener);
            listener.Close();
        }
    }

    private static async Task ServeOne(ToolContext ctx, TcpSocket listener, TcpSocket control, int port, double interval)
    {
        var o = ctx.Output;
        var reader = new LineReader(control);
        var line = await reader.ReadLine(ctx.CancellationToken);
        if (line is null || !line.StartsWith("PARAMS ", StringComparison.Ordinal)) return;
        var f = line[7..].Split(' ');
        var p = new Params
        {
            Time = double.Parse(f[0], CultureInfo.InvariantCulture),
            Bytes = long.Parse(f[1], CultureInfo.InvariantCulture),
            Reverse = f[2] == "1",
            Length = int.Parse(f[3], CultureInfo.InvariantCulture),
            Congestion = f[4] == "-" ? null : f[4],
            Interval = interval,
        };
        o.WriteLine($"Accepted connection from {control.RemoteAddress}, port {control.RemotePort}");
        await Send(control, "OK", ctx);
        var data = await listener.AcceptAsync(ctx.CancellationToken);
        SocketOwners.AddTcp(ctx, "iperf3", data);
        try
        {
            if (p.Congestion is not null) data.Congestion = p.Congestion;
            o.WriteLine($"[{StreamId,3}] local {data.LocalAddress} port {port} connected to {data.RemoteAddress} port {data.RemotePort}");
            o.WriteLine(p.Reverse ? "[ ID] Interval           Transfer     Bitrate         Retr  Cwnd" : "[ ID] Interval           Transfer     Bitrate");
            var mine = p.Reverse ? await SendData(ctx, data, p) : await Receive(ctx, data, interval);
            if (mine is null) throw new OperationCanceledException(ctx.CancellationToken);
            var theirs = await reader.ReadLine(ctx.CancellationToken);
            await Send(control, "RESULT " + mine.Serialize(), ctx);
            o.WriteLine(Separator);
            if (p.Reverse)
            {
                o.WriteLine("[ ID] Interval           Transfer     Bitrate         Retr");
                o.WriteLine(SumLine(mine, "sender", retrans: true));
            }
            else
            {
                o.WriteLine("[ ID] Interval           Transfer     Bitrate");
                o.WriteLine(SumLine(mine, "receiver", retrans: false));
            }
            _ = theirs;
        }
        finally
        {
            SocketOwners.RemoveTcp(ctx.Host, data);
            data.Close();
        }
    }

    // ------------------------------------------------------------------ the data stream

    private sealed record Result(long Bytes, double Seconds, int Retrans)
    {
        public string Serialize() => FormattableString.Invariant($"{Bytes} {Seconds:R} {Retrans}");

        public static Result? Parse(string s)
        {
            var f = s.Split(' ');
            return f.Length == 3 ? new Result(long.Parse(f[0], CultureInfo.InvariantCulture),
                double.Parse(f[1], CultureInfo.InvariantCulture), int.Parse(f[2], CultureInfo.InvariantCulture)) : null;
        }
    }

    /// <summary>The sender: -l blocks until -t seconds or -n bytes, interval lines with Retr and Cwnd.</summary>
    private static async Task<Result?> SendData(ToolContext ctx, TcpSocket s, Params p)
    {
        var o = ctx.Output;
        var block = new byte[p.Length];
        for (int i = 0; i < block.Length; i++) block[i] = (byte)('0' + i % 10);
        long start = ctx.Now.Nanoseconds;
        long end = p.Bytes > 0 ? long.MaxValue : start + (long)(p.Time * 1e9);
        long intervalNs = (long)(p.Interval * 1e9);
        long nextReport = intervalNs > 0 ? start + intervalNs : long.MaxValue;
        long total = 0, intervalBytes = 0, intervalStart = start;
        int retransAtStart = s.GetInfo().TotalRetrans, retransAtInterval = retransAtStart;
        int offset = 0;
        void Report(long now)
        {
            var info = s.GetInfo();
            o.WriteLine(IntervalLine(intervalStart - start, now - start, intervalBytes,
                info.TotalRetrans - retransAtInterval, (long)info.SndCwnd * info.SndMss));
            retransAtInterval = info.TotalRetrans;
            intervalBytes = 0;
            intervalStart = now;
        }
        while (true)
        {
            long now = ctx.Now.Nanoseconds;
            if (now >= nextReport && now < end)
            {
                Report(nextReport);
                nextReport += intervalNs;
                continue;
            }
            if (now >= end || (p.Bytes > 0 && total >= p.Bytes)) break;
            int want = block.Length - offset;
            if (p.Bytes > 0) want = (int)Math.Min(want, p.Bytes - total);
            var e = s.TrySend(block.AsSpan(offset, want), out int n);
            if (e == Errno.None && n > 0)
            {
                total += n;
                intervalBytes += n;
                offset = (offset + n) % block.Length;
                continue;
            }
            if (e != Errno.None && e != Errno.EAGAIN) break;
            long wake = Math.Min(nextReport, end);
            await ctx.WaitAsync(t => s.WaitAsync(t), wake == long.MaxValue ? -1 : wake - now, ctx.CancellationToken);
            if (ctx.CancellationToken.IsCancellationRequested) return null;
        }
        long stop = Math.Min(ctx.Now.Nanoseconds, end);
        if (intervalBytes > 0 || stop - intervalStart > intervalNs / 10) Report(stop);
        s.Shutdown(ShutdownHow.Write);
        return new Result(total, (stop - start) / 1e9, s.GetInfo().TotalRetrans - retransAtStart);
    }

    /// <summary>The receiver: reads to the end of the stream, interval lines without Retr and Cwnd.</summary>
    private static async Task<Result?> Receive(ToolContext ctx, TcpSocket s, double interval)
    {
        var o = ctx.Output;
        var buf = new byte[128 * 1024];
        long start = ctx.Now.Nanoseconds;
        long intervalNs = (long)(interval * 1e9);
        long nextReport = intervalNs > 0 ? start + intervalNs : long.MaxValue;
        long total = 0, intervalBytes = 0, intervalStart = start;
        void Report(long now)
        {
            o.WriteLine(IntervalLine(intervalStart - start, now - start, intervalBytes, null, 0));
            intervalBytes = 0;
            intervalStart = now;
        }
        while (true)
        {
            long now = ctx.Now.Nanoseconds;
            if (now >= nextReport)
            {
                Report(nextReport);
                nextReport += intervalNs;
                continue;
            }
            var e = s.TryReceive(buf, out int n);
            if (e == Errno.None && n > 0)
            {
                total += n;
                intervalBytes += n;
                continue;
            }
            if (e != Errno.EAGAIN) break; // end of stream (or reset)
            await ctx.WaitAsync(t => s.WaitAsync(t), nextReport == long.MaxValue ? -1 : nextReport - now, ctx.CancellationToken);
            if (ctx.CancellationToken.IsCancellationRequested) return null;
        }
        long stop = ctx.Now.Nanoseconds;
        if (intervalBytes > 0 || stop - intervalStart > intervalNs / 10) Report(stop);
        return new Result(total, (stop - start) / 1e9, 0);
    }

    // ------------------------------------------------------------------ formatting (iperf_locale.c, units.c)

    /// <summary>report_bw_format or report_bw_retrans_cwnd_format: one interval of one stream.</summary>
    internal static string IntervalLine(long fromNs, long toNs, long bytes, int? retrans, long cwndBytes)
    {
        double secs = (toNs - fromNs) / 1e9;
        var head = Head(fromNs / 1e9, toNs / 1e9, bytes, secs);
        return retrans is { } r
            ? $"{head}  {r,3}   {Units(cwndBytes, 'A')}s       "
            : $"{head}                  ";
    }

    /// <summary>The summary lines: report_bw_retrans_format (sender) or report_bw_format (receiver).</summary>
    private static string SumLine(Result r, string role, bool retrans)
    {
        var head = Head(0, r.Seconds, r.Bytes, r.Seconds);
        return retrans ? $"{head}  {r.Retrans,3}             {role}" : $"{head}                  {role}";
    }

    /// <summary>"[%3d]%s %6.2f-%-6.2f sec  %ss  %ss/sec".</summary>
    private static string Head(double from, double to, long bytes, double secs)
    {
        double rate = secs > 0 ? bytes / secs : 0;
        var f = from.ToString("F2", CultureInfo.InvariantCulture);
        var t = to.ToString("F2", CultureInfo.InvariantCulture);
        return $"[{StreamId,3}] {f,6}-{t,-6} sec  {Units(bytes, 'A')}s  {Units(rate, 'a')}s/sec";
    }

    /// <summary>
    /// unit_snprintf() of iperf3's units.c: 'A' adapts bytes in powers of 1024, 'a' bits in powers of
    /// 1000 (the value is bytes and is multiplied by 8); then 4 places: "%4.2f", "%4.1f" or "%4.0f".
    /// </summary>
    internal static string Units(double value, char format)
    {
        string[] byteLabels = ["Byte", "KByte", "MByte", "GByte", "TByte"];
        string[] bitLabels = ["bit", "Kbit", "Mbit", "Gbit", "Tbit"];
        bool bits = char.IsLower(format);
        if (bits) value *= 8;
        double b = bits ? 1000.0 : 1024.0;
        int conv = 0;
        double tmp = value;
        while (tmp >= b && conv < 4)
        {
            tmp /= b;
            conv++;
        }
        value = tmp;
        var fmt = value < 9.995 ? "F2" : value < 99.95 ? "F1" : "F0";
        return value.ToString(fmt, CultureInfo.InvariantCulture).PadLeft(4) + " " + (bits ? bitLabels[conv] : byteLabels[conv]);
    }

    // ------------------------------------------------------------------ control channel

    private static Task Send(TcpSocket s, string line, ToolContext ctx) =>
        s.SendAsync(Encoding.ASCII.GetBytes(line + "\n"), ctx.CancellationToken);

    /// <summary>Reads '\n'-terminated lines from a TCP socket.</summary>
    private sealed class LineReader(TcpSocket s)
    {
        private readonly StringBuilder _pending = new();
        private readonly byte[] _buf = new byte[512];

        public async Task<string?> ReadLine(CancellationToken ct)
        {
            while (true)
            {
                var text = _pending.ToString();
                int nl = text.IndexOf('\n');
                if (nl >= 0)
                {
                    _pending.Remove(0, nl + 1);
                    return text[..nl];
                }
                int n = await s.ReceiveAsync(_buf, ct);
                if (n == 0) return null;
                _pending.Append(Encoding.ASCII.GetString(_buf, 0, n));
            }
        }
    }
}
