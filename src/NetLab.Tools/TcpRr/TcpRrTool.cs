using System.Globalization;
using NetLab.Core.Addressing;
using NetLab.Stack;
using NetLab.Stack.Tcp;

namespace NetLab.Tools;

/// <summary>
/// tcprr: a request/response latency tester in the spirit of netperf's TCP_RR (and TCP_CRR with -C),
/// with what the notes' experiments need: a request written in several send() calls (a header, then a
/// body: the pattern Nagle's algorithm and a delayed-ACK peer stall), a server that never accepts or
/// reads late (full accept queue, zero window), and keepalive settings. NetLab's own tool; no Linux
/// counterpart prints this format.
/// <code>
/// tcprr -s [-p PORT] [-r REQ,RESP] [-b BACKLOG] [--no-accept] [--read-delay SECONDS] [--keepalive[=IDLE,INTVL,CNT]]
/// tcprr -c HOST [-p PORT] [-n COUNT] [-r REQ,RESP] [-w WRITES] [-i SECONDS] [-N] [-C] [-q] [--keepalive[=IDLE,INTVL,CNT]]
/// </code>
/// </summary>
public sealed class TcpRrTool : ITool
{
    public string Name => "tcprr";

    internal static readonly string[] Usage =
    [
        "Usage: tcprr -s [-p PORT] [-r REQ,RESP] [-b BACKLOG] [--no-accept] [--read-delay SECONDS] [--keepalive[=IDLE,INTVL,CNT]]",
        "       tcprr -c HOST [-p PORT] [-n COUNT] [-r REQ,RESP] [-w WRITES] [-i SECONDS] [-N] [-C] [-q] [--keepalive[=IDLE,INTVL,CNT]]",
        "  -s               serve: read REQ bytes, answer RESP bytes, until the client closes",
        "  -c HOST          run COUNT transactions against HOST (an IPv4 address)",
        "  -p PORT          port (default 5002)",
        "  -r REQ,RESP      request and response sizes in bytes (default 100,100)",
        "  -n COUNT         transactions (default 10)",
        "  -w WRITES        send() calls per request (default 1)",
        "  -i SECONDS       pause between transactions (default 0.1)",
        "  -N               TCP_NODELAY",
        "  -C               a new connection per transaction, closed by the client (netperf TCP_CRR)",
        "  -q               print only the summary and errors",
        "  -b BACKLOG       listen() backlog (default 128, capped by net.core.somaxconn)",
        "  --no-accept      listen but never accept(): connections stay in the accept queue",
        "  --read-delay S   wait S seconds after accept() before reading (the receive window closes)",
        "  --keepalive      SO_KEEPALIVE (tcp_keepalive_time/intvl/probes apply)",
        "  --keepalive=I,V,C  SO_KEEPALIVE with TCP_KEEPIDLE=I, TCP_KEEPINTVL=V, TCP_KEEPCNT=C seconds/probes",
    ];

    private sealed class Options
    {
        public string? Host;
        public bool Server, NoDelay, PerConnection, Quiet, NoAccept;
        public int Port = 5002, Count = 10, Writes = 1, Backlog = 128;
        public int Req = 100, Resp = 100;
        public double Interval = 0.1, ReadDelay;
        public bool KeepAlive;
        public int KeepIdle, KeepIntvl, KeepCnt; // 0: the sysctls
    }

