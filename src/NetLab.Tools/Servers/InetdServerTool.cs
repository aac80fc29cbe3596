using System.Globalization;
using NetLab.Core.Addressing;
using NetLab.Stack;
using NetLab.Stack.Tcp;
using NetLab.Tools.Common;

namespace NetLab.Tools.Servers;

/// <summary>
/// The classic inetd TCP services as host programs, each serving any number of connections until the
/// scenario ends: <c>echo-server [PORT]</c> (RFC 862, port 7) sends back what it reads,
/// <c>discard-server [PORT]</c> (RFC 863, port 9) reads and drops, <c>chargen-server [PORT]</c> (RFC 864,
/// port 19) sends the rotating 72-character lines until the client closes. They print nothing.
/// </summary>
public sealed class InetdServerTool(string name) : ITool
{
    public string Name => name;

    private int DefaultPort => name switch { "echo-server" => 7, "discard-server" => 9, _ => 19 };

    public async Task<int> RunAsync(ToolContext ctx, IReadOnlyList<string> args)
    {
        int port = DefaultPort;
        if (args.Count > 1 || (args.Count == 1 && !(int.TryParse(args[0], NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is > 0 and < 65536)))
        {
            ctx.Output.WriteError($"usage: {name} [PORT]");
            return 2;
        }
        var listener = ctx.Host.Tcp.Open();
        listener.ReuseAddress = true;
        var e = listener.Bind(Ipv4Address.Any, (ushort)port);
        if (e == Errno.None) e = listener.Listen(128);
        if (e != Errno.None)
        {
            ctx.Output.WriteError($"{name}: bind: {ErrnoText.Describe(e)}");
            return 1;
        }
        SocketOwners.AddTcp(ctx, name, listener);
        try
        {
            while (true)
            {
                var c = await listener.AcceptAsync(ctx.CancellationToken);
                SocketOwners.AddTcp(ctx, name, c);
                _ = Serve(ctx, c);
            }
        }
        catch (OperationCanceledException) when (ctx.CancellationToken.IsCancellationRequested)
        {
            return ToolRunner.InterruptedStatus;
        }
        finally
        {
            SocketOwners.RemoveTcp(ctx.Host, listener);
            listener.Close();
        }
    }

    private async Task Serve(ToolContext ctx, TcpSocket c)
    {
        try
        {
            var buf = new byte[16384];
            switch (name)
            {
                case "echo-server":
                    while (await c.ReceiveAsync(buf, ctx.CancellationToken) is var n and > 0)
                        await c.SendAsync(buf.AsMemory(0, n), ctx.CancellationToken);
                    break;
                case "discard-server":
                    while (await c.ReceiveAsync(buf, ctx.CancellationToken) > 0) { }
                    break;
                default:
                    for (int line = 0; ; line++)
                    {
                        if (c.TryReceive(buf, out int n) == Errno.None && n == 0) break; // the client closed
                        await c.SendAsync(ChargenLine(line), ctx.CancellationToken);
                    }
                    break;
            }
        }
        catch (Exception ex) when (ex is NetLabSocketException or OperationCanceledException) { }
        finally
        {
            SocketOwners.RemoveTcp(ctx.Host, c);
            c.Close();
        }
    }

    /// <summary>RFC 864: line n is 72 characters of the 95 printable ASCII ones starting at offset n mod 95, then CR LF.</summary>
    internal static byte[] ChargenLine(int n)
    {
        var line = new byte[74];
        for (int i = 0; i < 72; i++) line[i] = (byte)(' ' + (n + i) % 95);
        line[72] = (byte)'\r';
        line[73] = (byte)'\n';
        return line;
    }
}
