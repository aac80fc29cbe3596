using System.Text;
using NetLab.Core.Addressing;
using NetLab.Stack.Link;
using NetLab.Stack.Neighbour;

namespace NetLab.Tools.Ip;

/// <summary>ip neighbour: show, add, replace, del, flush (ipneigh.c: print_neigh(), ipneigh_modify(), do_show_or_flush()).</summary>
internal sealed partial class IpRun
{
    private int DoNeigh(List<string> args)
    {
        if (args.Count == 0 || Matches(args[0], "show") || Matches(args[0], "list") || Matches(args[0], "lst"))
            return ShowOrFlushNeighbours(args.Skip(args.Count == 0 ? 0 : 1).ToList(), flush: false);
        if (Matches(args[0], "flush")) return ShowOrFlushNeighbours(args.Skip(1).ToList(), flush: true);
        if (Matches(args[0], "add")) return ModifyNeighbour(args.Skip(1).ToList(), replace: false, delete: false);
        if (Matches(args[0], "replace")) return ModifyNeighbour(args.Skip(1).ToList(), replace: true, delete: false);
        if (Matches(args[0], "delete")) return ModifyNeighbour(args.Skip(1).ToList(), replace: false, delete: true);
        _out.WriteError($"Command \"{args[0]}\" is unknown, try \"ip neigh help\".");
        return ExitUsage;
    }

    /// <summary>
    /// do_show_or_flush(): show hides NOARP (and NONE) entries; flush removes all but PERMANENT and
    /// NOARP ones. With dev NAME, lines leave out "dev NAME"; [to] PREFIX keeps the addresses inside it.
    /// </summary>
    private int ShowOrFlushNeighbours(List<string> args, bool flush)
    {
        NetDevice? dev = null;
        Ipv4Prefix? to = null;
        bool any = false;
        for (int i = 0; i < args.Count; i++)
        {
            if (args[i] == "dev")
            {
                if (!NextArg(args, ref i)) return ExitUsage;
                dev = _host.FindDevice(args[i]);
                if (dev is null)
                {
                    _out.WriteError($"Cannot find device \"{args[i]}\"");
                    return 1;
                }
                any = true;
            }
            else if (args[i] == "all") any = true;
            else
            {
                // [to] PREFIX: only addresses inside it (an address alone is a /32); get_prefix() exits 1.
                if (args[i] == "to" && !NextArg(args, ref i)) return ExitUsage;
                if (!TryGetPrefix(args[i], Family, out var p)) return 1;
                to = p;
                any = true;
            }
        }
        if (flush && !any)
        {
            _out.WriteError("Flush requires arguments.");
            return 1;
        }
        var hidden = flush ? NudState.Permanent | NudState.NoArp : NudState.NoArp;
        var entries = _host.Neighbours.Entries
            .Where(n => n.State != NudState.None && (n.State & hidden) == 0 && (dev is null || n.Device == dev)
                && (to is not { } prefix || prefix.Contains(n.Address)))
            .OrderBy(n => n.Device.IfIndex).ThenBy(n => n.Address.Value)
            .ToList();
        foreach (var n in entries)
        {
            if (flush) _host.Neighbours.Delete(n.Device, n.Address);
            else _out.WriteLine(FormatNeighbour(n, showDevice: dev is null));
        }
        return 0;
    }

    /// <summary>print_neigh(): lladdr only while the entry is NUD_VALID; each field followed by a space.</summary>
    private static string FormatNeighbour(NeighbourEntry n, bool showDevice)
    {
        var sb = new StringBuilder().Append(n.Address).Append(' ');
        if (showDevice) sb.Append("dev ").Append(n.Device.Name).Append(' ');
        if ((n.State & NudState.Valid) != 0) sb.Append("lladdr ").Append(n.LinkAddress).Append(' ');
        sb.Append(n.StateName).Append(' ');
        return sb.ToString();
    }

    /// <summary>ip neigh add|replace ADDR lladdr MAC dev NAME [nud STATE]; ip neigh del ADDR dev NAME.</summary>
    private int ModifyNeighbour(List<string> args, bool replace, bool delete)
    {
        Ipv4Address? address = null;
        MacAddress? lladdr = null;
        string? devName = null;
        var state = NudState.Permanent;
        for (int i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "lladdr":
                    if (!NextArg(args, ref i)) return ExitUsage;
                    if (!MacAddress.TryParse(args[i], out var mac))
                    {
                        _out.WriteError($"\"{args[i]}\" is invalid lladdr.");
                        return ExitUsage;
                    }
                    lladdr = mac;
                    break;
                case "dev":
                    if (!NextArg(args, ref i)) return ExitUsage;
                    devName = args[i];
                    break;
                case "nud":
                    if (!NextArg(args, ref i)) return ExitUsage;
                    NudState? nud = args[i] switch
                    {
                        "permanent" => NudState.Permanent,
                        "reachable" => NudState.Reachable,
                        "stale" => NudState.Stale,
                        "noarp" => NudState.NoArp,
                        "delay" => NudState.Delay,
                        "probe" => NudState.Probe,
                        _ => null,
                    };
                    if (nud is null)
                    {
                        _out.WriteError($"Error: argument \"{args[i]}\" is wrong: nud state is bad");
                        return ExitUsage;
                    }
                    state = nud.Value;
                    break;
                default:
                    if (args[i] == "to" && !NextArg(args, ref i)) return ExitUsage;
                    if (address is not null)
                    {
                        _out.WriteError($"Error: either \"to\" is duplicate, or \"{args[i]}\" is a garbage.");
                        return ExitUsage;
                    }
                    if (!TryGetAddress(args[i], Family, out var a)) return 1;
                    address = a;
                    break;
            }
        }
        if (devName is null || address is null)
        {
            _out.WriteError("Device and destination are required arguments.");
            return ExitUsage;
        }
        var dev = FindDevice(devName, out int status);
        if (dev is null) return status;
        var ip = address.Value;
        if (delete)
        {
            if (_host.Neighbours.Delete(dev, ip)) return 0;
            _out.WriteError("RTNETLINK answers: No such file or directory");
            return ExitKernel;
        }
        // NLM_F_EXCL for add: an existing entry (other than an unused NONE one) is EEXIST.
        if (!replace && _host.Neighbours.Lookup(dev, ip) is { State: not NudState.None })
        {
            _out.WriteError("RTNETLINK answers: File exists");
            return ExitKernel;
        }
        if (lladdr is null && state != NudState.NoArp)
        {
            _out.WriteError("RTNETLINK answers: Invalid argument");
            return ExitKernel;
        }
        _host.Neighbours.SetStatic(dev, ip, lladdr ?? MacAddress.Zero, state);
        return 0;
    }
}