    public async Task<int> RunAsync(ToolContext ctx, IReadOnlyList<string> args)
    {
        var o = ctx.Output;
        var opt = new Options();
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            string Next() => i + 1 < args.Count ? args[++i] : throw new FormatException($"option requires an argument -- '{a.TrimStart('-')}'");
            try
            {
                switch (a)
                {
                    case "-s": opt.Server = true; break;
                    case "-c": opt.Host = Next(); break;
                    case "-p": opt.Port = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "-n": opt.Count = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "-w": opt.Writes = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "-i": opt.Interval = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "-b": opt.Backlog = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "-N": opt.NoDelay = true; break;
                    case "-C": opt.PerConnection = true; break;
                    case "-q": opt.Quiet = true; break;
                    case "--no-accept": opt.NoAccept = true; break;
                    case "--read-delay": opt.ReadDelay = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--keepalive": opt.KeepAlive = true; break;
                    case var k when k.StartsWith("--keepalive=", StringComparison.Ordinal):
                        var kp = k["--keepalive=".Length..].Split(',');
                        if (kp.Length != 3) throw new FormatException("--keepalive=IDLE,INTVL,CNT needs three numbers");
                        opt.KeepAlive = true;
                        opt.KeepIdle = int.Parse(kp[0], CultureInfo.InvariantCulture);
                        opt.KeepIntvl = int.Parse(kp[1], CultureInfo.InvariantCulture);
                        opt.KeepCnt = int.Parse(kp[2], CultureInfo.InvariantCulture);
                        break;
                    case "-r":
                        var parts = Next().Split(',');
                        opt.Req = int.Parse(parts[0], CultureInfo.InvariantCulture);
                        opt.Resp = int.Parse(parts.Length > 1 ? parts[1] : parts[0], CultureInfo.InvariantCulture);
                        break;
                    case "-h" or "--help":
                        foreach (var line in Usage) o.WriteLine(line);
                        return 0;
                    default:
                        o.WriteError($"tcprr: invalid option '{a}'");
                        foreach (var line in Usage) o.WriteError(line);
                        return 2;
                }
            }
            catch (FormatException e)
            {
                o.WriteError($"tcprr: {e.Message}");
                return 2;
            }
        }
        if (opt.Req < opt.Writes || opt.Writes < 1 || opt.Req < 1 || opt.Resp < 1 || opt.Count < 1 || opt.ReadDelay < 0)
        {
            o.WriteError("tcprr: need 1 <= writes <= request size, and positive sizes and count");
            return 2;
        }
        if (opt.Server) return await Serve(ctx, opt);
        if (opt.Host is null || !Ipv4Address.TryParse(opt.Host, out var dst))
        {
            o.WriteError("tcprr: give -s, or -c with an IPv4 address");
            foreach (var line in Usage) o.WriteError(line);
            return 2;
        }
        return opt.PerConnection ? await ClientPerConnection(ctx, dst, opt) : await Client(ctx, dst, opt);
    }

    /// <summary>SO_KEEPALIVE and, when given, TCP_KEEPIDLE / TCP_KEEPINTVL / TCP_KEEPCNT (setsockopt order of most programs).</summary>
    private static void SetKeepAlive(TcpSocket s, Options opt)
    {
        if (!opt.KeepAlive) return;
        s.KeepAlive = true;
        if (opt.KeepIdle > 0) s.KeepIdle = opt.KeepIdle;
        if (opt.KeepIntvl > 0) s.KeepInterval = opt.KeepIntvl;
        if (opt.KeepCnt > 0) s.KeepCount = opt.KeepCnt;
    }

    private static async Task<int> Serve(ToolContext ctx, Options opt)
    {
        var l = ctx.Host.Tcp.Open();
        try { SetKeepAlive(l, opt); } // accepted sockets inherit the options
        catch (NetLabSocketException e)
        {
            ctx.Output.WriteError($"tcprr: setsockopt: {ErrnoText.Describe(e.Errno)}");
            return 1;
        }
        var err = l.Bind(Ipv4Address.Any, (ushort)opt.Port);
        if (err == Errno.None) err = l.Listen(opt.Backlog);
        if (err != Errno.None)
        {
            ctx.Output.WriteError($"tcprr: bind/listen: {ErrnoText.Describe(err)}");
            return 1;
        }
        ctx.Output.WriteLine($"tcprr: listening on port {opt.Port}{(opt.NoAccept ? ", not accepting" : "")}");
        try
        {
            if (opt.NoAccept)
            {
                // An application that listens and then never calls accept(): the kernel completes handshakes
                // into the accept queue until it holds backlog + 1 connections.
                await Task.Delay(Timeout.InfiniteTimeSpan, ctx.TimeProvider, ctx.CancellationToken);
            }
            while (true)
            {
                var c = await l.AcceptAsync(ctx.CancellationToken);
                _ = Answer(ctx, c, opt);
            }
        }
        catch (OperationCanceledException)
        {
            l.Close();
            return 0;
        }
    }

    private static async Task Answer(ToolContext ctx, TcpSocket c, Options opt)
    {
        var buf = new byte[opt.Req];
        var answer = new byte[opt.Resp];
        var peer = $"{c.RemoteAddress} port {c.RemotePort}";
        try
        {
            if (opt.ReadDelay > 0)
                await Task.Delay(TimeSpan.FromSeconds(opt.ReadDelay), ctx.TimeProvider, ctx.CancellationToken);
            while (await c.ReceiveAllAsync(buf, ctx.CancellationToken) == opt.Req) await c.SendAsync(answer, ctx.CancellationToken);
        }
        catch (NetLabSocketException e)
        {
            // A connection that dies under the server (keepalive timeout, reset) is reported, as servers log it.
            ctx.Output.WriteError($"tcprr: connection from {peer}: {ErrnoText.Describe(e.Errno)}");
        }
        catch (OperationCanceledException) { }
        c.Close();
    }

    /// <summary>The request in <see cref="Options.Writes"/> send() calls, then the whole response; false at EOF.</summary>
    private static async Task<bool> Transaction(TcpSocket s, byte[] request, byte[] response, int writes, CancellationToken ct)
    {
        int offset = 0;
        for (int w = 0; w < writes; w++)
        {
            int len = w == writes - 1 ? request.Length - offset : request.Length / writes;
            await s.SendAsync(request.AsMemory(offset, len), ct);
            offset += len;
        }
        return await s.ReceiveAllAsync(response, ct) == response.Length;
    }

    private static string Header(Ipv4Address dst, Options opt) =>
        $"tcprr: {dst} port {opt.Port}, request {opt.Req} bytes in {opt.Writes} write{(opt.Writes == 1 ? "" : "s")}, response {opt.Resp} bytes"
        + (opt.NoDelay ? ", TCP_NODELAY" : "") + (opt.PerConnection ? ", a connection per transaction" : "");

    private static async Task<int> Client(ToolContext ctx, Ipv4Address dst, Options opt)
    {
        var o = ctx.Output;
        var s = ctx.Host.Tcp.Open();
        s.NoDelay = opt.NoDelay;
        try
        {
            SetKeepAlive(s, opt);
            await s.ConnectAsync(dst, (ushort)opt.Port, ctx.CancellationToken);
        }
        catch (NetLabSocketException e)
        {
            o.WriteError($"tcprr: connect to {dst} port {opt.Port}: {ErrnoText.Describe(e.Errno)}");
            return 1;
        }
        if (!opt.Quiet) o.WriteLine(Header(dst, opt));
        var request = new byte[opt.Req];
        var response = new byte[opt.Resp];
        var times = new List<double>();
        try
        {
            for (int n = 1; n <= opt.Count; n++)
            {
                long start = ctx.Now.Nanoseconds;
                if (!await Transaction(s, request, response, opt.Writes, ctx.CancellationToken))
                {
                    o.WriteError("tcprr: connection closed by the server");
                    return 1;
                }
                double ms = (ctx.Now.Nanoseconds - start) / 1e6;
                times.Add(ms);
                if (!opt.Quiet) o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"transaction {n}: {ms:F3} ms"));
                if (n < opt.Count && opt.Interval > 0)
                    await Task.Delay(TimeSpan.FromSeconds(opt.Interval), ctx.TimeProvider, ctx.CancellationToken);
            }
        }
        catch (OperationCanceledException) { }
        catch (NetLabSocketException e)
        {
            o.WriteError($"tcprr: {ErrnoText.Describe(e.Errno)}");
            return 1;
        }
        s.Close();
        Summary(o, times);
        return 0;
    }

    /// <summary>-C: connect, one transaction, close (the client closes first and keeps the TIME_WAIT), COUNT times.</summary>
    private static async Task<int> ClientPerConnection(ToolContext ctx, Ipv4Address dst, Options opt)
    {
        var o = ctx.Output;
        if (!opt.Quiet) o.WriteLine(Header(dst, opt));
        var request = new byte[opt.Req];
        var response = new byte[opt.Resp];
        var times = new List<double>();
        int status = 0;
        try
        {
            for (int n = 1; n <= opt.Count; n++)
            {
                long start = ctx.Now.Nanoseconds;
                var s = ctx.Host.Tcp.Open();
                s.NoDelay = opt.NoDelay;
                try
                {
                    SetKeepAlive(s, opt);
                    await s.ConnectAsync(dst, (ushort)opt.Port, ctx.CancellationToken);
                }
                catch (NetLabSocketException e)
                {
                    s.Close();
                    o.WriteError($"tcprr: connection {n}: connect to {dst} port {opt.Port}: {ErrnoText.Describe(e.Errno)}");
                    status = 1;
                    break;
                }
                ushort localPort = s.LocalPort;
                try
                {
                    if (!await Transaction(s, request, response, opt.Writes, ctx.CancellationToken))
                    {
                        o.WriteError($"tcprr: connection {n}: closed by the server");
                        status = 1;
                        break;
                    }
                }
                catch (NetLabSocketException e)
                {
                    o.WriteError($"tcprr: connection {n}: {ErrnoText.Describe(e.Errno)}");
                    status = 1;
                    break;
                }
                finally
                {
                    s.Close();
                }
                double ms = (ctx.Now.Nanoseconds - start) / 1e6;
                times.Add(ms);
                if (!opt.Quiet)
                    o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"transaction {n}: {ms:F3} ms (local port {localPort})"));
                if (n < opt.Count && opt.Interval > 0)
                    await Task.Delay(TimeSpan.FromSeconds(opt.Interval), ctx.TimeProvider, ctx.CancellationToken);
            }
        }
        catch (OperationCanceledException) { }
        Summary(o, times);
        return status;
    }

    private static void Summary(IToolOutput o, List<double> times)
    {
        if (times.Count > 0)
            o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{times.Count} transactions, latency min/avg/max = {times.Min():F3}/{times.Average():F3}/{times.Max():F3} ms"));
    }
}
