using System.Globalization;
using System.Text;
using NetLab.Core.Addressing;
using NetLab.Stack.IPv4;
using NetLab.Stack.Link;

namespace NetLab.Tools.Ip;

/// <summary>ip route: show, add, del, get (iproute.c: print_route(), iproute_modify(), iproute_get()).</summary>
internal sealed partial class IpRun
{
    private int DoRoute(List<string> args)
    {
        if (args.Count == 0 || Matches(args[0], "show") || Matches(args[0], "list") || Matches(args[0], "lst"))
            return ShowRoutes(args.Skip(args.Count == 0 ? 0 : 1).ToList());
        if (Matches(args[0], "add")) return ModifyRoute(args.Skip(1).ToList(), add: true);
        if (Matches(args[0], "delete")) return ModifyRoute(args.Skip(1).ToList(), add: false);
        if (Matches(args[0], "get")) return GetRoute(args.Skip(1).ToList());
        _out.WriteError($"Command \"{args[0]}\" is unknown, try \"ip route help\".");
        return ExitUsage;
    }

    /// <summary>ip route show [table main|local|N] [dev NAME]: the dump of one FIB table.</summary>
    private int ShowRoutes(List<string> args)
    {
        var table = _host.Ipv4.MainTable;
        NetDevice? dev = null;
        for (int i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "table":
                    if (!NextArg(args, ref i)) return ExitUsage;
                    if (args[i] is "local" or "255") table = _host.Ipv4.LocalTable;
                    else if (args[i] is not ("main" or "254"))
                    {
                        _out.WriteError($"Error: argument \"{args[i]}\" is wrong: table id value is invalid");
                        _out.WriteError(""); // invarg()'s message ends in "\n" and it adds another
                        return ExitUsage;
                    }
                    break;
                case "dev" or "oif":
                    if (!NextArg(args, ref i)) return ExitUsage;
                    dev = FindDevice(args[i], out int status);
                    if (dev is null) return status;
                    break;
                default:
                    _out.WriteError($"Error: either \"to\" is duplicate, or \"{args[i]}\" is a garbage.");
                    return ExitUsage;
            }
        }
        foreach (var r in table.All())
        {
            if (dev is not null && r.Device != dev) continue;
            _out.WriteLine(FormatRoute(r, showDevice: dev is null));
        }
        return 0;
    }

    /// <summary>print_route(): every field is followed by a space, so lines end in one.</summary>
    private static string FormatRoute(Route r, bool showDevice)
    {
        var sb = new StringBuilder();
        if (r.Type != RouteType.Unicast) sb.Append(TypeName(r.Type)).Append(' ');
        sb.Append(FormatDestination(r.Destination)).Append(' ');
        if (r.Gateway is { } gw) sb.Append("via ").Append(gw).Append(' ');
        if (showDevice && r.Device is not null) sb.Append("dev ").Append(r.Device.Name).Append(' ');
        if (r.Protocol != RouteProtocol.Boot) sb.Append("proto ").Append(ProtocolName(r.Protocol)).Append(' ');
        if (r.Scope != RouteScope.Universe) sb.Append("scope ").Append(ScopeName(r.Scope)).Append(' ');
        if (r.PreferredSource is { } src) sb.Append("src ").Append(src).Append(' ');
        if (r.Metric != 0) sb.Append("metric ").Append(r.Metric).Append(' ');
        // RTNH_F_LINKDOWN: the next hop's device is up without carrier.
        if (r.Device is { IsUp: true, IsLoopback: false, HasCarrier: false }) sb.Append("linkdown ");
        if (r.Mtu != 0) sb.Append("mtu ").Append(r.Mtu).Append(' ');
        return sb.ToString();
    }

    private static string FormatDestination(Ipv4Prefix p) =>
        p.Length == 0 ? "default" : p.Length == 32 ? p.Network.ToString() : p.NetworkPrefix.ToString();

    private static string TypeName(RouteType t) => t.ToString().ToLowerInvariant();

    private static string ProtocolName(RouteProtocol p) => p.ToString().ToLowerInvariant();

    /// <summary>ip route add|del [TYPE] PREFIX [via GW] [dev NAME] [metric N] [mtu N] [src ADDR].</summary>
    private int ModifyRoute(List<string> args, bool add)
    {
        var type = RouteType.Unicast;
        Ipv4Prefix? destination = null;
        Ipv4Address? gateway = null, source = null;
        NetDevice? dev = null;
        int? metric = null;
        int mtu = 0;
        for (int i = 0; i < args.Count; i++)
        {
            var a = args[i];
            switch (a)
            {
                case "via":
                    if (!NextArg(args, ref i)) return ExitUsage;
                    if (!TryGetAddress(args[i], "inet", out var gw)) return 1;
                    gateway = gw;
                    break;
                case "dev" or "oif":
                    if (!NextArg(args, ref i)) return ExitUsage;
                    dev = FindDevice(args[i], out int status);
                    if (dev is null) return status;
                    break;
                case "metric" or "preference" or "priority":
                    if (!NextArg(args, ref i)) return ExitUsage;
                    if (!uint.TryParse(args[i], NumberStyles.None, CultureInfo.InvariantCulture, out var m))
                    {
                        _out.WriteError($"Error: argument \"{args[i]}\" is wrong: \"metric\" value is invalid");
                        _out.WriteError(""); // invarg()'s message ends in "\n" and it adds another
                        return ExitUsage;
                    }
                    metric = (int)m;
                    break;
                case "mtu":
                    if (!NextArg(args, ref i)) return ExitUsage;
                    if (!int.TryParse(args[i], NumberStyles.None, CultureInfo.InvariantCulture, out mtu))
                    {
                        _out.WriteError($"Error: argument \"{args[i]}\" is wrong: \"mtu\" value is invalid");
                        _out.WriteError(""); // invarg()'s message ends in "\n" and it adds another
                        return ExitUsage;
                    }
                    break;
                case "src":
                    if (!NextArg(args, ref i)) return ExitUsage;
                    if (!TryGetAddress(args[i], "inet", out var s)) return 1;
                    source = s;
                    break;
                case "unicast" or "unreachable" or "prohibit" or "blackhole" when destination is null:
                    type = Enum.Parse<RouteType>(a, ignoreCase: true);
                    break;
                default:
                    if (a == "to" && !NextArg(args, ref i)) return ExitUsage;
                    if (destination is not null)
                    {
                        _out.WriteError($"Error: either \"to\" is duplicate, or \"{args[i]}\" is a garbage.");
                        return ExitUsage;
                    }
                    if (!TryGetPrefix(args[i], Family, out var prefix)) return 1;
                    destination = prefix;
                    break;
            }
        }
        if (destination is not { } dst)
        {
            _out.WriteError("Command line is not complete. Try option \"help\"");
            return ExitUsage;
        }
        if (!add) return DeleteRoute(dst, type, gateway, dev, metric);
        try
        {
            _host.Ipv4.AddRoute(dst, gateway, dev, metric ?? 0, type, source, mtu);
            return 0;
        }
        catch (ArgumentException e)
        {
            _out.WriteError(e.Message);
            return ExitKernel;
        }
    }

    /// <summary>fib_table_delete(): the first route of the prefix that matches what was given.</summary>
    private int DeleteRoute(Ipv4Prefix dst, RouteType type, Ipv4Address? gateway, NetDevice? dev, int? metric)
    {
        var network = dst.NetworkPrefix;
        var victim = _host.Ipv4.MainTable.All().FirstOrDefault(r =>
            r.Destination == network
            && (type == RouteType.Unicast || r.Type == type)
            && (gateway is null || r.Gateway == gateway)
            && (dev is null || r.Device == dev)
            && (metric is null || r.Metric == metric));
        if (victim is null)
        {
            _out.WriteError("RTNETLINK answers: No such process");
            return ExitKernel;
        }
        _host.Ipv4.MainTable.Remove(r => ReferenceEquals(r, victim));
        return 0;
    }

    /// <summary>
    /// ip route get ADDR: the cloned route ip_route_output_key() returns, with the cache line
    /// (RTCF flags, a learned PMTU and its expiry).
    /// </summary>
    private int GetRoute(List<string> args)
    {
        Ipv4Address? target = null;
        int oif = 0;
        for (int i = 0; i < args.Count; i++)
        {
            if (args[i] is "oif" or "dev")
            {
                if (!NextArg(args, ref i)) return ExitUsage;
                var dev = FindDevice(args[i], out int status);
                if (dev is null) return status;
                oif = dev.IfIndex;
            }
            else
            {
                if (args[i] == "to" && !NextArg(args, ref i)) return ExitUsage;
                if (!TryGetAddress(args[i], Family, out var a)) return 1;
                target = a;
            }
        }
        if (target is not { } dst)
        {
            _out.WriteError("need at least a destination address");
            return 1;
        }
        var route = _host.Ipv4.RouteOutput(dst, oif);
        var err = route?.Type switch
        {
            null => "Network is unreachable",
            RouteType.Unreachable => "No route to host",
            RouteType.Prohibit => "Permission denied",
            RouteType.Blackhole => "Invalid argument",
            _ => null,
        };
        if (err is not null)
        {
            _out.WriteError($"RTNETLINK answers: {err}");
            return ExitKernel;
        }
        var r = route!;
        var src = r.PreferredSource ?? _host.Ipv4.SelectSourceAddress(r.Device, dst);
        var line = new StringBuilder();
        string flags = "";
        // No "table local": until the first policy rule Linux keeps the local table merged into main
        // (fib_unmerge() splits them), so the answer's RTA_TABLE is main and iproute2 leaves it out.
        switch (r.Type)
        {
            case RouteType.Local:
                line.Append($"local {dst} dev lo ");
                flags = "<local> ";
                break;
            case RouteType.Broadcast:
                line.Append($"broadcast {dst} dev {r.Device!.Name} ");
                flags = "<local,brd> ";
                break;
            default:
                line.Append(dst).Append(' ');
                if (r.Gateway is { } gw) line.Append("via ").Append(gw).Append(' ');
                line.Append("dev ").Append(r.Device!.Name).Append(' ');
                break;
        }
        line.Append("src ").Append(src).Append(" uid 0 ");
        _out.WriteLine(line.ToString());

        var cache = new StringBuilder("    cache ").Append(flags);
        if (r.Type == RouteType.Unicast && _host.Ipv4.PmtuCache.TryGetValue(dst.Value, out var pmtu)
            && pmtu.ExpiresNs > ctx.Now.Nanoseconds)
        {
            // rta_expires is in USER_HZ ticks; iproute2 divides by hz.
            long centiseconds = (pmtu.ExpiresNs - ctx.Now.Nanoseconds) / 10_000_000;
            cache.Append("expires ").Append(centiseconds / 100).Append("sec mtu ").Append(Math.Min(pmtu.Mtu, r.Mtu != 0 ? r.Mtu : pmtu.Mtu)).Append(' ');
        }
        else if (r.Mtu != 0) cache.Append("mtu ").Append(r.Mtu).Append(' ');
        _out.WriteLine(cache.ToString());
        return 0;
    }
}
