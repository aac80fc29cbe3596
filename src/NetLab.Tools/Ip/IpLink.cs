using System.Text;
using NetLab.Core.Addressing;
using NetLab.Stack.Link;

namespace NetLab.Tools.Ip;

/// <summary>ip link and ip address: print_linkinfo(), print_addrinfo(), print_stats64(), do_set().</summary>
internal sealed partial class IpRun
{
    private const int EthMinMtu = 68; // ETH_MIN_MTU

    private int DoLink(List<string> args)
    {
        if (args.Count == 0 || Matches(args[0], "show") || Matches(args[0], "list") || Matches(args[0], "lst"))
            return ShowLinks(args.Skip(1).ToList(), withAddresses: false);
        if (Matches(args[0], "set")) return SetLink(args.Skip(1).ToList());
        _out.WriteError($"Command \"{args[0]}\" is unknown, try \"ip link help\".");
        return ExitUsage;
    }

    private int DoAddress(List<string> args)
    {
        if (args.Count == 0 || Matches(args[0], "show") || Matches(args[0], "list") || Matches(args[0], "lst"))
            return ShowLinks(args.Skip(1).ToList(), withAddresses: true);
        if (Matches(args[0], "add")) return ModifyAddress(args.Skip(1).ToList(), add: true);
        if (Matches(args[0], "delete")) return ModifyAddress(args.Skip(1).ToList(), add: false);
        _out.WriteError($"Command \"{args[0]}\" is unknown, try \"ip address help\".");
        return ExitUsage;
    }

    /// <summary>ip link show / ip address show [dev] NAME [up].</summary>
    private int ShowLinks(List<string> args, bool withAddresses)
    {
        string? name = null;
        bool upOnly = false;
        for (int i = 0; i < args.Count; i++)
        {
            if (args[i] == "dev") { if (!NextArg(args, ref i)) return ExitUsage; name = args[i]; }
            else if (args[i] == "up") upOnly = true;
            else name = args[i];
        }
        var devices = _host.Devices.AsEnumerable();
        if (name is not null)
        {
            var dev = _host.FindDevice(name);
            if (dev is null)
            {
                _out.WriteError($"Device \"{name}\" does not exist.");
                return 1;
            }
            devices = [dev];
        }
        foreach (var dev in devices)
        {
            if (upOnly && !dev.IsUp) continue;
            var addresses = _host.Ipv4.Addresses.Where(a => a.Device == dev).ToList();
            // With a family filter, ip addr leaves out links that have no address of it.
            if (withAddresses && _inetOnly && addresses.Count == 0) continue;
            // print_linkinfo() prints the link/ether line only without a family filter (or for -0).
            PrintLink(dev, linkMode: !withAddresses, linkLayer: !(withAddresses && _inetOnly));
            if (withAddresses)
            {
                foreach (var a in addresses)
                {
                    var line = new StringBuilder($"    inet {a.Local}/{a.Prefix.Length} ");
                    if (a.BroadcastAddress is { } brd) line.Append("brd ").Append(brd).Append(' ');
                    line.Append("scope ").Append(ScopeName(a.Scope)).Append(' ');
                    if (a.Secondary) line.Append("secondary ");
                    line.Append(a.Label);
                    _out.WriteLine(line.ToString());
                    _out.WriteLine("       valid_lft forever preferred_lft forever");
                }
            }
        }
        return 0;
    }

    private void PrintLink(NetDevice dev, bool linkMode, bool linkLayer = true)
    {
        // The root qdisc: lo keeps noqueue; a device that is down shows noop, an up one pfifo_fast.
        var qdisc = dev.IsLoopback ? "noqueue" : dev.IsUp ? "pfifo_fast" : "noop";
        _out.WriteLine($"{dev.IfIndex}: {dev.Name}: <{LinkFlags(dev)}> mtu {dev.Mtu} qdisc {qdisc} state {dev.OperState} "
            + (linkMode ? "mode DEFAULT " : "") + $"group default qlen {dev.TxQueueLen}");
        if (linkLayer)
        {
            _out.WriteLine(dev.IsLoopback
                ? "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00"
                : $"    link/ether {dev.Mac} brd ff:ff:ff:ff:ff:ff");
        }
        if (linkMode && _showStats > 0) PrintStats(dev.Stats);
    }

    /// <summary>print_link_flags(): NO-CARRIER first when up without carrier, then the IFF_* names in their order.</summary>
    private static string LinkFlags(NetDevice dev)
    {
        bool running = dev.IsUp && (dev.IsLoopback || dev.HasCarrier);
        var f = new List<string>();
        if (dev.IsUp && !running) f.Add("NO-CARRIER");
        if ((dev.Flags & DeviceFlags.Loopback) != 0) f.Add("LOOPBACK");
        if ((dev.Flags & DeviceFlags.Broadcast) != 0) f.Add("BROADCAST");
        if ((dev.Flags & DeviceFlags.PointToPoint) != 0) f.Add("POINTOPOINT");
        if ((dev.Flags & DeviceFlags.Multicast) != 0) f.Add("MULTICAST");
        if ((dev.Flags & DeviceFlags.NoArp) != 0) f.Add("NOARP");
        if ((dev.Flags & DeviceFlags.Promisc) != 0) f.Add("PROMISC");
        if (dev.IsUp) f.Add("UP");
        if (running && dev.HasCarrier) f.Add("LOWER_UP");
        return string.Join(',', f);
    }

