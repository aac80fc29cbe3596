using System.Runtime.CompilerServices;
using NetLab.Stack;
using NetLab.Stack.Tcp;

namespace NetLab.Tools.Common;

/// <summary>
/// Which process holds which socket, as ss -p finds out by reading /proc/PID/fd: tools register the
/// sockets they open (with the fd number the process would have got, counting from 3) and drop them
/// when they close them.
/// </summary>
internal static class SocketOwners
{
    public sealed record Owner(string Name, int Pid, int Fd);

    private sealed class Table
    {
        public readonly Dictionary<long, Owner> Tcp = [];
        public readonly Dictionary<int, Owner> Udp = [];
        public readonly Dictionary<int, int> NextFd = [];
    }

    private static readonly ConditionalWeakTable<Host, Table> Tables = new();

    private static Table Of(Host host) => Tables.GetValue(host, _ => new Table());

    private static Owner NewOwner(ToolContext ctx, string name)
    {
        var t = Of(ctx.Host);
        int fd = t.NextFd.TryGetValue(ctx.Pid, out var n) ? n : 3;
        t.NextFd[ctx.Pid] = fd + 1;
        return new Owner(name, ctx.Pid, fd);
    }

    public static void AddTcp(ToolContext ctx, string name, TcpSocket s) => Of(ctx.Host).Tcp[s.Id] = NewOwner(ctx, name);

    public static void RemoveTcp(Host host, TcpSocket s) => Of(host).Tcp.Remove(s.Id);

    public static void AddUdp(ToolContext ctx, string name, int port) => Of(ctx.Host).Udp[port] = NewOwner(ctx, name);

    public static void RemoveUdp(Host host, int port) => Of(host).Udp.Remove(port);

    public static IReadOnlyList<Owner> Of(Host host, long socketId) =>
        Of(host).Tcp.TryGetValue(socketId, out var o) ? [o] : [];

    public static IReadOnlyList<Owner> OfUdp(Host host, int port) =>
        Of(host).Udp.TryGetValue(port, out var o) ? [o] : [];
}
