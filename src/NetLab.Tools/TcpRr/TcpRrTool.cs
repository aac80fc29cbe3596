using System.Globalization;
using NetLab.Core.Addressing;
using NetLab.Stack;
using NetLab.Stack.Tcp;

namespace NetLab.Tools;

/// <summary>
/// tcprr: a request/response latency tester in the spirit of netperf's TCP_RR, with one addition the
/// notes need: the request can be written in several send() calls (a header, then a body), which is
/// the pattern Nagle's algorithm and a delayed-ACK peer stall. NetLab's own tool; no Linux counterpart
/// prints this format.
/// <code>
/// tcprr -s [-p PORT] [-r REQ,RESP]
/// tcprr -c HOST [-p PORT] [-n COUNT] [-r REQ,RESP] [-w WRITES] [-i SECONDS] [-N]   (-N: TCP_NODELAY)
/// </code>
/// </summary>
public sealed class TcpRrTool : ITool
{
    public string Name => "tcprr";

    public async Task<int> RunAsync(ToolContext ctx, IReadOnlyList<string> args)
    {
        var o = ctx.Output;
        string? host = null;
        bool server = false, noDelay = false;
        int port = 5002, count = 10, writes = 1;
        int req = 100, resp = 100;
        double interval = 0.1;
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            string Next() => i + 1 < args.Count ? args[++i] : throw new FormatException($"option requires an argument -- '{a.TrimStart('-')}'");
            try
            {
                switch (a)
                {
                    case "-s": server = true; break;
                    case "-c": host = Next(); break;
                    case "-p": port = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "-n": count = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "-w": writes = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "-i": interval = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "-N": noDelay = true; break;
                    case "-r":
                        var parts = Next().Split(',');
                        req = int.Parse(parts[0], CultureInfo.InvariantCulture);
                        resp = int.Parse(parts.Length > 1 ? parts[1] : parts[0], CultureInfo.InvariantCulture);
                        break;
                    default:
                        o.WriteError($"tcprr: invalid option '{a}'");
                        return 2;
                }
            }
            catch (FormatException e)
            {
                o.WriteError($"tcprr: {e.Message}");
                return 2;
            }
        }
        if (req < writes || writes < 1 || req < 1 || resp < 1 || count < 1)
        {
            o.WriteError("tcprr: need 1 <= writes <= request size, and positive sizes and count");
            return 2;
        }
        if (server) return await Serve(ctx, port, req, resp);
        if (host is null || !Ipv4Address.TryParse(host, out var dst))
        {
            o.WriteError("tcprr: give -s, or -c with an IPv4 address");
            return 2;
        }
        return await Client(ctx, dst, port, count, req, resp, writes, interval, noDelay);
    }

    private static async Task<int> Serve(ToolContext ctx, int port, int req, int resp)
    {
        var l = ctx.Host.Tcp.Open();
        var err = l.Bind(Ipv4Address.Any, (ushort)port);
        if (err == Errno.None) err = l.Listen(128);
        if (err != Errno.None)
        {
            ctx.Output.WriteError($"tcprr: bind/listen: {ErrnoText.Describe(err)}");
            return 1;
        }
        ctx.Output.WriteLine($"tcprr: listening on port {port}");
        try
        {
            while (true)
            {
                var c = await l.AcceptAsync(ctx.CancellationToken);
                _ = Answer(c, req, resp, ctx.CancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            l.Close();
            return 0;
        }
    }

    private static async Task Answer(TcpSocket c, int req, int resp, CancellationToken ct)
    {
        var buf = new byte[req];
        var answer = new byte[resp];
        try
        {
            while (await c.ReceiveAllAsync(buf, ct) == req) await c.SendAsync(answer, ct);
        }
        catch (Exception e) when (e is NetLabSocketException or OperationCanceledException) { }
        c.Close();
    }

    private static async Task<int> Client(ToolContext ctx, Ipv4Address dst, int port, int count, int req, int resp,
        int writes, double interval, bool noDelay)
    {
        var o = ctx.Output;
        var s = ctx.Host.Tcp.Open();
        s.NoDelay = noDelay;
        try
        {
            await s.ConnectAsync(dst, (ushort)port, ctx.CancellationToken);
        }
        catch (NetLabSocketException e)
        {
            o.WriteError($"tcprr: connect to {dst} port {port}: {ErrnoText.Describe(e.Errno)}");
            return 1;
        }
        o.WriteLine($"tcprr: {dst} port {port}, request {req} bytes in {writes} write{(writes == 1 ? "" : "s")}, response {resp} bytes{(noDelay ? ", TCP_NODELAY" : "")}");
        var request = new byte[req];
        var response = new byte[resp];
        var times = new List<double>();
        try
        {
            for (int n = 1; n <= count; n++)
            {
                long start = ctx.Now.Nanoseconds;
                int offset = 0;
                for (int w = 0; w < writes; w++)
                {
                    int len = w == writes - 1 ? req - offset : req / writes;
                    await s.SendAsync(request.AsMemory(offset, len), ctx.CancellationToken);
                    offset += len;
                }
                if (await s.ReceiveAllAsync(response, ctx.CancellationToken) < resp)
                {
                    o.WriteError("tcprr: connection closed by the server");
                    return 1;
                }
                double ms = (ctx.Now.Nanoseconds - start) / 1e6;
                times.Add(ms);
                o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"transaction {n}: {ms:F3} ms"));
                if (n < count && interval > 0)
                    await Task.Delay(TimeSpan.FromSeconds(interval), ctx.TimeProvider, ctx.CancellationToken);
            }
        }
        catch (OperationCanceledException) { }
        catch (NetLabSocketException e)
        {
            o.WriteError($"tcprr: {ErrnoText.Describe(e.Errno)}");
            return 1;
        }
        s.Close();
        if (times.Count > 0)
            o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{times.Count} transactions, latency min/avg/max = {times.Min():F3}/{times.Average():F3}/{times.Max():F3} ms"));
        return 0;
    }
}
