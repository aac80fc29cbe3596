using System.Globalization;
using NetLab.Core.Addressing;
using NetLab.Stack;
using NetLab.Stack.Tcp;
using NetLab.Tools.Common;
using NetLab.Tools.Http;

namespace NetLab.Tools.Servers;

/// <summary>
/// <c>serve SPEC...</c>: runs the services of <see cref="ServeSpec"/> on the host until interrupted, and logs
/// one line per accepted connection, per closed one (with its byte counts) and per request served (HTTP
/// requests, UDP echo datagrams): <c>tcp:7:echo 10.77.0.1:40312 accepted</c>. A port already in use fails
/// the command at start (exit 1), as a daemon's bind() does. <c>netlab attach --serve</c> runs this.
/// </summary>
public sealed class ServeTool : ITool
{
    public string Name => "serve";

    private const int BufferSize = 65536;

    public async Task<int> RunAsync(ToolContext ctx, IReadOnlyList<string> args)
    {
        if (args.Count == 0)
        {
            ctx.Output.WriteError($"usage: serve SPEC...  ({ServeSpec.Usage})");
            return 2;
        }
        var specs = new List<ServeSpec>();
        foreach (var a in args)
        {
            if (!ServeSpec.TryParse(a, out var spec, out var error))
            {
                ctx.Output.WriteError($"serve: {error}");
                return 2;
            }
            specs.Add(spec);
        }
        // Bind everything first, so a port in use fails the whole command before anything is served.
        var tcp = new List<(ServeSpec, TcpSocket)>();
        var udp = new List<(ServeSpec, Stack.Udp.UdpSocket)>();
        try
        {
            foreach (var spec in specs)
            {
                Errno e;
                if (spec.Protocol == "tcp")
                {
                    var l = ctx.Host.Tcp.Open();
                    l.ReuseAddress = true;
                    e = l.Bind(Ipv4Address.Any, spec.Port);
                    if (e == Errno.None) e = l.Listen(128);
                    tcp.Add((spec, l));
                    if (e == Errno.None) SocketOwners.AddTcp(ctx, Name, l);
                }
                else
                {
                    var u = ctx.Host.Udp.Open();
                    e = u.Bind(Ipv4Address.Any, spec.Port);
                    udp.Add((spec, u));
                    if (e == Errno.None) SocketOwners.AddUdp(ctx, Name, spec.Port);
                }
                if (e != Errno.None)
                {
                    ctx.Output.WriteError($"serve: {spec}: bind: {ErrnoText.Describe(e)}");
                    return 1;
                }
            }
            var loops = new List<Task>();
            foreach (var (spec, l) in tcp) loops.Add(AcceptLoop(ctx, spec, l));
            foreach (var (spec, u) in udp) loops.Add(UdpEcho(ctx, spec, u));
            await Task.WhenAll(loops);
            return ToolRunner.InterruptedStatus;
        }
        finally
        {
            foreach (var (_, l) in tcp) { SocketOwners.RemoveTcp(ctx.Host, l); l.Close(); }
            foreach (var (spec, u) in udp) { SocketOwners.RemoveUdp(ctx.Host, spec.Port); u.Dispose(); }
        }
    }

    private async Task AcceptLoop(ToolContext ctx, ServeSpec spec, TcpSocket listener)
    {
        try
        {
            while (true)
            {
                var c = await listener.AcceptAsync(ctx.CancellationToken);
                SocketOwners.AddTcp(ctx, Name, c);
                ctx.Output.WriteLine($"{spec} {Peer(c)} accepted");
                _ = Serve(ctx, spec, c);
            }
        }
        catch (OperationCanceledException) when (ctx.CancellationToken.IsCancellationRequested) { }
    }

    private static string Peer(TcpSocket c) => $"{c.RemoteAddress}:{c.RemotePort}";

    private async Task Serve(ToolContext ctx, ServeSpec spec, TcpSocket c)
    {
        string peer = Peer(c);
        long received = 0, sent = 0;
        string end = "closed";
        try
        {
            if (spec.Service == "http")
            {
                var server = new HttpFileServer(spec.Argument!, line => ctx.Output.WriteLine($"{spec} {peer} {line}"));
                (received, sent) = await server.ServeConnectionAsync(c, ctx.CancellationToken);
            }
            else
            {
                var buf = new byte[BufferSize];
                while (await c.ReceiveAsync(buf, ctx.CancellationToken) is var n and > 0)
                {
                    received += n;
                    if (spec.Service != "echo") continue;
                    await c.SendAsync(buf.AsMemory(0, n), ctx.CancellationToken);
                    sent += n;
                }
            }
        }
        catch (NetLabSocketException e) { end = $"failed ({ErrnoText.Describe(e.Errno)})"; }
        catch (OperationCanceledException) { end = "interrupted"; }
        finally
        {
            SocketOwners.RemoveTcp(ctx.Host, c);
            c.Close();
        }
        ctx.Output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{spec} {peer} {end}: {received} bytes in, {sent} bytes out"));
    }

    /// <summary>RFC 862 over UDP: each datagram goes back to its sender, one log line per datagram.</summary>
    private static async Task UdpEcho(ToolContext ctx, ServeSpec spec, Stack.Udp.UdpSocket u)
    {
        var buf = new byte[65536];
        try
        {
            while (true)
            {
                var r = await u.ReceiveAsync(buf, ctx.CancellationToken);
                var e = u.SendTo(buf.AsSpan(0, r.Length), r.Address, r.Port);
                ctx.Output.WriteLine(e == Errno.None
                    ? $"{spec} {r.Address}:{r.Port} echoed {r.Length} bytes"
                    : $"{spec} {r.Address}:{r.Port} echo failed: {ErrnoText.Describe(e)}");
            }
        }
        catch (OperationCanceledException) when (ctx.CancellationToken.IsCancellationRequested) { }
    }
}