    /// <summary>print_stats64(): columns sized to the widest number (size_columns), right-aligned.</summary>
    private void PrintStats(DeviceStats s)
    {
        int[] cols = ["*X errors:".Length, "packets".Length, "errors".Length, "dropped".Length, "heartbt".Length, "overrun".Length, "compressed".Length];
        long[] rx = [s.RxBytes, s.RxPackets, s.RxErrors, s.RxDropped, s.RxMissedErrors, s.Multicast];
        long[] tx = [s.TxBytes, s.TxPackets, s.TxErrors, s.TxDropped, s.TxCarrierErrors, s.Collisions];
        SizeColumns(cols, rx);
        SizeColumns(cols, tx);
        _out.WriteLine($"    RX: {"bytes".PadLeft(cols[0] - 4)} {"packets".PadLeft(cols[1])} {"errors".PadLeft(cols[2])} "
            + $"{"dropped".PadLeft(cols[3])} {"missed".PadLeft(cols[4])} {"mcast".PadLeft(cols[5])} {"".PadLeft(cols[6])}");
        _out.WriteLine("    " + string.Concat(rx.Select((v, i) => v.ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(cols[i]) + " ")));
        _out.WriteLine($"    TX: {"bytes".PadLeft(cols[0] - 4)} {"packets".PadLeft(cols[1])} {"errors".PadLeft(cols[2])} "
            + $"{"dropped".PadLeft(cols[3])} {"carrier".PadLeft(cols[4])} {"collsns".PadLeft(cols[5])} {"".PadLeft(cols[6])}");
        _out.WriteLine("    " + string.Concat(tx.Select((v, i) => v.ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(cols[i]) + " ")));
    }

    /// <summary>size_columns(), including its count of 10^n as n digits.</summary>
    private static void SizeColumns(int[] cols, long[] values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            int len = 1;
            for (long powi = 10; powi < values[i]; powi *= 10) len++;
            if (len > cols[i]) cols[i] = len;
        }
    }

    /// <summary>ip link set [dev] NAME up|down|mtu N.</summary>
    private int SetLink(List<string> args)
    {
        string? name = null;
        bool? up = null;
        int? mtu = null;
        for (int i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "dev":
                    if (!NextArg(args, ref i)) return ExitUsage;
                    name = args[i];
                    break;
                case "up": up = true; break;
                case "down": up = false; break;
                case "mtu":
                    if (!NextArg(args, ref i)) return ExitUsage;
                    if (!int.TryParse(args[i], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var m))
                    {
                        _out.WriteError($"Error: argument \"{args[i]}\" is wrong: Invalid \"mtu\" value");
                        _out.WriteError(""); // invarg()'s message ends in "\n" and it adds another
                        return ExitUsage;
                    }
                    mtu = m;
                    break;
                default:
                    if (name is null) name = args[i];
                    else
                    {
                        _out.WriteError($"Error: either \"dev\" is duplicate, or \"{args[i]}\" is a garbage.");
                        return ExitUsage;
                    }
                    break;
            }
        }
        if (name is null)
        {
            _out.WriteError("Not enough information: \"dev\" argument is required.");
            return ExitUsage;
        }
        var dev = FindDevice(name, out int status);
        if (dev is null) return status;
        if (mtu is { } newMtu)
        {
            // dev_validate_mtu()
            if (newMtu > dev.MaxMtu)
            {
                _out.WriteError("Error: mtu greater than device maximum.");
                return ExitKernel;
            }
            if (newMtu < EthMinMtu)
            {
                _out.WriteError("Error: mtu less than device minimum.");
                return ExitKernel;
            }
            dev.Mtu = newMtu;
        }
        if (up is { } u) dev.SetUp(u);
        return 0;
    }

    /// <summary>ip address add|del PREFIX dev NAME [brd +|ADDR] (ipaddr_modify()).</summary>
    private int ModifyAddress(List<string> args, bool add)
    {
        string? name = null, brd = null;
        Ipv4Prefix? prefix = null;
        for (int i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "dev":
                    if (!NextArg(args, ref i)) return ExitUsage;
                    name = args[i];
                    break;
                case "brd" or "broadcast":
                    if (!NextArg(args, ref i)) return ExitUsage;
                    brd = args[i];
                    break;
                default:
                    var word = args[i];
                    if (word == "local")
                    {
                        if (!NextArg(args, ref i)) return ExitUsage;
                        word = args[i];
                    }
                    if (prefix is not null)
                    {
                        _out.WriteError($"Error: either \"local\" is duplicate, or \"{word}\" is a garbage.");
                        return ExitUsage;
                    }
                    if (!TryGetPrefix(word, Family, out var parsed)) return 1;
                    prefix = parsed;
                    break;
            }
        }
        if (name is null)
        {
            _out.WriteError("Not enough information: \"dev\" argument is required.");
            return 1;
        }
        var dev = FindDevice(name, out int status);
        if (dev is null) return status;
        if (prefix is not { } p)
        {
            // No IFA_LOCAL: the kernel refuses the request.
            _out.WriteError("RTNETLINK answers: Operation not supported");
            return ExitKernel;
        }
        // brd + asks for the subnet broadcast; an explicit address must be that one (NetLab keeps no other).
        bool withBroadcast = brd == "+";
        if (brd is not (null or "+" or "-"))
        {
            if (!TryGetAddress(brd, Family, out var address)) return 1;
            if (address != p.Broadcast)
            {
                _out.WriteError("Error: NetLab supports only the subnet broadcast (brd +).");
                return ExitUsage;
            }
            withBroadcast = true;
        }
        if (!add)
        {
            if (_host.Ipv4.RemoveAddress(dev, p.Address)) return 0;
            _out.WriteError("Error: ipv4: Address not found."); // inet_rtm_deladdr()'s extack
            return ExitKernel;
        }
        try
        {
            _host.Ipv4.AddAddress(dev, p, withBroadcast: withBroadcast);
            return 0;
        }
        catch (ArgumentException e)
        {
            _out.WriteError(e.Message);
            return ExitKernel;
        }
    }
}
